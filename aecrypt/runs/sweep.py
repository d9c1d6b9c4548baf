"""The sweep: what is missing runs on local worker processes or a dask.distributed cluster, with a progress
line per run; the results table is written at the end."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from aecrypt import AecryptError, UsageError, paths
from aecrypt.files import write_atomic
from aecrypt.paper.cost import train_flops
from aecrypt.profiles import as_profile
from aecrypt.runs import folder
from aecrypt.runs.execute import compute_run
from aecrypt.runs.folder import RunResult
from aecrypt.runs.plan import Plan, plan_references, plan_sweep
from aecrypt.runs.spec import TEMPLATES, RunSpec, template_path
from aecrypt.runs.table import collect, write_summary

log = logging.getLogger(__name__)


class Progress:
    """One line per finished run, logged at INFO (the command line shows them unless -q): done/total,
    elapsed, an estimate of what is left.

    Runs differ in cost (a depth-5 autoencoder costs about 2.5 times a depth-3 one at the default profile), so the
    estimate weights what is left by each run's expected seconds, learnt from the runs that finished: per kind of
    run (a baseline, an autoencoder of a given depth and size) its mean; a kind not seen yet by a line through
    the finished combinations' seconds against their training arithmetic (`paper.cost`), or their mean while they
    share one size and depth. The expected seconds left are scaled by how many seconds of runs finished per
    second of the sweep (the workers' parallelism)."""

    def __init__(self, total: int, pending: Iterable[RunSpec] = ()):
        self.total = total
        self.done, self.started = 0, time.perf_counter()
        self.pending = list(pending)
        self.finished_runs: list[tuple[RunSpec, float]] = []

    def add(self, specs: list[RunSpec]) -> None:
        """More runs to wait for (the reference runs, planned once the sweep's own have finished)."""
        self.total += len(specs)
        self.pending += specs

    def expected(self, spec: RunSpec, seen: dict[tuple, float] | None = None) -> float:
        """The seconds a run of `spec` is expected to take, from the runs finished so far (`seen`: each kind's mean
        seconds, where the caller has them already)."""
        seen = self._kind_means() if seen is None else seen
        if (kind := _kind(spec)) in seen:
            return seen[kind]
        combos = [(_arithmetic(d), s) for d, s in self.finished_runs if not d.is_baseline]
        if not spec.is_baseline and len({x for x, _ in combos}) >= 2:
            slope, intercept = np.polyfit(*zip(*combos, strict=True), 1)
            return max(float(intercept + slope * _arithmetic(spec)), 0.0)
        return float(np.mean([s for _, s in self.finished_runs]))

    def _kind_means(self) -> dict[tuple, float]:
        seen: dict[tuple, list[float]] = {}
        for done, seconds in self.finished_runs:
            seen.setdefault(_kind(done), []).append(seconds)
        return {kind: float(np.mean(values)) for kind, values in seen.items()}

    def left(self, elapsed: float) -> float:
        """Seconds of the sweep left: the expected seconds of the pending runs over the parallelism so far."""
        ran = sum(seconds for _, seconds in self.finished_runs)
        if not ran or not self.pending:
            return 0.0
        seen = self._kind_means()
        return sum(self.expected(spec, seen) for spec in self.pending) * elapsed / ran

    def finished(self, result: RunResult) -> None:
        self.done += 1
        if result.spec in self.pending:
            self.pending.remove(result.spec)
        self.finished_runs.append((result.spec, result.seconds))
        elapsed = time.perf_counter() - self.started
        left = self.left(elapsed) if self.pending else elapsed / self.done * (self.total - self.done)
        state = "ok" if result.ok else f"FAILED ({result.error.splitlines()[0][:120]})"
        log.info(
            f"[{self.done}/{self.total}] {result.spec.run_label} {state} in {result.seconds:.0f} s · "
            f"elapsed {elapsed:.0f} s · ~{left:.0f} s left"
        )


def costliest_first(todo: list[tuple[RunSpec, str]]) -> list[tuple[RunSpec, str]]:
    """The order to run in: the baselines (as planned), then one run of each kind of combination, then the rest,
    the combinations largest training arithmetic first. One of each kind early lets the progress estimate learn
    every kind's cost before half-way (on the default sweep's costs and two workers the whole sweep takes as long
    as in the planned order, within 1 %). The order changes no result: each run starts from a fresh or reset
    kernel with its own seeds."""

    def costliest(item):
        return 0.0 if item[0].is_baseline else -_arithmetic(item[0])

    ordered = sorted(todo, key=lambda item: (not item[0].is_baseline, costliest(item)))
    firsts = {}
    for item in ordered:
        firsts.setdefault(_kind(item[0]), item)
    leading = list(firsts.values())
    return leading + [item for item in ordered if item not in leading]


def _kind(spec: RunSpec) -> tuple:
    """Runs of one kind cost alike: the template, the depth and the image size."""
    return spec.template, spec.depth, spec.size, spec.bottleneck


def _arithmetic(spec: RunSpec) -> float:
    """The autoencoder's training arithmetic per image and epoch (GFLOP): what separates runs' costs."""
    return train_flops(spec.size or spec.profile.size, spec.depth, 1) / 1e9


def _local_results(todo, texts: dict[str, str], workers: int, threads: int) -> Iterable[RunResult]:
    # spawn, not fork: a forked copy of a process that imported TensorFlow or zmq is not safe
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(compute_run, spec, rid, texts[spec.template], threads) for spec, rid in todo]
        for future in as_completed(futures):
            yield future.result()


#: How long to try to reach a dask scheduler before saying so.
SCHEDULER_TIMEOUT = "10s"


def _dask_results(todo, texts: dict[str, str], scheduler: str, threads: int) -> Iterable[RunResult]:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise AecryptError(
            f"cannot reach a dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT} ({type(exc).__name__}); start "
            f"one with `dask scheduler` and workers with `dask worker {scheduler}`, or leave out --scheduler to run "
            "on local worker processes"
        ) from None
    with client:
        futures = [
            client.submit(compute_run, spec, rid, texts[spec.template], threads, False, pure=False, key=f"run-{rid}")
            for spec, rid in todo
        ]
        for future in dask_completed(futures):
            yield future.result()


def check_scheduler_address(address: str) -> None:
    """A dask scheduler address that cannot be one (no port, an unknown protocol) is an error before any
    planning, not a traceback from inside dask."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        protocol, location = parse_address(address)
        get_backend(protocol)  # an unknown protocol lists the known ones
        if protocol in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise UsageError(f"--scheduler {address!r} is not a scheduler address ({exc}); e.g. tcp://host:8786") from None


def execute_runs(
    batch: list, pdir: Path, progress: Progress, workers: int, threads: int, scheduler: str | None = None
) -> list[tuple[str, str]]:
    """Run (spec, run id) pairs into the profile folder `pdir`, each finished run stored as it comes in; returns
    the failures as (run label, error)."""
    failed: list[tuple[str, str]] = []
    if not batch:
        return failed
    texts = {name: template_path(name).read_text() for name in TEMPLATES}
    results = (
        _dask_results(batch, texts, scheduler, threads)
        if scheduler
        else _local_results(batch, texts, min(workers, len(batch)), threads)
    )
    for result in results:
        folder.store_run(result, pdir)
        if not result.ok:
            failed.append((result.spec.run_label, result.error))
        progress.finished(result)
    return failed


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


@dataclass
class SweepReport:
    plan: Plan
    executed: int
    cached: int
    failures: list[tuple[str, str]]  # (label, error)
    seconds: float
    summary_path: Path


def run_sweep(
    profile: str,
    grid_path: str | Path,
    data: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    results_root: Path | None = None,
    seeds: tuple[int, ...] | None = None,
    threads: int | None = None,
    data_seed: int = 0,
    references: bool = True,
    settings: dict[str, list] | None = None,
) -> SweepReport:
    """Run what is missing: the baselines and every combination at every training seed, then (unless
    `references` is False) the reference runs of the best combination without the cipher, chosen from the
    finished runs. `settings` give combination parameters values for the whole grid (`--set`)."""
    started = time.perf_counter()
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers must be a whole number ≥ 1 (parallel runs), got {workers!r}")
    if scheduler:
        check_scheduler_address(scheduler)
    plan = plan_sweep(as_profile(profile), grid_path, data, seeds, data_seed, settings=settings)
    profile = plan.profile.name
    pdir = paths.profile_dir(profile, results_root)
    pdir.mkdir(parents=True, exist_ok=True)
    folder.clean_partial(pdir)
    todo = costliest_first(plan.pending(pdir))
    n_all = len(plan.runs) + len(plan.baselines)
    workers = workers or min(default_workers(), max(1, len(todo)))
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    progress = Progress(len(todo), (spec for spec, _ in todo))
    where = f"dask scheduler {scheduler}" if scheduler else f"{workers} local worker(s) × {threads} thread(s)"
    log.info(
        f"sweep {plan.grid.name} · profile {profile} · data {plan.data} (data seed {plan.data_seed}) · training "
        f"seeds {', '.join(map(str, plan.seeds))}: {len(plan.runs)} run(s) + {len(plan.baselines)} shared "
        f"baseline(s), {n_all - len(todo)} cached, "
        + (f"{len(todo)} to run on {where}" if todo else "nothing to run")
        + (f"; {len(plan.skipped)} skipped" if plan.skipped else "")
    )
    if plan.size_note:
        log.info(f"  size: {plan.size_note}")
    for combo, reason in plan.skipped:
        log.info(f"  skipped {combo.label}: {reason}")
    write_atomic(paths.plan_json(profile, results_root), plan.to_json())

    def execute(batch) -> list[tuple[str, str]]:
        return execute_runs(batch, pdir, progress, workers, threads, scheduler)

    failures = execute(todo)
    write_summary(profile, results_root)
    plan.references = plan_references(plan, collect(profile, results_root)) if references else []
    write_atomic(paths.plan_json(profile, results_root), plan.to_json())
    refs_todo = [(s, rid) for s, rid in plan.references if not folder.is_complete(pdir / "runs" / rid)]
    if refs_todo:
        progress.add([spec for spec, _ in refs_todo])
        log.info(f"reference: {plan.references[0][0].label} without the cipher, {len(refs_todo)} run(s)")
        failures += execute(refs_todo)
    summary_path = write_summary(profile, results_root)
    executed = len(todo) + len(refs_todo)
    n_all += len(plan.references)
    report = SweepReport(plan, executed, n_all - executed, failures, time.perf_counter() - started, summary_path)
    log.info(
        f"done in {report.seconds:.0f} s: {report.executed} executed, {report.cached} cached, "
        f"{len(failures)} failed · table: {summary_path}"
    )
    return report
