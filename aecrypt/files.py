"""Small files the project reads and writes whole: JSON records that may not exist yet, text written
atomically (a temporary file, then one rename), so a reader never sees half a file, and owner-only files that
several processes update under a lock."""

from __future__ import annotations

import json
import os
from pathlib import Path


def read_json(path: Path, default=None):
    """The JSON in `path`, or `default` ({} when not given) where the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return {} if default is None else default
    return json.loads(path.read_text())


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file beside it and one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def locked(path: Path, append: bool = False):
    """`path` opened for reading and writing in binary (created owner-only, 0600, if absent; every write at its
    end with `append`), under an exclusive lock that the file's closing releases: use it as a context manager."""
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | (os.O_APPEND if append else 0)
    f = os.fdopen(os.open(path, flags, 0o600), "r+b")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def write_json(path: Path, record) -> Path:
    """A JSON record, indented, written atomically."""
    return write_atomic(path, json.dumps(record, indent=2))
