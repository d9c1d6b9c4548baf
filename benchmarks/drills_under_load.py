"""How often one fault drill fails when the CPUs are busy: the drill (default: the broker restarted mid-stream)
repeated N times on a trained run of a profile while as many busy processes as there are cores (default twice)
compete with it, and the failure rate with its exact (Clopper-Pearson) 95 % interval. The drills in `make test`
run once each on a quiet machine; a race that loses one drill in a hundred there shows up here. Bounded: N at
most 500, each burner stops by itself after the time the drills can take.

    .venv/bin/python benchmarks/drills_under_load.py --profile tiny [--results DIR] [-n 40] [--burners K]
                                                     [--drill broker_restart] [--broker embedded]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from aecrypt import paths, runtime
from aecrypt.link import brokers, crashes, faults, keys
from aecrypt.runs import trained

DRILLS = {drill.__name__: drill for drill in crashes.DRILLS}
MAX_DRILLS = 500
#: what one drill may take at most (its stream timeout and waits), for the burners' own deadline
DRILL_BOUND_S = faults.STREAM_TIMEOUT_S + 30
BURN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass\n"


def _count(text: str) -> int:
    n = int(text)
    if not 1 <= n <= MAX_DRILLS:
        raise argparse.ArgumentTypeError(f"{n} drills: give 1 to {MAX_DRILLS}")
    return n


def _ends(profile: str, root: Path, key_folder: Path) -> faults.Ends:
    table = trained.list_runs(profile, root)
    table = table[table["models"]] if len(table) else table
    if table.empty:
        raise SystemExit(f"no run with saved models in profile {profile!r}: run `make book PROFILE={profile}` first")
    run = trained.TrainedRun.load(paths.runs_dir(profile, root) / table["run_id"].iloc[0])
    key = keys.generate(key_folder / "load.key")
    images = np.random.default_rng(0).random((6, run.size, run.size), dtype=np.float32)
    return faults.Ends(run, key, images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--results", help="results folder (default: results/)")
    parser.add_argument("-n", type=_count, default=40, help=f"how many drills (1 to {MAX_DRILLS}; default 40)")
    parser.add_argument("--burners", type=int, help="busy processes beside the drills (default: twice the cores)")
    parser.add_argument("--drill", choices=sorted(DRILLS), default="broker_restart")
    parser.add_argument("--broker", choices=sorted(brokers.BROKERS), default="embedded")
    args = parser.parse_args()
    if args.broker == "mosquitto" and brokers.mosquitto_binary() is None:
        parser.error("--broker mosquitto: mosquitto is not installed (apt install mosquitto)")
    root = Path(args.results) if args.results else paths.results_root()
    with tempfile.TemporaryDirectory(prefix="aecrypt-load-") as key_folder:  # the key goes when the count ends
        _measure(args, _ends(args.profile, root, Path(key_folder)))


def _measure(args: argparse.Namespace, ends: faults.Ends) -> None:
    burners = 2 * (os.cpu_count() or 1) if args.burners is None else max(0, args.burners)
    drill = DRILLS[args.drill]
    deadline_s = str(args.n * DRILL_BOUND_S)
    load = [subprocess.Popen([sys.executable, "-c", BURN, deadline_s]) for _ in range(burners)]
    failures, seconds = [], []
    try:
        for i in range(args.n):
            began = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="aecrypt-drill-") as out:
                try:
                    outcome = "passed" if drill(ends, args.broker, Path(out)).passed else "did not pass"
                except Exception as exc:  # a drill that raises is a failure to count, not the end of the count
                    outcome = f"raised {type(exc).__name__}: {exc}"
            seconds.append(time.perf_counter() - began)
            if outcome != "passed":
                failures.append(outcome)
            print(f"{i + 1:4}/{args.n} {outcome} in {seconds[-1]:.1f} s", flush=True)
    finally:
        for proc in load:
            proc.kill()
            proc.wait()
    low, high = proportion_confint(len(failures), args.n, method="beta")
    print(
        f"{args.drill} ({args.broker}) beside {burners} busy processes on {runtime.cpu_line(runtime.cpu_info())}: "
        f"{len(failures)}/{args.n} failed (95 % interval {low:.1%} to {high:.1%}); "
        f"median {statistics.median(seconds):.1f} s, longest {max(seconds):.1f} s"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
