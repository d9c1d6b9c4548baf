"""A sender's outbox: every packet waits here until an authenticated acknowledgement (`link.acks`) removes it.
On disk it is one file per packet, written to a temporary name, fsynced and renamed (then the folder fsynced),
so a sender killed at any instant leaves each packet either whole or absent; a restarted sender sends what
it finds. Without a folder it lives in memory (a test, a benchmark)."""

from __future__ import annotations

import os
from pathlib import Path

from aecrypt import AecryptError
from aecrypt.link import packets

SUFFIX = ".aecp"
#: Where packets this sender can no longer send wait (sealed under another key): kept, never sent, never deleted.
OTHER_KEY = "other-key"


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Outbox:
    def __init__(self, folder: Path | None = None):
        self.folder = None if folder is None else Path(folder)
        self._packets: dict[bytes, bytes] = {}
        self._headers: dict[bytes, packets.Header] = {}
        self.restored = 0  # packets a previous sender left unacknowledged
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AecryptError(f"cannot use outbox {self.folder}: {exc.strerror or exc}") from None
            for path in sorted(self.folder.glob(f"*{SUFFIX}")):
                try:
                    self._remember(path.read_bytes())
                    self.restored += 1
                except packets.PacketError:  # not ours, or damaged outside aecrypt: set aside, never sent
                    path.rename(path.with_suffix(".damaged"))

    def _remember(self, packet: bytes) -> bytes:
        header = packets.parse(packet).header
        self._packets[header.image_id] = packet
        self._headers[header.image_id] = header
        return header.image_id

    def _path(self, image_id: bytes) -> Path:
        return self.folder / f"{image_id.hex()}{SUFFIX}"

    def put(self, packet: bytes) -> bytes:
        """Keep a packet (replacing one of the same image id, as a resealed resend does) durably before it is
        published; returns its image id. A full or unwritable disk is an AecryptError naming the folder."""
        image_id = self._remember(packet)
        if self.folder is not None:
            target = self._path(image_id)
            part = target.with_suffix(".part")
            try:
                with part.open("wb") as f:
                    f.write(packet)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(part, target)
                _fsync_folder(self.folder)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise AecryptError(f"cannot write to the outbox {self.folder}: {exc.strerror or exc}") from None
        return image_id

    def remove(self, image_id: bytes) -> bool:
        """Forget an acknowledged packet; False if it was not waiting."""
        if self._packets.pop(image_id, None) is None:
            return False
        del self._headers[image_id]
        if self.folder is not None:
            self._path(image_id).unlink(missing_ok=True)
        return True

    def set_aside(self, key_id: bytes) -> int:
        """Move the waiting packets sealed under another key than `key_id` out of the way, into OTHER_KEY/ (on
        disk; forgotten in memory): no acknowledgement this sender can verify will ever remove them, and a
        resend could not reseal them. Returns how many."""
        other = [i for i, h in self._headers.items() if h.key_id != key_id]
        for image_id in other:
            if self.folder is not None:
                aside = self.folder / OTHER_KEY
                try:
                    aside.mkdir(exist_ok=True)
                    os.replace(self._path(image_id), aside / self._path(image_id).name)
                except OSError as exc:
                    raise AecryptError(f"cannot move a packet aside in the outbox {self.folder}: {exc}") from None
            del self._packets[image_id], self._headers[image_id]
        if other and self.folder is not None:
            _fsync_folder(self.folder)  # the moves are durable, as every other change here
        self.restored -= len(other)
        return len(other)

    def ends(self, image_id: bytes) -> tuple[bytes, bytes] | None:
        """The sender and run id of the waiting packet with this image id (what its acknowledgement signs)."""
        header = self._headers.get(image_id)
        return None if header is None else (header.sender_id, header.run_id)

    def header(self, image_id: bytes) -> packets.Header:
        return self._headers[image_id]

    def waiting(self) -> list[bytes]:
        """Image ids still unacknowledged, in the order their packets were numbered."""
        return sorted(self._packets, key=lambda i: self._headers[i].sequence)

    def __getitem__(self, image_id: bytes) -> bytes:
        return self._packets[image_id]

    def __len__(self) -> int:
        return len(self._packets)
