"""A results archive: one profile's collected results in one file, so that a build made elsewhere (more seeds, a
GPU, a cluster) can be handed to readers, who rebuild the same book from it in a minute without a sweep
(`make book ARCHIVE=FILE`), as showyourwork does with its archived intermediate results.

The archive is a gzip-compressed tar. Its first member, `aecrypt-archive.json`, is the manifest: the format
version, the profile, who made it with what (aecrypt's version, Python, the CPU, every installed
distribution's version) and the SHA-256 and size of every other member. Members are the run folders (their
models only when asked), the results table and plan, the audit, link, calibration and compression records,
and the machine's bench records; a file outside that known set is never written, and no key file ever enters.

Import verifies everything before it writes anything: the format version, every member against the manifest
(a tampered or truncated archive, or one with a member the manifest does not list, is refused with one line),
and every name against the known set. Then the members are extracted with tarfile's `data` filter into a
temporary folder beside the results and moved into place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from aecrypt import AecryptError, UsageError, __version__, paths
from aecrypt.paths import COMPRESSION_FILES, RUN_FILES

FORMAT = 1
MANIFEST = "aecrypt-archive.json"
#: Written beside the imported results: the manifest they came from (a second import of it is a no-op).
IMPORTED = "archive.json"
#: A profile's own records (results/<profile>/…), named by `paths` (the one module that names every path).
PROFILE_FILES = tuple(
    f("profile").name
    for f in (
        paths.summary_csv,
        paths.plan_json,
        paths.added_json,
        paths.audit_json,
        paths.audit_samples,
        paths.link_json,
        paths.shaped_json,
        paths.verdicts_json,
        paths.convergence_json,
    )
)
#: The machine's records (results/…), shared by the profiles; the 200² codec curve's JSON sits beside its CSV.
_ORIGINALS = paths.compression_originals_csv()
ROOT_FILES = (paths.bench_json().name, paths.memory_json().name, _ORIGINALS.name, _ORIGINALS.with_suffix(".json").name)
_RUN_ID = r"[0-9a-f]{16}"
#: Never in an archive, whatever a folder holds: key files and certificates' private halves.
NEVER = (".key", ".pem", ".p12")


class ArchiveError(AecryptError):
    """An archive that cannot be imported as it is: the message says what is wrong with it."""


def _profile_name(profile) -> str:
    """A profile this aecrypt knows (the book's pages size themselves by it); a UsageError naming them if not."""
    from aecrypt.profiles import get_profile

    return get_profile(str(profile)).name


def known_member(name: str, profile: str) -> bool:
    """Whether an archive for `profile` may hold a member called `name` (a posix path under results/)."""
    run_files = {f for f in vars(RUN_FILES).values() if isinstance(f, str)}
    compression = {f for f in vars(COMPRESSION_FILES).values() if isinstance(f, str)}
    parts = name.split("/")
    if parts[0] != "results" or name.endswith(NEVER):
        return False
    if len(parts) == 2:
        return parts[1] in ROOT_FILES
    if parts[1] != profile:
        return False
    rest = parts[2:]
    if len(rest) == 1:
        return rest[0] in PROFILE_FILES
    if len(rest) == 2 and rest[0] == "compression":
        return rest[1] in compression
    if len(rest) == 3 and rest[0] == paths.LONG_RUNS:
        return bool(re.fullmatch(paths.LONG_RUN_NAME, rest[1])) and rest[2] in paths.LONG_RUN_FILES
    return (
        len(rest) == 3
        and rest[0] in ("runs", "failed")
        and bool(re.fullmatch(_RUN_ID, rest[1]))
        and (rest[2] in run_files)
    )


def referenced_runs(profile: str, root: Path) -> set[str]:
    """The run folders this build's records name: the plan's runs, baselines and references, the runs added by
    hand and the compression chapter's equal-rate runs (older builds' folders under runs/ are left out)."""
    records = [paths.plan_json(profile, root), paths.added_json(profile, root)]
    records.append(paths.compression_dir(profile, root) / COMPRESSION_FILES.equal_rate)
    return {rid for f in records if f.is_file() for rid in re.findall(rf"\b{_RUN_ID}\b", f.read_text())}


def _members(profile: str, root: Path, models: bool) -> list[tuple[str, Path]]:
    """(name in the archive, file) for every known file of a profile's results, sorted by name."""
    model_files = set(RUN_FILES.models.values()) | set(paths.LONG_RUN_MODELS)
    runs = referenced_runs(profile, root)
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = "results/" + path.relative_to(root).as_posix()
        if not known_member(name, profile) or (not models and path.name in model_files):
            continue
        parts = name.split("/")
        if len(parts) == 5 and parts[2] in ("runs", "failed") and parts[3] not in runs:
            continue
        found.append((name, path))
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def environment() -> dict:
    """Who made the archive with what: Python, the platform, the CPU, every installed distribution's version."""
    from aecrypt.runtime import cpu_info

    versions = {d.metadata["Name"]: d.version for d in metadata.distributions() if d.metadata["Name"]}
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_info(),
        "packages": dict(sorted(versions.items(), key=lambda kv: kv[0].lower())),
    }


@dataclass(frozen=True)
class Exported:
    path: Path
    members: int
    bytes: int
    runs: int
    models: bool


def export(profile: str, output: Path, root: Path | None = None, models: bool = False) -> Exported:
    """Write `profile`'s results under `root` into the archive `output` (written atomically)."""
    profile = _profile_name(profile)
    root = (root or paths.results_root()).resolve()
    if not paths.summary_csv(profile, root).is_file():
        raise UsageError(f"no results for profile {profile!r} in {root}: nothing to archive (aecrypt sweep first)")
    members = _members(profile, root, models)
    data = {name: path.read_bytes() for name, path in members}
    manifest = {
        "format": FORMAT,
        "profile": profile,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "aecrypt": __version__,
        "models": models,
        "environment": environment(),
        "members": {name: {"sha256": _sha256(blob), "size": len(blob)} for name, blob in data.items()},
    }
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for name, blob in [(MANIFEST, json.dumps(manifest, indent=2).encode()), *data.items()]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(blob), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(blob))
    os.replace(tmp, output)
    runs = len({name.split("/")[3] for name in data if name.split("/")[2:3] == ["runs"]})
    return Exported(output, len(data), output.stat().st_size, runs, models)


def read(archive: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and every member's bytes, each checked against the manifest; an ArchiveError (one line)
    for anything wrong. Nothing is written."""
    archive = Path(archive)
    if not archive.is_file():
        raise UsageError(f"{archive}: no such archive file")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            entries = tar.getmembers()
            blobs = {}
            for entry in entries:
                if not entry.isfile():
                    raise ArchiveError(f"{archive}: member {entry.name!r} is not a plain file; archives hold files")
                blobs[entry.name] = tar.extractfile(entry).read()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:  # gzip's and tar's ways of saying "cut short"
        raise ArchiveError(f"{archive}: truncated or not an aecrypt archive (a gzip tar): {exc}") from None
    if not entries or entries[0].name != MANIFEST:
        raise ArchiveError(f"{archive}: not an aecrypt archive (its first member is not {MANIFEST})")
    try:
        manifest = json.loads(blobs.pop(MANIFEST))
        fmt, profile, listed = manifest["format"], manifest["profile"], manifest["members"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"{archive}: its manifest cannot be read ({exc})") from None
    if not isinstance(fmt, int) or fmt > FORMAT:
        raise ArchiveError(
            f"{archive}: archive format {fmt}, newer than this aecrypt reads (format {FORMAT}, aecrypt "
            f"{__version__}): upgrade aecrypt"
        )
    try:
        _profile_name(profile)
    except UsageError as exc:
        raise ArchiveError(f"{archive}: {exc}") from None
    for name in blobs:
        if name not in listed:
            raise ArchiveError(f"{archive}: member {name!r} is not in the manifest (added after export?)")
        if not known_member(name, profile):
            raise ArchiveError(f"{archive}: member {name!r} is outside the known results of profile {profile!r}")
    for name, entry in listed.items():
        if name not in blobs:
            raise ArchiveError(f"{archive}: {name!r} is in the manifest but not in the archive (truncated?)")
        if len(blobs[name]) != entry["size"] or _sha256(blobs[name]) != entry["sha256"]:
            raise ArchiveError(f"{archive}: {name!r} does not match its SHA-256 in the manifest (tampered or damaged)")
    return manifest, blobs


@dataclass(frozen=True)
class Imported:
    profile: str
    members: int
    root: Path
    unchanged: bool  # the same archive was imported here before: nothing written


def import_archive(archive: Path, root: Path | None = None, replace: bool = False) -> Imported:
    """Verify `archive`, then put its results under `root`. Existing results of the same profile (or other
    machine records) are never overwritten unless `replace`, which moves them aside first."""
    if not hasattr(tarfile, "data_filter"):
        raise AecryptError(f"importing an archive needs Python's tarfile data filter (3.11.4 or newer): {sys.version}")
    manifest, blobs = read(archive)
    profile = manifest["profile"]
    root = (root or paths.results_root()).resolve()
    here = paths.profile_dir(profile, root)
    previous = here / IMPORTED
    if previous.is_file() and json.loads(previous.read_text()).get("members") == manifest["members"]:
        return Imported(profile, len(blobs), root, unchanged=True)
    clashes = [p for p in [here, *(root / f for f in ROOT_FILES if f"results/{f}" in blobs)] if p.exists()]
    if clashes and not replace:
        raise UsageError(
            f"{clashes[0]} exists; import into another results folder (--results DIR) or pass --replace "
            "(which moves what is there aside)"
        )
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".import-") as tmp:
        staging = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            chosen = [m for m in tar.getmembers() if m.name in blobs]
            tar.extractall(staging, members=chosen, filter="data")
        for name, blob in blobs.items():  # the bytes verified above are the bytes in place
            if _sha256((staging / name).read_bytes()) != _sha256(blob):
                raise ArchiveError(f"{archive}: {name!r} changed while it was read; nothing was imported")
        (staging / "results" / profile).mkdir(parents=True, exist_ok=True)
        (staging / "results" / profile / IMPORTED).write_text(json.dumps(manifest, indent=2))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for target in clashes:
            target.rename(target.with_name(f"{target.name}.before-import-{stamp}"))
        for source in (staging / "results").iterdir():
            shutil.move(str(source), str(root / source.name))
    return Imported(profile, len(blobs), root, unchanged=False)
