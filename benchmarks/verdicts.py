"""`make bench-verdicts`: the claim tests' calibration table on a build's own noise. Every rule decides on
simulated builds whose truth is known (`aecrypt.stats.calibration`): its false-verdict rate where the truth
contradicts a verdict (with a 99 % upper bound) and its power where a verdict is right, at several designs
(training seeds × test images). The noise is the build's (each combination's seed spreads, how its test
images' variation is shared: `stats.simulate.NoiseModel.measured`); where the build cannot measure it (one
seed, no per-image values), the default build's. Writes results/<profile>/verdicts.json for the book.

    make bench-verdicts [PROFILE=default]        # 5 designs × 200 builds per row (~15 minutes on 2 cores)
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
from dataclasses import asdict
from pathlib import Path

import stamp

from aecrypt import UsageError, paths, runtime
from aecrypt.runs import closure
from aecrypt.runs.results import Results
from aecrypt.stats import calibration
from aecrypt.stats.components import Build
from aecrypt.stats.simulate import NoiseModel

FULL_REPLICATES, BOOK_REPLICATES = 200, 40
#: (training seeds, test images; None: the build's): the build's design, more seeds, a smaller test split
#: (about the real profile's 380)
FULL_DESIGNS = ((None, None), (5, None), (10, None), (None, 400), (10, 400))
DEFAULT_SOURCE = (
    "the default build's noise (aecrypt.stats.simulate.MEASURED_DEFAULT): this build cannot measure its own"
)


def noise(results: Results) -> tuple[NoiseModel, str]:
    """The build's own noise where it can be measured (two or more seeds of every combination, the same test
    images saved by every run), else the default build's."""
    try:
        build = Build.from_results(results)
    except (UsageError, FileNotFoundError):  # no build yet: the default build's noise
        build = Build([])
    seeds = [len(build.of(label)) for label in build.labels]
    if len(seeds) >= 2 and min(seeds) >= 2 and build.paired_images:
        return NoiseModel.measured(build), f"this build's own noise ({results.profile}, {min(seeds)} seeds)"
    return NoiseModel.default(), DEFAULT_SOURCE


def _job(args) -> list[dict]:
    model, replicates, seeds, truth = args
    scenarios = [s for s in calibration.SCENARIOS if s.truth == truth]
    return calibration.rows(model, replicates, seeds, scenarios)


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
    code = closure.code_hash(closure.closure(["aecrypt.stats.calibration"]))
    record_key = stamp.key(("verdicts.py", "stamp.py"), code, json.dumps(asdict(model), sort_keys=True, default=str))
    out = paths.verdicts_json(args.profile, results.root)
    if args.book and stamp.up_to_date(out, record_key):
        print(f"verdicts: up to date ({out})")
        return
    replicates = args.replicates or (BOOK_REPLICATES if args.book else FULL_REPLICATES)
    designs = ((None, None),) if args.book else FULL_DESIGNS
    jobs = []
    for seeds, n_test in designs:
        design = model if n_test is None else model.with_design(n_test=n_test)
        truths = dict.fromkeys(s.truth for s in calibration.SCENARIOS if s.applies(design))
        jobs += [(design, replicates, seeds, truth) for truth in truths]
    began = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.workers)) as pool:
        rows = [_json_row(row) for part in pool.map(_job, jobs) for row in part]
    order = {(s.rule, s.truth): i for i, s in enumerate(calibration.SCENARIOS)}
    rows.sort(key=lambda r: (r["seeds"], -r["test images"], order[(r["rule"], r["truth"])]))
    record = {
        "version": 1,
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
