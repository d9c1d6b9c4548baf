"""`make bench-size`: what the default profile can afford on this machine. For each candidate design (the
autoencoder's epochs, the training images, the test images, depth 5 at every seed or at one) the sweep's wall
time is predicted (`aecrypt.runs.sizing`) from the last cold build's own runs (`make bench-cold` keeps their
stage costs per depth; `make bench-stages`' six runs where it has none), and the cold `make book` from that plus
the build's set-up and steps around the sweep. The prediction is checked against a cold build's sweep: the
build whose runs gave the costs checks only the schedule; a cold build of another design (`python
benchmarks/coldbook.py --rev REV`, a commit with that design) checks the scaling too. Writes results/sizing.json
(the Performance page's *The default's budget*) and prints the table.

    make bench-cold && make bench-size
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import yaml

EPOCHS = (5, 10, 15, 20, 25, 30)
TRAINING_IMAGES = (192, 384)
TEST_IMAGES = (None, 800, 400)  # None: every image not used to train or validate


def possible_test_sizes(data: str) -> tuple[int | None, ...]:
    """The test splits a design on `data` can have: phantoms are split by counts, any size; X-rays are split by
    patient, and that split takes train and val sizes only (the test split is every other image)."""
    return TEST_IMAGES if data == "synthetic" else (None,)


#: The profile's settings a cold build's design may give (its record also names derived ones: checkpoints).
SETTINGS = {"size", "n_images", "ae_epochs", "clf_epochs", "batch_size", "n_train", "n_val", "n_test"}


def one_seed_depth5(grid_path: Path, out: Path) -> Path:
    """The grid with its depth-5 combinations at training seed 0 only (the trade of depth 5's cost)."""
    grid = yaml.safe_load(grid_path.read_text())
    for entry in grid.get("extra", []):
        if entry.get("depth") == 5 and not {"seed", "seeds"} & set(entry):
            entry["seeds"] = [0]
    out.write_text(yaml.safe_dump(grid, sort_keys=False))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--workers", type=int, default=None, help="parallel runs (default: the sweep's)")
    args = parser.parse_args()
    from aecrypt import UsageError, paths, runtime
    from aecrypt.profiles import get_profile
    from aecrypt.runs import sizing
    from aecrypt.runs.sweep import default_workers

    args.workers = args.workers or default_workers()

    profile = get_profile(args.profile)
    cold = sizing.last_cold_build(args.profile, design=profile.run_settings())  # its check predicts this design
    if cold is None:
        print("bench-size: no cold build of this profile as it is now: run `make bench-cold`", file=sys.stderr)
        return 1
    # the cold build's own sweep (every run of the default) where it has its stage rows, else make bench-stages' six
    try:
        if "stages" in cold:
            costs = sizing.StageCosts.from_record(cold, variant=cold["stages"][0]["variant"])
        else:
            costs = sizing.StageCosts.from_record(json.loads(paths.stages_json().read_text()))
    except (FileNotFoundError, UsageError) as e:
        print(f"bench-size: {e}", file=sys.stderr)
        return 1
    around = cold["around_sweep_s"] + cold["steps"]["setup"]
    grid = paths.GRIDS / profile.default_grid
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        grids = {sizing.EVERY_SEED: grid, sizing.ONE_SEED: one_seed_depth5(grid, Path(tmp) / "grid.yaml")}
        for (d5, g), epochs, n_train, n_test in itertools.product(
            grids.items(), EPOCHS, TRAINING_IMAGES, possible_test_sizes(profile.default_data)
        ):
            design = replace(profile, ae_epochs=epochs, n_train=n_train, n_test=n_test, n_images=None)
            p = sizing.predict(design, g, profile.default_data, costs, args.workers)
            total = around + p.sweep_s
            fits = total <= sizing.COLD_BOOK_TARGET_S
            rows.append(p.as_row() | {"depth 5": d5, "cold book s": round(total), "fits": fits})
        timed = replace(profile, **{k: v for k, v in cold["design"].items() if k in SETTINGS})
        now = sizing.predict(timed, grid, profile.default_data, costs, args.workers)
    table = pd.DataFrame(rows).sort_values(["fits", "steps", "test images"], ascending=[False, False, False])
    record = {
        "cpu": runtime.cpu_line(runtime.cpu_info()),
        "workers": args.workers,
        "target_s": sizing.COLD_BOOK_TARGET_S,
        "cold_build": {k: cold[k] for k in ("commit", "when", "around_sweep_s")} | {"setup_s": cold["steps"]["setup"]},
        "around_s": round(around, 1),
        "costs_from": (
            f"the {sum(r['runs'] for r in cold['stages'])} runs of the cold build of {cold['commit'][:10]}"
            if "stages" in cold
            else "the runs of make bench-stages"
        ),
        "check": {"predicted_sweep_s": round(now.sweep_s), "measured_sweep_s": cold["steps"].get("sweep")},
        "designs": table.to_dict("records"),
    }
    out = paths.sizing_json()
    record["designs"] = table.astype(object).where(table.notna(), None).to_dict("records")
    out.write_text(json.dumps(record, indent=1, allow_nan=False))
    print(f"{record['cpu']}, {args.workers} workers; set-up and steps around the sweep {around:.0f} s", end=" ")
    print(f"(cold build of {cold['commit'][:10]})")
    print(f"check at the design timed: predicted sweep {now.sweep_s:.0f} s, measured {cold['steps'].get('sweep')} s")
    print(table.to_string(index=False))
    print(f"record: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
