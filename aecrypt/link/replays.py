"""The packets every receiver on this machine has accepted under one key within the freshness window, kept outside
any receiver's folder. A receiver folder remembers its own images (received.csv), so a packet captured and
replayed into a *new* folder within the window (`packets.FRESH_S`) was accepted again; with this record it is a
duplicate there too: acknowledged, never written a second time.

A packet is named by its sender, image id and the time it was sealed: a replay carries the original seal, while
a new `aecrypt send` of the same images seals them again, so sending a folder twice is never mistaken for a
replay. One file per key, `$XDG_STATE_HOME/aecrypt/seen/<key id>.seen` (`keys.counter_folder`'s parent): a line
per packet, `sender, image, sealed at (ns), receiver folder`, claimed under an exclusive lock *before* the image
is decoded and written (two receivers cannot both take one packet), fsynced; a folder's own lines never make it
refuse anything (its received.csv decides there). Lines older than twice the window are dropped when a receiver
starts (a packet that old is refused as stale anyway); a running receiver reads only what was appended since."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from aecrypt import UsageError
from aecrypt.files import locked
from aecrypt.link import keys, packets


def record_path(key_id: bytes) -> Path:
    return keys.counter_folder().parent / "seen" / f"{key_id.hex()}.seen"


Packet = tuple[str, str, int]  # sender id, image id (hex), sealed at (ns)


class RecentPackets:
    """Claims on the packets accepted under one key by the receivers of this machine, per receiver folder."""

    def __init__(self, key_id: bytes, folder: Path):
        self.path = record_path(key_id)
        self.folder = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]
        self._others: set[Packet] = set()  # claimed by other folders
        self._offset = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._prune()
        except OSError as exc:
            raise UsageError(self._unwritable(exc)) from None

    def _unwritable(self, exc: OSError) -> str:
        return (
            f"cannot keep the record of received packets {self.path} ({exc.strerror or exc}); set XDG_STATE_HOME to "
            "a folder you can write"
        )

    def _read_new(self, f) -> None:
        """Take in the lines appended since the last read (a torn or damaged line names nothing)."""
        f.seek(self._offset)
        data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode("ascii", "replace").splitlines():
            try:
                sender, image, sealed, folder = line.split(",")
                if folder != self.folder:
                    self._others.add((sender, image, int(sealed)))
            except ValueError:
                continue

    def _prune(self) -> None:
        horizon = time.time_ns() - int(2 * packets.FRESH_S * 1e9)
        with locked(self.path, append=True) as f:
            f.seek(0)
            lines = f.read().decode("ascii", "replace").splitlines()
            keep = [line for line in lines if _sealed(line) >= horizon]
            f.seek(0)
            f.truncate()
            f.write("".join(f"{line}\n" for line in keep).encode())
            f.flush()
            self._offset = 0
            self._read_new(f)

    def claim(self, sender_id: bytes, image_id: bytes, sealed_ns: int) -> bool:
        """Claim a packet for this folder; False where a receiver in another folder has claimed it (a replay)."""
        packet = (sender_id.hex(), image_id.hex(), sealed_ns)
        try:
            with locked(self.path, append=True) as f:
                self._read_new(f)
                if packet in self._others:
                    return False
                f.write(f"{packet[0]},{packet[1]},{packet[2]},{self.folder}\n".encode())
                f.flush()
                os.fsync(f.fileno())
                self._offset = f.tell()
        except OSError as exc:
            raise UsageError(self._unwritable(exc)) from None
        return True


def _sealed(line: str) -> int:
    try:
        return int(line.split(",")[2])
    except (IndexError, ValueError):
        return -1
