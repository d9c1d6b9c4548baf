"""The audit of a build, as a cached step of its own: results/<profile>/audit.json (and audit_samples.npz
for the page's pictures). It never trains: it reads every finished run's saved models. The record is kept
until the runs it read change, or the audit's own code does — every module the audit imports (followed
through the import graph, `runs.closure`) and the version of every distribution those imports reach."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from aecrypt import UsageError, cachekeys, paths
from aecrypt.audit.measure import audit_run
from aecrypt.files import read_json, write_json
from aecrypt.runs import closure

log = logging.getLogger(__name__)


def code_modules() -> list[str]:
    """The `aecrypt` modules the audit executes (this one and everything it imports)."""
    return closure.closure([__name__])


def inputs_hash(run_ids: list[str]) -> str:
    """What the audit's record depends on: the runs it read, its code, and the versions its code reaches."""
    return cachekeys.key({"runs": sorted(run_ids)} | closure.code_parts([__name__]))


def run_audit(profile: str, results_root: Path | None = None, force: bool = False) -> Path:
    """Audit every finished run of a profile that kept its models; cached until the runs or the audit's code
    change. Progress goes to the `aecrypt` logger."""
    from aecrypt.runs.results import Results
    from aecrypt.runs.trained import list_runs

    table = list_runs(profile, results_root)
    # the build's runs only: not a reference run (its twin's models), not the compression chapter's bottleneck
    # runs, and not the folders of an older build whose code or data has changed since (their ids are not planned)
    planned = set(Results(profile, results_root or paths.results_root()).ok["run_id"])
    table = table[table["models"] & table["with_cipher"] & table["run_id"].isin(planned)]
    if table.empty:
        raise UsageError(f"no finished run with saved models in profile {profile!r}; run `aecrypt sweep` first")
    out = paths.audit_json(profile, results_root)
    inputs = inputs_hash(list(table["run_id"]))
    if not force and read_json(out).get("inputs") == inputs:
        log.info(f"audit: up to date ({len(table)} runs): {out}")
        return out
    cache: dict = {}
    rows, best_samples = [], None
    runs_dir = paths.runs_dir(profile, results_root)
    started = time.perf_counter()
    for i, rid in enumerate(table["run_id"], 1):
        row, samples = audit_run(runs_dir / rid, cache)
        rows.append(row)
        if best_samples is None or (row["relu_domain"] and row["legit_ssim"] > best_samples[0]):
            best_samples = (row["legit_ssim"], rid, samples)
        log.debug(f"audit [{i}/{len(table)}] {row['label']} ({rid})")
    _, rid, samples = best_samples
    np.savez_compressed(paths.audit_samples(profile, results_root), **samples)
    seconds = time.perf_counter() - started
    write_json(out, {"inputs": inputs, "seconds": seconds, "sample_run": rid, "runs": rows})
    log.info(f"audit: {len(rows)} runs in {seconds:.0f} s: {out}")
    return out


def load(profile: str, results_root: Path | None = None) -> dict | None:
    """The audit's record, or None where no audit has run."""
    return read_json(paths.audit_json(profile, results_root), None) or None
