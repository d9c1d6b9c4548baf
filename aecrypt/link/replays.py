"""The packets every receiver on this machine has accepted under one key within the freshness window, kept outside
any receiver's folder. A receiver folder remembers its own images (received.csv), so a packet captured and
replayed into a *new* folder within the window (`packets.FRESH_S`) was accepted again; with this record it is a
duplicate there too: acknowledged, never written a second time.

One file per key, `$XDG_STATE_HOME/aecrypt/seen/<key id>.seen` (`keys.counter_folder`'s parent): a line per
accepted packet, `sender id, image id, sealed at (ns)`, appended under an exclusive lock and fsynced; lines older
than the window are dropped when a receiver starts (a packet that old is refused as stale anyway)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from aecrypt.link import keys, packets


def record_path(key_id: bytes) -> Path:
    return keys.counter_folder().parent / "seen" / f"{key_id.hex()}.seen"


class RecentPackets:
    """(sender id, image id) of the packets accepted under one key in the last freshness window, on this machine."""

    def __init__(self, key_id: bytes):
        self.path = record_path(key_id)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._known: set[tuple[bytes, bytes]] = set()
        self._prune()

    def _lines(self) -> list[tuple[bytes, bytes, int]]:
        found = []
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return found
        for line in text.splitlines():
            try:
                sender, image, sealed = line.split(",")
                found.append((bytes.fromhex(sender), bytes.fromhex(image), int(sealed)))
            except ValueError:  # a torn or damaged line: it names nothing
                continue
        return found

    def _prune(self) -> None:
        horizon = time.time_ns() - int(2 * packets.FRESH_S * 1e9)
        with self._locked("a+") as f:
            f.seek(0)
            keep = [entry for entry in self._lines() if entry[2] >= horizon]
            f.seek(0)
            f.truncate()
            f.writelines(f"{s.hex()},{i.hex()},{t}\n" for s, i, t in keep)
        self._known = {(s, i) for s, i, _ in keep}

    def _locked(self, mode: str):
        f = self.path.open(mode)
        os.chmod(self.path, 0o600)
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        return f

    def seen(self, sender_id: bytes, image_id: bytes) -> bool:
        """Accepted under this key by a receiver on this machine (another folder's included) within the window."""
        if (sender_id, image_id) not in self._known:
            self._known |= {(s, i) for s, i, _ in self._lines()}  # what receivers beside this one accepted since
        return (sender_id, image_id) in self._known

    def add(self, sender_id: bytes, image_id: bytes, sealed_ns: int) -> None:
        with self._locked("a") as f:
            f.write(f"{sender_id.hex()},{image_id.hex()},{sealed_ns}\n")
            f.flush()
            os.fsync(f.fileno())
        self._known.add((sender_id, image_id))
