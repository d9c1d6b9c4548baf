"""Key files: one 256-bit AEAD key with its key id, written owner-only and never overwritten. The key id
travels in every packet; the key never leaves the file, and nothing aecrypt prints or writes shows it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from aecrypt import UsageError
from aecrypt.files import locked
from aecrypt.link.packets import ID_BYTES

FORMAT = "aecrypt-key-1"
KEY_BYTES = 32
#: HKDF's `info` for the paper cipher's key image: the image follows from the key file, never the other way.
PAPER_KEY_INFO = b"aecrypt paper-cipher key image v1"
#: HKDF's `info` for the key that authenticates acknowledgements (`link.acks`), and for the one that derives
#: image ids from a source's identity: each use its own key, none of them the AEAD key itself.
ACK_KEY_INFO = b"aecrypt acknowledgement key v1"
IMAGE_ID_INFO = b"aecrypt image id key v1"
#: HKDF's `info` for the embedded broker's login (`link.brokerlogin`): who holds the key may connect.
BROKER_LOGIN_INFO = b"aecrypt broker login v1"
#: Random 96-bit nonces keep AES-GCM's guarantees for at most 2^32 packets per key (NIST SP 800-38D, 8.3); a
#: sender warns from a quarter of that on, well before.
PACKET_LIMIT = 2**32
WARN_AT = PACKET_LIMIT // 4
log = logging.getLogger("aecrypt")


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

        seed = self.derived(PAPER_KEY_INFO, 8)
        return key_from_seed(height, width, int.from_bytes(seed, "big"))

    def count_sealed(self, count: int) -> int:
        """Add `count` packets to this key's counter and return the total; from WARN_AT on, every call warns that
        the key is due for replacement. The counter is `KEY.count` beside the key file (owner-only), or, where
        that folder cannot be written (a key on a read-only mount), `<key id>.count` in the user's state folder
        (`counter_folder`). Concurrent senders with one key each add their own packets: the update holds an
        exclusive lock on the counter file."""
        if self.path is None:
            return 0
        beside = self.path.with_name(self.path.name + ".count")
        try:
            total = _add_to_counter(beside, count)
        except OSError:
            elsewhere = counter_folder() / f"{self.key_id.hex()}.count"
            try:
                elsewhere.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                total = _add_to_counter(elsewhere, count)
            except OSError as exc:
                raise UsageError(
                    f"cannot count the packets of key {self.path}: neither {beside} nor {elsewhere} can be written "
                    f"({exc.strerror or exc}); set XDG_STATE_HOME to a folder you can write"
                ) from None
        if total >= WARN_AT:
            log.warning(
                f"key {self.key_id.hex()} has sealed {total} packets; AES-GCM allows 2^32 per key with random "
                f"nonces: make a new key (`aecrypt keygen`) soon"
            )
        return total

    def derived(self, info: bytes, length: int = 32) -> bytes:
        """A key for one other use, from the AEAD key by HKDF-SHA256 under that use's `info`."""
        return HKDF(hashes.SHA256(), length, salt=None, info=info).derive(self.key)

    def broker_login(self) -> tuple[str, str]:
        """(user name, password) for the embedded broker, from this key: the key id names the user, a key derived
        under BROKER_LOGIN_INFO is the password (it gives nothing of the AEAD key back)."""
        return f"aecrypt-{self.key_id.hex()}", base64.urlsafe_b64encode(self.derived(BROKER_LOGIN_INFO, 24)).decode()

    def image_id(self, source: bytes) -> bytes:
        """The image id of one source (its name and content): an HMAC under a key derived from this key file,
        so a restarted sender gives the same image the same id again, and the id tells an eavesdropper
        nothing but that two packets carry the same image."""
        return hmac.new(self.derived(IMAGE_ID_INFO), source, hashlib.sha256).digest()[:ID_BYTES]


def counter_folder() -> Path:
    """Where the packet counters of keys on read-only folders are kept: $XDG_STATE_HOME/aecrypt/keys (default
    ~/.local/state/aecrypt/keys)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "aecrypt" / "keys"


def _add_to_counter(path: Path, count: int) -> int:
    """Add to the number in `path` (absent or unreadable: 0) under an exclusive lock, durably; returns the sum."""
    with locked(path) as f:
        try:
            before = int(f.read().strip() or 0)
        except ValueError:
            before = 0
        total = before + count
        f.seek(0)
        f.truncate()
        f.write(f"{total}\n".encode())
        f.flush()
        os.fsync(f.fileno())
    return total


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
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.key"))[:3]
        hint = f" (it holds {', '.join(found)})" if found else ""
        raise UsageError(f"{path} is a folder, not a key file{hint}; give the key file itself, e.g. {path / 'lab.key'}")
    if not path.is_file():
        raise UsageError(f"key file {path} does not exist; make one with `aecrypt keygen -o {path}`")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"key file {path} can be read by others (mode {stat.filemode(mode)}); run `chmod 600 {path}`")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError
        key, key_id = base64.b64decode(data["key"], validate=True), bytes.fromhex(data["key_id"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise UsageError(f"{path} is not an aecrypt key file ({FORMAT})") from None
    if len(key) != KEY_BYTES or len(key_id) != ID_BYTES:
        raise UsageError(f"{path} is not an aecrypt key file ({FORMAT}): wrong key or key id length")
    return KeyFile(key_id, key, path)
