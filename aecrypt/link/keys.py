"""Key files: one 256-bit AEAD key with its key id, written owner-only and never overwritten. The key id
travels in every packet; the key never leaves the file, and nothing aecrypt prints or writes shows it."""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from aecrypt import UsageError
from aecrypt.link.packets import ID_BYTES

FORMAT = "aecrypt-key-1"
KEY_BYTES = 32
#: HKDF's `info` for the paper cipher's key image: the image follows from the key file, never the other way.
PAPER_KEY_INFO = b"aecrypt paper-cipher key image v1"


@dataclass(frozen=True)
class KeyFile:
    key_id: bytes
    key: bytes = field(repr=False)  # repr=False: a key in a traceback or a log line is a leaked key
    path: Path | None = None

    def paper_key_image(self, height: int, width: int) -> np.ndarray:
        """The paper cipher's key image, derived from the AEAD key: HKDF-SHA256 (info PAPER_KEY_INFO) → a
        64-bit seed → uniform values in [0, 1) (cipher.key_from_seed). One-way: the image gives nothing of the
        key back, while the image itself is what the paper's cipher leaks."""
        from aecrypt.paper.cipher import key_from_seed

        seed = HKDF(hashes.SHA256(), 8, salt=None, info=PAPER_KEY_INFO).derive(self.key)
        return key_from_seed(height, width, int.from_bytes(seed, "big"))


def generate(path: Path) -> KeyFile:
    """Write a new key file with owner-only permissions; an existing file is never overwritten."""
    path = Path(path)
    key = KeyFile(os.urandom(ID_BYTES), os.urandom(KEY_BYTES), path)
    text = json.dumps({"format": FORMAT, "key_id": key.key_id.hex(), "key": base64.b64encode(key.key).decode()})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(
            f"{path} exists; aecrypt never overwrites a key file (delete it yourself, or pick another name)"
        ) from None
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return key


def load(path: Path) -> KeyFile:
    """Read a key file; refuse one that others can read, or that is not a key file (without quoting it)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"key file {path} does not exist; make one with `aecrypt keygen -o {path}`")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"key file {path} can be read by others (mode {stat.filemode(mode)}); run `chmod 600 {path}`")
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError
        key, key_id = base64.b64decode(data["key"], validate=True), bytes.fromhex(data["key_id"])
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is not an aecrypt key file ({FORMAT})") from None
    if len(key) != KEY_BYTES or len(key_id) != ID_BYTES:
        raise UsageError(f"{path} is not an aecrypt key file ({FORMAT}): wrong key or key id length")
    return KeyFile(key_id, key, path)
