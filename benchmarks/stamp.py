"""What a benchmark record was measured with, so that `make book` reruns its quick measurement only when the
benchmark's code, the machine or the measured run has changed (a full `make bench…` record of the same
machine and code is kept as it is)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def key(scripts: tuple[str, ...], *extra: str) -> str:
    """The SHA-256 of the benchmark scripts' code and of what else the record depends on (the CPU, a run id)."""
    h = hashlib.sha256()
    for name in scripts:
        h.update((HERE / name).read_bytes())
    for value in extra:
        h.update(value.encode())
    return h.hexdigest()


def up_to_date(record_path: Path, expected: str) -> bool:
    """A record with this key exists (quick or full)."""
    if not record_path.is_file():
        return False
    return json.loads(record_path.read_text()).get("key") == expected
