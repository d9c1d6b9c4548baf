"""Small files the project reads and writes whole: JSON records that may not exist yet, and text written
atomically (a temporary file, then one rename), so a reader never sees half a file."""

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


def write_json(path: Path, record) -> Path:
    """A JSON record, indented, written atomically."""
    return write_atomic(path, json.dumps(record, indent=2))
