"""What a benchmark record was measured with, so that `make book` reruns its quick measurement only when the
benchmark's code, the machine, its libraries or the measured run has changed (a full `make bench…` record of the
same machine and code is kept as it is). A record of the machine (not of a build) is also kept in this user's
machine records (`paths.machine_records`), so that a fresh clone, another profile or another data set on the same
machine and libraries takes it from there instead of measuring again."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent


def key(scripts: tuple[str, ...], *extra: str) -> str:
    """The record's cache key (`aecrypt.cachekeys`): the benchmark scripts' code and the aecrypt code they reach
    (`closure.code_key`: an edit to the code a record measures measures it again), and what else the record
    depends on (the CPU, the libraries, the measured run's shape)."""
    from aecrypt import cachekeys
    from aecrypt.runs import closure

    return cachekeys.key({"code": closure.code_key([], [HERE / name for name in scripts]), "extra": list(extra)})


def up_to_date(record_path: Path, expected: str) -> bool:
    """A record with this key exists (quick or full)."""
    if not record_path.is_file():
        return False
    return json.loads(record_path.read_text()).get("key") == expected


#: The libraries whose version can change what a machine record measures.
LIBRARIES = ("tensorflow", "keras", "numpy", "jax", "jaxlib", "cryptography", "paho-mqtt", "amqtt", "imagecodecs")


def environment() -> str:
    """The Python and library versions a machine record depends on, as one line for its key."""
    import platform

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return f"python {platform.python_version()} " + " ".join(f"{n} {version(n)}" for n in LIBRARIES)


def _kept(record_path: Path, expected: str) -> Path:
    from aecrypt import paths

    return paths.machine_records() / f"{record_path.stem}-{expected[:16]}{record_path.suffix}"


def current(record_path: Path, expected: str) -> bool:
    """A record with this key is at `record_path`, or is taken there from this machine's records."""
    if up_to_date(record_path, expected):
        return True
    kept = _kept(record_path, expected)
    if not kept.is_file():
        return False
    record_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept, record_path)
    return True


def keep(record_path: Path, expected: str) -> None:
    """Keep the record just written at `record_path` in this machine's records."""
    kept = _kept(record_path, expected)
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(record_path, kept)
