"""Fault drills on the link, on loopback: each one starts a broker and a receiver, streams a few images through
them, injects one fault (a tampered, malformed, foreign or replayed packet; a receiver killed mid-stream; the
broker restarted mid-stream) and reports what arrived. The tests assert on these results; `benchmarks/link.py`
records them, and the book's fault table shows that record. Every drill is bounded in images and seconds."""

from __future__ import annotations

import csv
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from aecrypt.link import addresses, brokers, endpoints, mqtt, packets
from aecrypt.runs import trained

TOPIC = "aecrypt/drill"
STREAM_TIMEOUT_S = 30.0  # no drill waits longer for its stream


@dataclass
class Ends:
    """What a drill streams: a trained run, a key, and the images (N × size × size)."""

    run: trained.TrainedRun
    key: object
    images: np.ndarray


@dataclass
class DrillResult:
    """One drill: the fault, what was expected, and what happened (counted from the receiver's folder)."""

    fault: str
    expected: str
    broker: str
    sent: int  # genuine images the sender streamed
    acknowledged: int
    written: int  # distinct images in received.csv
    rows: int  # rows in received.csv: more than `written` would mean an image written twice
    pngs: int
    duplicates: int
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    passed: bool = False

    @property
    def lost(self) -> int:
        return self.sent - self.written

    def as_dict(self) -> dict:
        return asdict(self) | {"lost": self.lost}


def _inject(address: addresses.Address, payloads: list[bytes]) -> None:
    """Publish raw payloads (QoS 1) as someone else on the topic would: no packet checks on this side."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"intruder-{packets.new_id().hex()}")
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        for payload in payloads:
            client.publish(TOPIC, payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def _sealed(ends: Ends, sender: str) -> list[bytes]:
    return endpoints.Sender(ends.run, ends.key, name=sender).seal(ends.images)


def _result(
    fault: str, expected: str, kind: str, out: Path, sent: int, report, rx, started: float, check
) -> DrillResult:
    path = out / "received.csv"
    rows = []
    if path.is_file():
        with path.open() as f:
            rows = list(csv.DictReader(f))
    result = DrillResult(
        fault,
        expected,
        kind,
        sent,
        report.acknowledged if report else 0,
        len({r["image_id"] for r in rows}),
        len(rows),
        len(list(out.glob("*.png"))),
        rx.log.duplicates,
        list(rx.log.refused),
        round(time.perf_counter() - started, 2),
    )
    delivered = result.written == result.rows == result.pngs == sent == result.acknowledged
    result.passed = bool(delivered and check(result))
    return result


def _bad_packet(
    name: str, fault: str, expected: str, make_bad: Callable[[Ends, list[bytes]], bytes], check
) -> Callable:
    """A drill that publishes one bad packet on the topic, then the genuine stream."""

    def drill(ends: Ends, kind: str, out: Path) -> DrillResult:
        started = time.perf_counter()
        sealed = _sealed(ends, f"drill-{fault}")
        with brokers.BROKERS[kind]() as broker:
            rx = mqtt.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
            try:
                _inject(broker.address(), [make_bad(ends, sealed)])
                report = mqtt.send(sealed, broker.address(), TOPIC, timeout_s=STREAM_TIMEOUT_S)
                rx.wait(len(sealed), 10)
                time.sleep(0.2)  # a refusal still in flight is counted
            finally:
                rx.stop()
        return _result(fault, expected, kind, out, len(sealed), report, rx, started, check)

    drill.__name__ = drill.__qualname__ = name
    return drill


def _tampered(_ends: Ends, sealed: list[bytes]) -> bytes:
    bad = bytearray(sealed[0])
    bad[-20] ^= 1  # one bit of the payload
    return bytes(bad)


def _foreign(ends: Ends, sealed: list[bytes]) -> bytes:
    header = packets.parse(sealed[0]).header
    other_run = packets.new_id()
    return packets.seal(
        np.zeros(header.shape, np.float32), "aes-gcm", ends.key.key, ends.key.key_id, other_run, header.sender_id, 99
    )


def _refused(text: str):
    return lambda r: any(text in reason for reason in r.refused)


tampered = _bad_packet(
    "tampered",
    "tampered packet",
    "refused as failing authentication; the stream goes on",
    _tampered,
    _refused("failed authentication"),
)
malformed = _bad_packet(
    "malformed",
    "malformed payload",
    "refused with its reason, no crash; the stream goes on",
    lambda _e, _s: b"not a packet at all",
    _refused("truncated packet"),
)
foreign_run = _bad_packet(
    "foreign_run",
    "packet for another run",
    "refused (is for run …); the stream goes on",
    _foreign,
    _refused("is for run"),
)


def replay(ends: Ends, kind: str, out: Path) -> DrillResult:
    """The stream, then one of its packets published again by someone else: dropped, acknowledged, not written."""
    started = time.perf_counter()
    sealed = _sealed(ends, "drill-replay")
    with brokers.BROKERS[kind]() as broker:
        rx = mqtt.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
        try:
            report = mqtt.send(sealed, broker.address(), TOPIC, timeout_s=STREAM_TIMEOUT_S)
            rx.wait(len(sealed), 10)
            _inject(broker.address(), [sealed[len(sealed) // 2]])
            deadline = time.perf_counter() + 5
            while rx.log.duplicates == 0 and time.perf_counter() < deadline:
                time.sleep(0.02)
        finally:
            rx.stop()
    return _result(
        "replayed packet",
        "dropped as a duplicate and acknowledged again; written once",
        kind,
        out,
        len(sealed),
        report,
        rx,
        started,
        lambda r: r.duplicates >= 1,
    )


def _send_in_background(
    sealed: list[bytes], address: addresses.Address, rate: float | None
) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        result["report"] = mqtt.send(sealed, address, TOPIC, timeout_s=STREAM_TIMEOUT_S, rate=rate)

    thread = threading.Thread(target=run, name="drill-sender")
    thread.start()
    return thread, result


def receiver_restart(ends: Ends, kind: str, out: Path) -> DrillResult:
    """The receiver is killed (its connection dropped without a goodbye) after half the stream and started
    again on the same folder while the sender goes on: every image once."""
    started = time.perf_counter()
    sealed = _sealed(ends, "drill-receiver-restart")
    half = len(sealed) // 2
    receiver = endpoints.Receiver(ends.run, ends.key)
    with brokers.BROKERS[kind]() as broker:
        first = mqtt.LinkReceiver(receiver, out, broker.address(), TOPIC, "drill-rx").start()
        thread, sent = _send_in_background(sealed, broker.address(), rate=20)
        first.wait(half, 10)
        first.kill()
        time.sleep(0.3)  # packets published meanwhile wait in the receiver's persistent session
        second = mqtt.LinkReceiver(receiver, out, broker.address(), TOPIC, "drill-rx").start()
        try:
            thread.join(STREAM_TIMEOUT_S + 5)
            second.wait(len(sealed) - len(first.log.accepted), 10)
        finally:
            second.stop()
    second.log.duplicates += first.log.duplicates
    return _result(
        "receiver killed and restarted mid-stream",
        "every image arrives once (persistent session, resends, received.csv)",
        kind,
        out,
        len(sealed),
        sent.get("report"),
        second,
        started,
        lambda r: half <= len(first.log.accepted) < len(sealed),  # it really was killed mid-stream
    )


def broker_restart(ends: Ends, kind: str, out: Path) -> DrillResult:
    """The broker is stopped after a third of the stream (forgetting every session and queued message) and
    started again on the same port: sender and receiver reconnect, the outbox resends, nothing is lost."""
    started = time.perf_counter()
    sealed = _sealed(ends, "drill-broker-restart")
    port = addresses.free_port()
    broker = brokers.BROKERS[kind](port).start()
    rx = mqtt.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
    try:
        thread, sent = _send_in_background(sealed, broker.address(), rate=10)
        rx.wait(max(1, len(sealed) // 3), 10)
        before = len(rx.log.accepted)
        broker.stop()
        broker = brokers.BROKERS[kind](port).start()
        thread.join(STREAM_TIMEOUT_S + 5)
        rx.wait(len(sealed), 10)
    finally:
        rx.stop()
        broker.stop()
    return _result(
        "broker restarted mid-stream",
        "both ends reconnect; the sender's outbox resends what the broker forgot",
        kind,
        out,
        len(sealed),
        sent.get("report"),
        rx,
        started,
        lambda r: 0 < before < len(sealed),  # the broker really went away mid-stream
    )


DRILLS = (tampered, malformed, foreign_run, replay, receiver_restart, broker_restart)


def run_drills(ends: Ends, kinds: tuple[str, ...] = ("embedded",)) -> list[DrillResult]:
    """Every drill against every broker kind given, each in a fresh folder."""
    results = []
    for kind in kinds:
        for drill in DRILLS:
            with tempfile.TemporaryDirectory(prefix="aecrypt-drill-") as out:
                results.append(drill(ends, kind, Path(out)))
    return results
