"""`make bench-verdicts`: the claim tests' calibration table on a build's own noise. Every rule decides on
simulated builds whose truth is known (`aecrypt.stats.scenarios`, counted by `aecrypt.stats.calibration`): its
false-verdict rate where the truth contradicts a verdict (with a 99 % upper bound) and its power where a verdict is
right, at several designs (training seeds × test images) and kinds of noise. The noise is the build's (each
combination's seed spreads, how its test images' variation is shared, its losses' spread:
`stats.simulate.NoiseModel.measured`); where the build cannot measure it (one seed, no per-image values), the
default build's. The kinds (`NOISE`):

* *as this build decides*: its runs that did not train, in the same share, and its convergence gate;
* *trained*: every run trains and no gate holds a verdict back (the rules themselves, as at the paper's budget);
* *V3*: 15 % of Adagrad and SGD runs not trained (left out by the gate, true means unchanged);
* *V2*: heavy-tailed seed and image noise (Student t, 3 degrees of freedom).

Writes results/<profile>/verdicts.json for the book.

    make bench-verdicts [PROFILE=default]        # 7 designs × 200 builds per row (~15 minutes on 2 cores)
    python benchmarks/verdicts.py --book         # make book's quick one: the build's design, 40 builds per row
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import stamp

from aecrypt import UsageError, paths, runtime
from aecrypt.book.pages import budget
from aecrypt.runs.results import Results
from aecrypt.stats import calibration, scenarios
from aecrypt.stats.components import Build
from aecrypt.stats.simulate import NoiseModel

FULL_REPLICATES, BOOK_REPLICATES = 200, 40
AS_BUILT, TRAINED, V3, V2 = (
    "as this build decides",
    "trained",
    "V3: 15 % of Adagrad and SGD runs not trained",
    ("V2: heavy tails (t, 3 df)"),
)
#: How each kind of noise changes the build's own.
NOISE = {
    AS_BUILT: lambda m: m,
    TRAINED: lambda m: replace(m, collapse={}, projected={}, unbounded=False),
    V3: lambda m: replace(m, projected={}, unbounded=False).collapsing(0.15),
    V2: lambda m: replace(m, collapse={}, projected={}, unbounded=False, tail_df=3.0),
}
#: (noise, training seeds, test images; None: the build's): as built, then the rules trained at the build's
#: design, more seeds, a smaller test split (about the real profile's 380), and the two stresses.
FULL_DESIGNS = (
    (AS_BUILT, None, None),
    (TRAINED, None, None),
    (TRAINED, 10, None),
    (TRAINED, None, 400),
    (TRAINED, 10, 400),
    (V3, None, None),
    (V2, None, None),
)
BOOK_DESIGNS = ((AS_BUILT, None, None), (TRAINED, None, None))
DEFAULT_SOURCE = (
    "the default build's noise (aecrypt.stats.simulate.MEASURED_DEFAULT): this build cannot measure its own"
)


def noise(results: Results) -> tuple[NoiseModel, str]:
    """The build's own noise where it can be measured (two or more seeds of every combination, the same test
    images saved by every run), else the default build's; with the build's convergence gate where it has one."""
    try:
        build = Build.from_results(results)
    except (UsageError, FileNotFoundError):  # no build yet: the default build's noise
        build = Build([])
    seeds = [len(build.of(label)) for label in build.labels]
    if len(seeds) >= 2 and min(seeds) >= 2 and build.paired_images:
        gate = budget.gate(results)
        model = replace(NoiseModel.measured(build), projected=gate.projected, unbounded=gate.unbounded)
        return model, f"this build's own noise ({results.profile}, {min(seeds)} seeds)"
    return NoiseModel.default(), DEFAULT_SOURCE


def _job(args) -> list[dict]:
    kind, model, replicates, seeds, truth = args
    chosen = [s for s in scenarios.scenarios(model) if s.truth == truth]
    return [row | {"noise": kind} for row in calibration.rows(model, replicates, seeds, chosen)]


def _design_of(row: dict, model: NoiseModel) -> tuple:
    seeds = None if row["seeds"] == model.seeds else row["seeds"]
    n_test = None if row["test images"] == model.n_test else row["test images"]
    return row["noise"], seeds, n_test


def _json_row(row: dict) -> dict:
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", help="results folder (default: results/)")
    parser.add_argument("--book", action="store_true", help="make book's quick table, only where none is current")
    parser.add_argument(
        "--replicates", type=int, help=f"builds per row (default {FULL_REPLICATES}; --book {BOOK_REPLICATES})"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    results = Results(args.profile, Path(args.results).resolve() if args.results else paths.results_root())
    model, source = noise(results)
    record_key = stamp.key(("verdicts.py", "stamp.py"), json.dumps(asdict(model), sort_keys=True, default=str))
    out = paths.verdicts_json(args.profile, results.root)
    if args.book and stamp.up_to_date(out, record_key):
        print(f"verdicts: up to date ({out})")
        return
    replicates = args.replicates or (BOOK_REPLICATES if args.book else FULL_REPLICATES)
    designs = BOOK_DESIGNS if args.book else FULL_DESIGNS
    jobs = []
    for kind, seeds, n_test in designs:
        design = NOISE[kind](model if n_test is None else model.with_design(n_test=n_test))
        truths = dict.fromkeys(s.truth for s in scenarios.scenarios(design))
        jobs += [(kind, design, replicates, seeds, truth) for truth in truths]
    began = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        rows = [_json_row(row) for part in pool.map(_job, jobs) for row in part]
    order = {(s.rule, s.truth): i for i, s in enumerate(scenarios.scenarios(model))}
    kinds = {d: i for i, d in enumerate(designs)}
    rows.sort(key=lambda r: (kinds[_design_of(r, model)], order.get((r["rule"], r["truth"]), 0)))
    record = {
        "version": 2,
        "profile": args.profile,
        "quick": args.book,
        "key": record_key,
        "noise": source,
        "model": asdict(model),
        "replicates": replicates,
        "allowed": calibration.allowed(replicates),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - began, 1),
        "cpu": runtime.cpu_info(),
        "rows": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record))
    print(f"verdicts: {out} ({'quick: ' if args.book else ''}{len(rows)} rows, {record['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
