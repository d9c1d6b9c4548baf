"""The paper's IoT link over MQTT, the receiver's side: subscribe, and for each message check, open, decode,
classify, write, and acknowledge (`link.mqtt` is the sender's side).

Nothing a message does can silence it: a packet it cannot accept is a counted refusal (its own error, or any
other exception, named), and the stream goes on; a fault of the receiver itself — its folder full or not
writable — stops it within seconds, and `wait` raises an AecryptError that names it (the command exits
non-zero). Each image is on disk (PNG and its received.csv row, fsynced) before it is acknowledged, and the
acknowledgement is authenticated (`link.acks`). A packet already accepted (same sender and image id) is
dropped and acknowledged again, so resends and replays never write twice; a restarted receiver reads what it
has written from received.csv, and recovers a row torn by a crash.

Sequence numbers order, they do not admit: a sender numbers its packets from 0 on each `aecrypt send`, and a
packet that arrives behind one its sender numbered higher *and* sealed later (a redelivery after a reconnect)
is accepted and counted as out of order (`ReceiveLog.out_of_order`); its number is in the row. A second `send`
under the same name numbers from 0 again but seals later, so it is in order.
A replay is refused by what it is — a packet this machine's receivers already took, by its sender, image id
and seal (`link.replays`), or one sealed outside the freshness window (`packets.check_fresh`) — not by its
number, which a restarted sender starts again at 0."""

from __future__ import annotations

import csv
import errno
import io
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aecrypt import AecryptError, UsageError
from aecrypt.link import acks, packets, pngfiles
from aecrypt.link.addresses import Address
from aecrypt.link.mqtt import PROGRESS_EVERY, client_id, connect
from aecrypt.link.replays import RecentPackets

LEDGER = "received.csv"
LEDGER_KEYS = ("sender_id", "image_id")  # what a row must name for its image to count as received
#: Errors of the receiver's own disk: no later packet can succeed, so they stop it instead of being refusals.
FATAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
MAX_REASONS = 20  # distinct refusal reasons kept; beyond them, refusals are counted under one line
log = logging.getLogger("aecrypt")


@dataclass
class ReceiveLog:
    """What a receiver did: accepted images (one CSV row each), refusals by reason (bounded), duplicates."""

    accepted: list[dict] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    elsewhere: int = 0  # of the duplicates, those another receiver folder on this machine accepted (a replay)
    out_of_order: int = 0  # accepted behind a packet its sender numbered higher and sealed later
    fatal: str | None = None

    @property
    def refused(self) -> list[str]:
        return list(self.reasons)

    @property
    def refusals(self) -> int:
        return sum(self.reasons.values())

    def refuse(self, reason: str) -> bool:
        """Count a refusal; True the first time its reason is seen."""
        if reason not in self.reasons and len(self.reasons) >= MAX_REASONS:
            reason = f"(other reasons, beyond the first {MAX_REASONS})"
        first = reason not in self.reasons
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        return first


def read_ledger(path: Path) -> list[dict]:
    """The rows of a received.csv; a last row torn by a crash (no line end, or missing fields) is cut off with a
    warning — its image was never acknowledged, so the sender sends it again."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    keep = data if data.endswith(b"\n") else data[: data.rfind(b"\n") + 1]
    rows = list(csv.DictReader(io.StringIO(keep.decode("utf-8-sig", "replace"))))  # -sig: a byte-order mark
    if rows and (missing := [c for c in LEDGER_KEYS if c not in rows[0]]):
        raise UsageError(
            f"{path} lacks the column(s) {missing} every received.csv has: it is not one this receiver wrote, or "
            "was edited; move it out of the folder (the images stay) and start again"
        )
    if rows and (None in rows[-1].values() or None in rows[-1]):  # a row cut inside a field
        rows.pop()
        keep = keep[: keep[:-1].rfind(b"\n") + 1]
    if len(keep) != len(data):
        log.warning(
            f"{path}: a torn last row ({len(data) - len(keep)} bytes, from an interrupted write) was dropped; "
            "its image is accepted again when it is resent"
        )
        with path.open("r+b") as f:
            f.truncate(len(keep))
            os.fsync(f.fileno())
    return rows


def _seen_images(rows: list[dict], path: Path) -> set[tuple[bytes, bytes]]:
    """(sender id, image id) of every readable row; a damaged row is left in the file and counted in a warning
    (its image, resent, is accepted again rather than dropped as a duplicate)."""
    seen, damaged = set(), 0
    for row in rows:
        try:
            seen.add((bytes.fromhex(row["sender_id"]), bytes.fromhex(row["image_id"])))
        except (TypeError, ValueError):
            damaged += 1
    if damaged:
        log.warning(f"{path}: {damaged} damaged row(s) kept but not read (an image they name is accepted again)")
    return seen


def _fsynced_write(path: Path, data: bytes, mode: str = "wb") -> None:
    with path.open(mode) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class LinkReceiver:
    """Subscribes, and for each message: parse and open (refusals counted, the stream goes on), drop what it
    has seen, decode and classify, write the PNG and a CSV row, acknowledge."""

    def __init__(
        self, receiver, out: Path, address: Address, topic: str, client: str | None = None, progress: bool = False
    ):
        self.receiver, self.out, self.address, self.topic = receiver, Path(out), address, topic
        self.out.mkdir(parents=True, exist_ok=True)
        self.client_id = client or client_id("receiver", str(self.out.resolve()))
        self.progress = progress
        self.log = ReceiveLog()
        self.client = None
        self._acks = acks.Acknowledger(receiver.key)
        self._lock = threading.Lock()
        rows = read_ledger(self.out / LEDGER)
        self._seen = _seen_images(rows, self.out / LEDGER)
        self._recent = RecentPackets(receiver.key.key_id, self.out)  # what receivers in other folders took
        self._fields = list(rows[0]) if rows else None
        self._newest: dict[bytes, tuple[int, int]] = {}  # per sender, (seal time, number) of its newest packet

    def start(self) -> LinkReceiver:
        """Connect with a persistent session (QoS 1 messages wait for it while it is away) and subscribe."""
        self.client = connect(self.client_id, self.address, False, self.topic, self._on_message)
        return self

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None

    def kill(self) -> None:
        """Drop the connection as a crashed receiver would, without an MQTT goodbye (the fault drills)."""
        if self.client is not None:
            self.client.socket().shutdown(socket.SHUT_RDWR)  # wakes the network loop, which then ends
            self.client.loop_stop()
            self.client = None

    def _refuse(self, reason: str) -> None:
        with self._lock:
            first = self.log.refuse(reason)
        if first and self.progress:
            log.warning(f"refused: {reason}")

    def _on_message(self, client, _userdata, message) -> None:
        """Never raises: an exception here would end paho's network thread, and with it every later ack."""
        if self.log.fatal:
            return
        try:
            self._handle(client, bytes(message.payload))
        except (packets.PacketError, AecryptError) as exc:
            self._refuse(str(exc))
        except OSError as exc:
            if exc.errno in FATAL_ERRNOS:
                self.log.fatal = f"cannot write to {self.out}: {exc.strerror or exc} (the receiver stopped)"
            else:
                self._refuse(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any other fault of one packet is that packet's refusal
            log.debug("a packet failed", exc_info=True)
            self._refuse(f"could not be processed ({type(exc).__name__}: {exc})")

    def _handle(self, client, data: bytes) -> None:
        arrived = time.time_ns()
        t0 = time.perf_counter()
        header, payload = self.receiver.open(data)
        packets.check_fresh(header, arrived)
        t_open = time.perf_counter() - t0
        ack = self._acks.make(header.sender_id, header.run_id, header.image_id)
        with self._lock:
            here = (header.sender_id, header.image_id) in self._seen
            elsewhere = not here and not self._recent.claim(header.sender_id, header.image_id, header.timestamp_ns)
            if here or elsewhere:  # a resend or a replay: never written twice
                self.log.duplicates += 1
                self.log.elsewhere += elsewhere
                client.publish(f"{self.topic}/ack", ack, qos=1)
                if elsewhere and self.log.elsewhere == 1:
                    log.warning(
                        "a packet another receiver folder on this machine already accepted arrived again (a replay, "
                        "or a resend after a receiver restart in a new folder): acknowledged, not written"
                    )
                return
        t0 = time.perf_counter()
        image = self.receiver.image(header, payload)
        t_decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        score = self.receiver.scores(image)[0]
        t_score = time.perf_counter() - t0
        self._write(header, image[0], score, arrived, t_open, t_decode, t_score)
        with self._lock:
            sealed, number = self._newest.get(header.sender_id, (-1, -1))
            self.log.out_of_order += header.timestamp_ns < sealed and header.sequence < number
            if header.timestamp_ns > sealed:
                self._newest[header.sender_id] = (header.timestamp_ns, header.sequence)
        client.publish(f"{self.topic}/ack", ack, qos=1)  # only once the image is on disk

    def _write(self, header, image, score, arrived, t_open, t_decode, t_score) -> None:
        row = {
            "image_id": header.image_hex,
            "sender_id": header.sender_id.hex(),
            "sequence": header.sequence,
            "payload": header.quantisation,
            "score": "" if score is None else round(score, 6),  # blank: received without a run, not classified
            "sealed_to_arrival_ms": round((arrived - header.timestamp_ns) / 1e6, 3),
            "open_ms": round(t_open * 1e3, 3),
            "decode_ms": round(t_decode * 1e3, 3),
            "classify_ms": round(t_score * 1e3, 3),
        }
        _fsynced_write(self.out / f"{header.image_hex}.png", pngfiles.png_bytes(image))
        with self._lock:
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=self._fields or list(row), extrasaction="ignore")
            if self._fields is None:
                writer.writeheader()
                self._fields = list(row)
            writer.writerow(row)
            _fsynced_write(self.out / LEDGER, text.getvalue().encode(), "ab")
            self._seen.add((header.sender_id, header.image_id))
            self.log.accepted.append(row)
            count = len(self.log.accepted)
        if self.progress and count % PROGRESS_EVERY == 0:
            log.info(f"received {count} image(s); {self.log.duplicates} duplicate(s), {self.log.refusals} refused")

    def wait(self, count: int, timeout_s: float) -> bool:
        """Until `count` images are accepted (True) or `timeout_s` passes (False). A receiver that can no longer
        work — its disk full or unwritable, its network thread gone — is an AecryptError within a second."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            with self._lock:
                if self.log.fatal:
                    raise AecryptError(self.log.fatal)
                if len(self.log.accepted) >= count:
                    return True
            thread = getattr(self.client, "_thread", None)  # paho's network thread (no public accessor)
            if self.client is not None and thread is not None and not thread.is_alive():
                raise AecryptError("the receiver's MQTT network thread ended; restart `aecrypt receive`")
            time.sleep(0.02)
        return False
