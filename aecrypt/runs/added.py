"""Runs made by hand (papermill ... -p output_dir FOLDER), added to a profile's results with `aecrypt add`:
stored as a sweep would store them, listed in added.json, and in the results table from then on."""

from __future__ import annotations

from pathlib import Path

from aecrypt import UsageError, paths
from aecrypt.files import read_json, write_json
from aecrypt.paths import RUN_FILES
from aecrypt.runs.folder import RunResult, files_of, store_run
from aecrypt.runs.identity import Fingerprints, data_fingerprint, run_id
from aecrypt.runs.spec import spec_from_run_folder
from aecrypt.runs.table import write_summary


def add_run(folder: Path, profile: str, notebook: Path | None = None, results_root: Path | None = None) -> str:
    """Add a run made by hand to a profile's results; returns its run id."""
    spec = spec_from_run_folder(Path(folder))
    if not spec.with_cipher:
        raise UsageError(f"{folder} ran without the cipher: reference runs are planned by the sweep, not added")
    if spec.profile.name != profile:
        raise UsageError(f"{folder} was run with profile {spec.profile.name!r}, not {profile!r}")
    rid = run_id(spec, Fingerprints.now(), data_fingerprint(spec))
    files = files_of(Path(folder))
    if notebook:
        files[RUN_FILES.notebook] = Path(notebook).read_bytes()
    store_run(RunResult(rid, spec, True, files, host="by hand"), paths.profile_dir(profile, results_root))
    added_path = paths.added_json(profile, results_root)
    added = read_json(added_path).get("runs", [])
    if rid not in {a["run_id"] for a in added}:
        added.append(spec.entry(rid))
    write_json(added_path, {"runs": added})
    write_summary(profile, results_root)
    return rid
