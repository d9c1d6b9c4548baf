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

from aecrypt import AecryptError, UsageError, paths
from aecrypt.files import write_atomic
from aecrypt.profiles import as_profile
from aecrypt.runs import folder
from aecrypt.runs.execute import compute_run
from aecrypt.runs.folder import RunResult
from aecrypt.runs.plan import Plan, plan_references, plan_sweep
from aecrypt.runs.spec import TEMPLATES, template_path
from aecrypt.runs.table import collect, write_summary

log = logging.getLogger(__name__)


class Progress:
    """One line per finished run, logged at INFO (the command line shows them unless -q): done/total,
    elapsed, an estimate of what is left."""

    def __init__(self, total: int):
        self.total = total
        self.done, self.started = 0, time.perf_counter()

    def finished(self, result: RunResult) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        state = "ok" if result.ok else f"FAILED ({result.error.splitlines()[0][:120]})"
        log.info(
            f"[{self.done}/{self.total}] {result.spec.run_label} {state} in {result.seconds:.0f} s · "
            f"elapsed {elapsed:.0f} s · ~{left:.0f} s left"
        )


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
) -> SweepReport:
    """Run what is missing: the baselines and every combination at every training seed, then (unless
    `references` is False) the reference runs of the best combination without the cipher, chosen from the
    finished runs."""
    started = time.perf_counter()
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise UsageError(f"workers must be a whole number ≥ 1 (parallel runs), got {workers!r}")
    if scheduler:
        check_scheduler_address(scheduler)
    plan = plan_sweep(as_profile(profile), grid_path, data, seeds, data_seed)
    profile = plan.profile.name
    pdir = paths.profile_dir(profile, results_root)
    pdir.mkdir(parents=True, exist_ok=True)
    folder.clean_partial(pdir)
    todo = plan.pending(pdir)
    n_all = len(plan.runs) + len(plan.baselines)
    workers = workers or min(default_workers(), max(1, len(todo)))
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    progress = Progress(len(todo))
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
        log.info(f"  skipped {combo.loss}+{combo.optimizer}+{combo.activation}+{combo.depth}: {reason}")
    write_atomic(paths.plan_json(profile, results_root), plan.to_json())

    def execute(batch) -> list[tuple[str, str]]:
        return execute_runs(batch, pdir, progress, workers, threads, scheduler)

    failures = execute(todo)
    write_summary(profile, results_root)
    plan.references = plan_references(plan, collect(profile, results_root)) if references else []
    write_atomic(paths.plan_json(profile, results_root), plan.to_json())
    refs_todo = [(s, rid) for s, rid in plan.references if not folder.is_complete(pdir / "runs" / rid)]
    if refs_todo:
        progress.total += len(refs_todo)
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
