"""make bench-convergence [HOURS=1]: the long runs (aecrypt.runs.longrun) — the paper's named combinations and
their nearest rivals trained for the paper's optimizer-step budget at the default's image size — for at most
HOURS of wall time, resuming where the last call stopped. Hours of CPU on 2 cores in all: run it in several
sittings. Prints where every long run stands and writes results/<profile>/convergence.json (what the book's
Results vs. paper page reads: final and best checkpoints, the convergence projection's errors, wall and CPU
time, the machine). Exits 1, saying why, when a run fails (what earlier runs finished is kept)."""

from __future__ import annotations

import argparse
import fcntl
import math
import sys
import time

from aecrypt import AecryptError, UsageError, paths, runtime
from aecrypt.budget import PAPER_STEPS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0, help="wall-time cap of this call, in hours (default 1)")
    parser.add_argument("--only", default="", help="one combination's long runs, e.g. MSLE+Adam+ReLU+2")
    parser.add_argument("--steps", type=int, default=PAPER_STEPS, help=f"steps per run (default {PAPER_STEPS:,})")
    parser.add_argument("--results", default=None, help="results folder (default: results/)")
    args = parser.parse_args(argv)
    if not (args.hours > 0 and math.isfinite(args.hours)):
        print(f"bench-convergence: HOURS must be a positive number of hours, got {args.hours}", file=sys.stderr)
        return 2
    runtime.configure(threads=None)
    from pathlib import Path

    from aecrypt.runs import longrun

    try:
        runs = longrun.planned(args.only)
    except UsageError as e:
        print(f"bench-convergence: {e}", file=sys.stderr)
        return 2
    root = Path(args.results) if args.results else None
    lock_path = paths.convergence_json(longrun.PROFILE, root).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path.open("w")
    try:  # two calls at once would train the same run twice and overwrite each other's checkpoints
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"bench-convergence: another call is training the long runs ({lock_path} is locked)", file=sys.stderr)
        return 1
    deadline = time.time() + args.hours * 3600
    try:
        for run in runs:
            if time.time() > deadline:
                break
            state = longrun.train(run, deadline, root, steps=args.steps)
            longrun.write_record(root)  # after every run: the book reads what has finished so far
            done = " (done)" if state.get("done") else ""
            print(
                f"{run.label} seed {run.seed}: step {state['step']:,} of {args.steps:,}{done} · "
                f"{state['wall_s']:.0f} s wall, {state['cpu_s']:.0f} s CPU",
                flush=True,
            )
    except (AecryptError, UsageError) as e:
        print(f"bench-convergence: {e}", file=sys.stderr)
        longrun.write_record(root)
        return 1
    path = longrun.write_record(root)
    frame = longrun.record(root)
    print(frame.to_string(index=False))
    print(f"record: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
