"""Fault drills on the link, on loopback: each one starts a broker and a receiver, streams a few images through
them, injects one fault and reports what arrived. Here the framework and the drills of bad packets on the
topic (tampered, malformed, for another run, replayed, stale, from the future, a decompression bomb);
`link.crashes` has those where an end fails. The tests assert on these results; `benchmarks/link.py` records
them, and the book's fault table shows that record. Every drill is bounded in images and seconds."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from aecrypt.link import addresses, brokers, endpoints, mqtt, packets, pngfiles, receiving
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
            rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
            try:
                _inject(broker.address(), [make_bad(ends, sealed)])
                report = mqtt.send(sealed, broker.address(), TOPIC, ends.key, timeout_s=STREAM_TIMEOUT_S)
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
        rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
        try:
            report = mqtt.send(sealed, broker.address(), TOPIC, ends.key, timeout_s=STREAM_TIMEOUT_S)
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


def _sealed_at(ends: Ends, sealed: list[bytes], timestamp_ns: int) -> bytes:
    """A genuine packet (right key, run and sender) whose timestamp is `timestamp_ns`."""
    h = packets.parse(sealed[0]).header
    latent = ends.run.encode(ends.images[:1])
    return packets.seal(latent, "aes-gcm", ends.key.key, h.key_id, h.run_id, h.sender_id, 99, timestamp_ns=timestamp_ns)


def _bomb(ends: Ends, sealed: list[bytes]) -> bytes:
    """A genuine AEAD packet whose PNG declares 8000 × 8000 pixels (64 MB decoded, below Pillow's own bomb
    limit) in a few dozen bytes, under a header that claims the run's own image size."""
    h = packets.parse(sealed[0]).header
    png = pngfiles.png_header(8000, 8000)
    size = ends.run.size
    head = packets.Header(
        "aes-gcm", "png", h.key_id, h.run_id, h.sender_id, 98, time.time_ns(), packets.new_id(), (1, size, size)
    )
    return packets.seal_raw(head, png, ends.key.key)


stale = _bad_packet(
    "stale",
    "stale timestamp (1970)",
    "refused as stale; the stream goes on",
    lambda e, s: _sealed_at(e, s, 1),
    _refused("stale packet"),
)
future = _bad_packet(
    "future",
    "timestamp in the future (2100)",
    "refused as from the future; the stream goes on",
    lambda e, s: _sealed_at(e, s, 4_102_444_800 * 10**9),
    _refused("from the future"),
)
decompression_bomb = _bad_packet(
    "decompression_bomb",
    "decompression bomb (a PNG declaring 8000²)",
    "refused from its declared size before a pixel is decoded; the stream goes on",
    _bomb,
    _refused("declares 8000 × 8000"),
)

PACKET_DRILLS = (tampered, malformed, foreign_run, replay, stale, future, decompression_bomb)
