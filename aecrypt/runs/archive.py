"""A results archive: one profile's collected results in one file, so that a build made elsewhere (more seeds, a
GPU, a cluster) can be handed to readers, who rebuild the same book from it in a minute without a sweep
(`make book ARCHIVE=FILE`), as showyourwork does with its archived intermediate results.

The archive is a gzip-compressed tar. Its first member, `aecrypt-archive.json`, is the manifest: the format
version, the profile, who made it with what (aecrypt's version, Python, the CPU, every installed
distribution's version) and the SHA-256 and size of every other member. Members are the run folders (their
models only when asked), the results table and plan, the audit, link, calibration and compression records,
and the machine's bench records; a file outside that known set is never written, and no key file ever enters.

Import reads the archive once, front to back, into a temporary folder beside the results, and moves it into
place only when all of it checks out: the manifest first (its shape, format and profile), then every member
from its tar header before a byte of it is read (a plain file, listed, a known name, the listed size) and
against its SHA-256 as it streams to disk. A tampered, truncated, newer-format or foreign-member archive is
refused with one line and leaves nothing; memory stays bounded whatever sizes an archive declares.
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
ROOT_FILES += tuple(f().name for f in (paths.stages_json, paths.coldbook_json, paths.sizing_json))
_RUN_ID = r"[0-9a-f]{16}"
#: A cell a spreadsheet runs as a formula when it starts with one of these (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: No value a build keeps comes near this size (a diverged loss is stopped at inf): 1e308 in a table is a planted
#: overflow, not a result.
LARGEST_VALUE = 1e300
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


#: What an archive can make an import hold or write, whatever it declares: the manifest is read into memory (it
#: lists names and hashes: far below this), every other member streams to disk in chunks, and no member may be
#: larger than a model at the paper's scale could be, nor all of them more than the disk has free.
MANIFEST_MAX_BYTES = 16 * 2**20
MEMBER_MAX_BYTES = 2 * 2**30
CHUNK_BYTES = 2**20


def _manifest(archive: Path, data: bytes) -> dict:
    """The manifest, checked for its shape, format and profile."""
    try:
        manifest = json.loads(data)
        fmt, profile, listed = manifest["format"], manifest["profile"], manifest["members"]
        sizes = [(entry["size"], entry["sha256"]) for entry in listed.values()]
        if not all(isinstance(n, int) and 0 <= n and isinstance(h, str) for n, h in sizes):
            raise TypeError("a member's size or SHA-256 is not a count and a string")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArchiveError(f"{archive}: its manifest cannot be read ({exc})") from None
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise ArchiveError(f"{archive}: archive format {fmt!r} is not a format number (this aecrypt reads {FORMAT})")
    if fmt > FORMAT:
        raise ArchiveError(
            f"{archive}: archive format {fmt}, newer than this aecrypt reads (format {FORMAT}, aecrypt "
            f"{__version__}): upgrade aecrypt"
        )
    try:
        _profile_name(profile)
    except UsageError as exc:
        raise ArchiveError(f"{archive}: {exc}") from None
    return manifest


def _check_member(archive: Path, entry: tarfile.TarInfo, manifest: dict, seen: set[str]) -> dict:
    """A member's manifest entry, once its tar header shows it may be read: a plain file, listed once, known,
    of the listed size."""
    name, listed = entry.name, manifest["members"]
    if not entry.isfile() or entry.issparse():
        kind = "a link" if entry.issym() or entry.islnk() else "a folder" if entry.isdir() else "not a plain file"
        raise ArchiveError(f"{archive}: member {name!r} is {kind}; an aecrypt archive holds plain files only")
    if name not in listed:
        raise ArchiveError(f"{archive}: member {name!r} is not in the manifest (added after export?)")
    if not known_member(name, manifest["profile"]) or name in seen:
        raise ArchiveError(f"{archive}: member {name!r} is outside the known results of {manifest['profile']!r}")
    if entry.size != listed[name]["size"] or entry.size > MEMBER_MAX_BYTES:
        raise ArchiveError(f"{archive}: {name!r} is not the size its manifest gives (tampered or damaged)")
    return listed[name]


def read(archive: Path, into: Path) -> dict:
    """Verify `archive` while unpacking it into the folder `into`, in one pass and in bounded memory: the
    manifest first (its shape, format and profile; its members must fit the disk's free space), then each
    member checked from its tar header before a byte of it is read (`_check_member`) and hashed as it streams
    to disk. An ArchiveError (one line) for anything wrong; what was written then is the caller's to discard.
    Returns the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise UsageError(f"{archive}: no such archive file")
    manifest, seen = None, set()
    try:
        with tarfile.open(archive, "r|gz") as tar:
            for entry in tar:
                if manifest is None:
                    if entry.name != MANIFEST or not entry.isfile() or entry.size > MANIFEST_MAX_BYTES:
                        raise ArchiveError(f"{archive}: not an aecrypt archive (its first member is not {MANIFEST})")
                    manifest = _manifest(archive, tar.extractfile(entry).read())
                    _check_space(archive, manifest, into)
                    continue
                listed = _check_member(archive, entry, manifest, seen)
                target = into / entry.name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(entry) as source, target.open("wb") as out:
                    while chunk := source.read(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != listed["sha256"]:
                    raise ArchiveError(
                        f"{archive}: {entry.name!r} does not match its SHA-256 in the manifest (tampered or damaged)"
                    )
                seen.add(entry.name)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:  # gzip's and tar's ways of saying "cut short"
        raise ArchiveError(f"{archive}: truncated or not an aecrypt archive (a gzip tar): {exc}") from None
    if manifest is None:
        raise ArchiveError(f"{archive}: not an aecrypt archive (it is empty)")
    for name in manifest["members"]:
        if name not in seen:
            raise ArchiveError(f"{archive}: {name!r} is in the manifest but not in the archive (truncated?)")
    return manifest


def _check_space(archive: Path, manifest: dict, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    needed = sum(entry["size"] for entry in manifest["members"].values())
    free = shutil.disk_usage(into).free
    if needed > free:
        raise ArchiveError(
            f"{archive}: its members need {needed / 2**30:.1f} GiB; {into} has {free / 2**30:.1f} GiB free"
        )


@dataclass(frozen=True)
class Imported:
    profile: str
    members: int
    root: Path
    unchanged: bool  # the same archive was imported here before: nothing written


def check_tables(archive: Path, folder: Path) -> None:
    """Every CSV table an archive brings (summary.csv, the compression tables) as the book will read it: it parses,
    no number is larger than LARGEST_VALUE, and no text cell or column name is one a spreadsheet would run. The
    manifest's hashes say only that the files are the ones its maker listed, not that they are sane."""
    import pandas as pd

    for path in sorted(folder.rglob("*.csv")):
        where = f"{archive}: {path.relative_to(folder)}"
        try:
            table = pd.read_csv(path)
        except pd.errors.EmptyDataError:  # a table with no rows and no columns, as a build writes some
            continue
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise ArchiveError(f"{where} is not a table aecrypt wrote ({str(exc).splitlines()[0]})") from None
        header = pd.Series([str(c) for c in table.columns])
        if len(bad := header[header.str.startswith(FORMULA_STARTS) & pd.to_numeric(header, errors="coerce").isna()]):
            raise ArchiveError(
                f"{where}, the header: {bad.iloc[0][:40]!r} is text a spreadsheet would run as a formula"
            )
        for column in table.columns:
            values = table[column]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                bad = values[values.abs().between(LARGEST_VALUE, float("inf"), inclusive="left")]
                why = f"a number no build measures (over {LARGEST_VALUE:.0e})"
            else:
                text = values.dropna().astype(str)
                bad = text[text.str.startswith(FORMULA_STARTS) & pd.to_numeric(text, errors="coerce").isna()]
                why = "text a spreadsheet would run as a formula"
            if len(bad):
                raise ArchiveError(
                    f"{where}, row {bad.index[0] + 2}, column {str(column)[:40]!r}: {str(bad.iloc[0])[:40]!r} is {why}"
                )


def import_archive(archive: Path, root: Path | None = None, replace: bool = False) -> Imported:
    """Verify `archive`, then put its results under `root`. Existing results of the same profile (or other
    machine records) are never overwritten unless `replace`, which moves them aside first."""
    root = (root or paths.results_root()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".import-") as tmp:
        staging = Path(tmp)
        manifest = read(archive, staging)  # verified as it is unpacked: nothing reaches the results before
        check_tables(archive, staging / "results")
        profile, names = manifest["profile"], list(manifest["members"])
        here = paths.profile_dir(profile, root)
        previous = here / IMPORTED
        if previous.is_file() and json.loads(previous.read_text()).get("members") == manifest["members"]:
            return Imported(profile, len(names), root, unchanged=True)
        clashes = [p for p in [here, *(root / f for f in ROOT_FILES if f"results/{f}" in names)] if p.exists()]
        if clashes and not replace:
            raise UsageError(
                f"{clashes[0]} exists; import into another results folder (--results DIR) or pass --replace "
                "(which moves what is there aside)"
            )
        (staging / "results" / profile).mkdir(parents=True, exist_ok=True)
        (staging / "results" / profile / IMPORTED).write_text(json.dumps(manifest, indent=2))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for target in clashes:
            target.rename(target.with_name(f"{target.name}.before-import-{stamp}"))
        for source in (staging / "results").iterdir():
            shutil.move(str(source), str(root / source.name))
    return Imported(profile, len(names), root, unchanged=False)
