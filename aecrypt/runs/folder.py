"""A run folder, results/<profile>/runs/<run-id>/ (its files are named in `paths.RUN_FILES`): a run's files
travel as bytes (`RunResult`, so a worker needs no shared file system) and are written atomically, into a
temporary folder and then one rename. A failed run goes to failed/<run-id>/ and is retried by the next sweep."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aecrypt.paths import RUN_FILES
from aecrypt.runs.spec import RunSpec


@dataclass
class RunResult:
    """What a worker sends back: the run folder's files as bytes."""

    run_id: str
    spec: RunSpec
    ok: bool
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    host: str = ""

    @property
    def has_required_files(self) -> bool:
        """Every file a complete run folder has, but params.json, which `store_run` writes."""
        return all(name in self.files for name in RUN_FILES.required if name != RUN_FILES.params)


def store_run(result: RunResult, profile_dir: Path) -> Path:
    """Write a finished run atomically: into a temporary folder, then one rename. A failed run goes
    to failed/<id>/ (kept for its notebook and error) and is retried by the next sweep."""
    params = result.spec.parameters() | {
        "label": result.spec.label,
        "run_label": result.spec.run_label,
        "note": result.spec.note,
        "run_id": result.run_id,
    }
    status = {"ok": result.ok, "error": result.error, "seconds": result.seconds, "host": result.host}
    target = profile_dir / ("runs" if result.ok else "failed") / result.run_id
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{result.run_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    for name, content in result.files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(content)
    (tmp / RUN_FILES.params).write_text(json.dumps(params, indent=2))
    (tmp / RUN_FILES.status).write_text(json.dumps(status, indent=2))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    if result.ok:  # an earlier failure of the same run is now obsolete
        shutil.rmtree(profile_dir / "failed" / result.run_id, ignore_errors=True)
    return target


def is_complete(run_dir: Path) -> bool:
    return all((run_dir / name).is_file() for name in RUN_FILES.required)


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by its path inside it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def clean_partial(profile_dir: Path) -> int:
    """Remove temporary folders left by a killed sweep; return how many."""
    removed = 0
    for parent in (profile_dir / "runs", profile_dir / "failed"):
        for tmp in parent.glob(".tmp-*") if parent.is_dir() else []:
            shutil.rmtree(tmp, ignore_errors=True)
            removed += 1
    return removed
