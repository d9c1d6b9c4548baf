"""`make bench-stages`: where a run's time goes as the sweep runs it — one thread per worker, as many workers as
cores, each worker's runs in its warm kernel — per stage and per depth, the autoencoder's optimizer steps per
core-second and the share of that time that is arithmetic (the training FLOP, `paper.cost`, over one thread's
fp32 GEMM peak). The same runs are timed side by side in one invocation in each variant asked for:

    make bench-stages                               # warm kernels (the sweep's way) and a fresh kernel per run
    python benchmarks/stages.py --source OLD        # also another checkout's code (`git worktree add OLD REV`,
                                                    # then `make setup` in OLD: each checkout runs in its own venv)
    make bench-stages ISA=AVX2                      # as on a CPU without AVX-512

Each variant sweeps the same small grid (MSE+Adam at depths 2, 3 and 5, MSLE+RMSprop at 2 and 3, one seed, and
its baseline) at the default profile into a scratch results folder. Writes results/stages.json and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
GRID = """name: stages
extra:
  - {loss: mse, optimizer: adam, depth: 5, activation: relu}
  - {loss: mse, optimizer: adam, depth: 3, activation: relu}
  - {loss: msle, optimizer: rmsprop, depth: 3, activation: relu}
  - {loss: mse, optimizer: adam, depth: 2, activation: relu}
  - {loss: msle, optimizer: rmsprop, depth: 2, activation: relu}
"""
STAGES = ("startup", "data", "autoencoder", "retrieve", "classifier", "metrics")


def peak_one_thread() -> float:
    """fp32 GEMM GFLOP/s on one thread, through the backend the runs use (benchmarks/measure.py)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), "peak", "--threads", "1", "--n", "1024"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["gflops"])


def sweep(variant: str, source: str | None, profile: str, workers: int, scratch: Path) -> tuple[float, pd.DataFrame]:
    """Sweep the grid in `scratch` with this variant's code and kernels; the wall seconds and the runs' table."""
    results = scratch / variant.replace("/", "_") / "results"
    grid = scratch / "stages.yaml"
    grid.write_text(GRID)
    env = dict(os.environ, AECRYPT_RESULTS=str(results))
    if variant == "fresh kernels":
        env["AECRYPT_FRESH_KERNELS"] = "1"
    python = sys.executable
    if source:  # that checkout's own environment: an editable install here would import this checkout's code
        python = str(Path(source).resolve() / ".venv" / "bin" / "python")
        if not Path(python).is_file():
            raise SystemExit(f"{source} has no .venv: run `make setup` there first")
    sweep_args = ["sweep", "--profile", profile, "--grid", str(grid), "--seeds", "1", "--workers", str(workers)]
    command = [python, "-m", "aecrypt", *sweep_args, "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=source or HERE.parent)
    wall = time.perf_counter() - started
    return wall, runs_table(results, profile)


def runs_table(results: Path, profile: str) -> pd.DataFrame:
    """A build's finished runs with their stage clocks and the autoencoder's epochs, and its baselines (depth 0)."""
    from aecrypt.runs.table import collect

    runs = collect(profile, results)
    runs = runs[runs["status"] == "ok"].copy()
    epochs = [_epochs(results / profile / "runs" / rid) for rid in runs["run_id"]]
    runs["ae_first_epoch"], runs["ae_epoch"], runs["ae_epochs"] = zip(*epochs, strict=True)
    metrics = [json.loads(p.read_text()) for p in sorted((results / profile / "runs").glob("*/metrics.json"))]
    base = [m for m in metrics if "ae_steps" not in m]
    rows = [dict(r) for _, r in runs.iterrows()]
    rows += [b | {"depth": 0, "label": "baseline"} for b in base]
    return pd.DataFrame(rows)


def _epochs(folder: Path) -> tuple[float, float, int]:
    """The autoencoder's first epoch in seconds (it traces the training step), the median of the others, and how
    many epochs it trained."""
    history = folder / "history.csv"
    seconds = pd.read_csv(history).query("model == 'autoencoder'")["seconds"] if history.is_file() else pd.Series()
    if len(seconds) < 2:
        return float("nan"), float("nan"), len(seconds)
    return float(seconds.iloc[0]), float(seconds.iloc[1:].median()), len(seconds)


def stage_rows(variant: str, runs: pd.DataFrame, peak: float) -> list[dict]:
    """Median seconds per stage for each depth (0: the baseline), and the autoencoder's arithmetic."""
    from aecrypt.paper import cost

    rows = []
    for depth, group in runs.groupby("depth"):
        row = {"variant": variant, "depth": int(depth) or "baseline", "runs": len(group)}
        for stage in STAGES:
            column = f"seconds_{stage}"
            row[stage] = round(float(group[column].median()), 2) if column in group else None
        known = sum(group.get(f"seconds_{s}", 0) for s in STAGES)
        run_seconds = group["run_seconds"] if "run_seconds" in group else group["total_seconds"]
        row["files and hand-back"] = round(float((run_seconds - known).median()), 2) if "run_seconds" in group else None
        row["run"] = round(float(run_seconds.median()), 2)
        if depth:
            seconds = group["ae_seconds"]
            size = int(group["image_elements"].iloc[0] ** 0.5)
            flops = cost.train_flops(size, int(depth), 1) * group["ae_images_seen"]
            row["ae steps per core-second"] = round(float((group["ae_steps"] / seconds).median()), 2)
            row["arithmetic share"] = round(float((flops / seconds / 1e9 / peak).median()), 2)
            # what aecrypt.runs.sizing scales to other designs: the trace, an epoch, the images retrieved
            row["ae first epoch"] = round(float(group["ae_first_epoch"].median()), 3)
            row["ae epoch"] = round(float(group["ae_epoch"].median()), 3)
            row["ae steps per epoch"] = int(round(float((group["ae_steps"] / group["ae_epochs"]).median())))
            row["images retrieved"] = int((group["n_train"] + group["n_val"] + group["n_test"]).median())
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--source", help="also time another checkout's code (its folder)")
    parser.add_argument("--variants", default="warm kernels,fresh kernels", help="comma-separated")
    args = parser.parse_args()
    from aecrypt import paths, runtime
    from aecrypt.profiles import get_profile

    variants = [(v.strip(), None) for v in args.variants.split(",") if v.strip()]
    if args.source:  # named by its commit, as a reader of the record can look it up
        rev = subprocess.run(["git", "-C", args.source, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        variants.append((f"code at {rev.stdout.strip() or args.source}", args.source))
    peak = peak_one_thread()
    rows, walls = [], {}
    with tempfile.TemporaryDirectory(prefix="aecrypt-stages-") as scratch:
        for variant, source in variants:
            wall, runs = sweep(variant, source, args.profile, args.workers, Path(scratch))
            walls[variant] = round(wall, 1)
            rows += stage_rows(variant, runs, peak)
    record = {
        "cpu": runtime.cpu_info(),
        "workers": args.workers,
        "profile": args.profile,
        "peak_one_thread_gflops": round(peak, 1),
        "sweep_seconds": walls,
        # the design the stages were measured at, which aecrypt.runs.sizing scales from
        "design": get_profile(args.profile).run_settings(),
        "stages": rows,
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    paths.stages_json().parent.mkdir(parents=True, exist_ok=True)
    paths.stages_json().write_text(json.dumps(record, indent=1))
    print(runtime.cpu_line(record["cpu"]), f"— one thread's fp32 peak {peak:.1f} GFLOP/s")
    print("sweep wall seconds:", walls)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
