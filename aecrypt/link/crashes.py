"""Fault drills where an end of the link fails (`link.faults` has the framework and the bad packets): the
receiver killed and restarted, the broker restarted, the sender killed and restarted on its outbox, the
receiver's disk full, its received.csv torn by a crash, acknowledgements forged by someone on the broker.
Each shows what the user sees, that nothing is lost and nothing is written twice."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import tempfile
import threading
import time
from pathlib import Path

from aecrypt import AecryptError
from aecrypt.link import acks, addresses, brokers, endpoints, keys, mqtt, packets, receiving
from aecrypt.link.faults import PACKET_DRILLS, STREAM_TIMEOUT_S, TOPIC, DrillResult, Ends, _result, _sealed
from aecrypt.link.outbox import Outbox


def _send_in_background(
    sealed: list[bytes], address: addresses.Address, key, rate: float | None
) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        result["report"] = mqtt.send(sealed, address, TOPIC, key, timeout_s=STREAM_TIMEOUT_S, rate=rate)

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
        first = receiving.LinkReceiver(receiver, out, broker.address(), TOPIC).start()
        thread, sent = _send_in_background(sealed, broker.address(), ends.key, rate=20)
        first.wait(half, 10)
        first.kill()
        time.sleep(0.3)  # packets published meanwhile wait in the receiver's persistent session
        second = receiving.LinkReceiver(receiver, out, broker.address(), TOPIC).start()
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
    rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
    try:
        thread, sent = _send_in_background(sealed, broker.address(), ends.key, rate=10)
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


def _sources(ends: Ends) -> list[str]:
    return [f"drill image {i}" for i in range(len(ends.images))]


def sender_restart(ends: Ends, kind: str, out: Path) -> DrillResult:
    """The sender dies after 4 of 6 images (its process gone: no goodbye, nothing acknowledged after) and is
    started again on the same outbox, sealing the same images again: the image ids it derives are the same, so
    the receiver drops what it already wrote, and the outbox resends what was in flight."""
    started = time.perf_counter()
    box = out / "outbox"
    sender = endpoints.Sender(ends.run, ends.key, name="drill-sender-restart")
    rx_out = out / "received"
    with brokers.BROKERS[kind]() as broker:
        rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), rx_out, broker.address(), TOPIC).start()
        try:

            def dies_after_four():
                yield from sender.seal(ends.images[:4], _sources(ends)[:4])
                raise KeyboardInterrupt  # the process ends here: what it had not seen acknowledged stays on disk

            mqtt.send(dies_after_four(), broker.address(), TOPIC, ends.key, timeout_s=5, outbox=Outbox(box))
            again = endpoints.Sender(ends.run, ends.key, name="drill-sender-restart")
            report = mqtt.send(
                again.seal(ends.images, _sources(ends)),
                broker.address(),
                TOPIC,
                ends.key,
                timeout_s=STREAM_TIMEOUT_S,
                outbox=Outbox(box),
            )
            rx.wait(len(ends.images), 10)
        finally:
            rx.stop()
    return _result(
        "sender killed and restarted",
        "the restarted sender derives the same image ids and resends its outbox: every image written once",
        kind,
        rx_out,
        len(ends.images),
        report,
        rx,
        started,
        lambda r: r.rows == len(ends.images) and not list(box.glob("*.aecp")),
    )


class _FullDisk:
    """The receiver's writes fail with ENOSPC from the `after`-th file on (a disk that fills), until freed."""

    def __init__(self, after: int):
        self.after, self.writes, self.full = after, 0, True
        self.original = receiving._fsynced_write

    def __call__(self, path, data, mode="wb"):
        self.writes += 1
        if self.full and self.writes > self.after:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return self.original(path, data, mode)


def disk_full(ends: Ends, kind: str, out: Path) -> DrillResult:
    """The receiver's disk fills after the first image (an injected ENOSPC at the write): the receiver stops
    within seconds, naming the cause, and nothing it could not write is acknowledged; with space again, a
    receiver on the same folder gets the rest from the sender's outbox."""
    started = time.perf_counter()
    sealed = _sealed(ends, "drill-disk-full")
    full = _FullDisk(after=2)  # the first PNG and its row; the second PNG fails
    seen: dict = {}
    with brokers.BROKERS[kind]() as broker:
        receiving._fsynced_write = full
        try:
            rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
            thread, sent = _send_in_background(sealed, broker.address(), ends.key, rate=None)
            t0 = time.perf_counter()
            try:
                rx.wait(len(sealed), 10)
            except AecryptError as exc:
                seen.update(message=str(exc), seconds=time.perf_counter() - t0)
            rx.stop()
        finally:
            receiving._fsynced_write = full.original
        first, rx = rx, receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC)
        rx.start()
        try:
            thread.join(STREAM_TIMEOUT_S + 5)
            rx.wait(len(sealed) - len(first.log.accepted), 10)  # the rest: not the full count (a 10-s wait)
        finally:
            rx.stop()
    return _result(
        "receiver's disk full",
        "the receiver stops within seconds naming the full disk (exit 1); with space again the outbox delivers",
        kind,
        out,
        len(sealed),
        sent.get("report"),
        rx,
        started,
        lambda r: "No space left on device" in seen.get("message", "") and seen["seconds"] < 5,
    )


@contextlib.contextmanager
def _caught_warnings():
    """The aecrypt logger's warnings inside the block, collected instead of printed."""
    caught: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            caught.append(record.getMessage())

    logger = logging.getLogger("aecrypt")
    handler, propagate = Keep(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield caught
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def torn_ledger(ends: Ends, kind: str, out: Path) -> DrillResult:
    """A receiver that crashed while appending the 4th image's row to received.csv (after 3 were written and
    acknowledged): the restarted receiver cuts the torn row with a warning, and the resent image is written."""
    started = time.perf_counter()
    sealed = _sealed(ends, "drill-torn-ledger")
    with brokers.BROKERS[kind]() as broker:
        first = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC).start()
        try:
            mqtt.send(sealed[:3], broker.address(), TOPIC, ends.key, timeout_s=STREAM_TIMEOUT_S)
            first.wait(3, 10)
        finally:
            first.stop()
        torn = packets.parse(sealed[3]).header.image_hex
        with (out / receiving.LEDGER).open("a") as f:
            f.write(f"{torn},{packets.parse(sealed[3]).header.sender_id.hex()},3,flo")  # cut mid-row
        with _caught_warnings() as warned:  # what the user sees, kept for the check (not printed)
            rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, broker.address(), TOPIC)
        rx.start()
        try:
            report = mqtt.send(sealed, broker.address(), TOPIC, ends.key, timeout_s=STREAM_TIMEOUT_S)
            rx.wait(len(sealed) - 3, 10)
        finally:
            rx.stop()
    return _result(
        "received.csv torn by a crash",
        "the torn row is cut with a warning; the image it was for is written once when resent",
        kind,
        out,
        len(sealed),
        report,
        rx,
        started,
        lambda r: rx.log.duplicates == 3 and any("a torn last row" in w for w in warned),
    )


def forged_ack(ends: Ends, kind: str, out: Path) -> DrillResult:
    """Someone on the broker acknowledges every packet it sees — each image id copied back bare (the old
    format) and with a made-up tag — while no receiver runs: the sender counts them as ignored and keeps
    every packet; once the receiver starts, every image arrives and is acknowledged for real."""
    import paho.mqtt.client as paho

    started = time.perf_counter()
    sealed = _sealed(ends, "drill-forged-ack")
    with brokers.BROKERS[kind]() as broker:
        address = broker.address()
        forger = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=mqtt.client_id("forger"))

        def echo(client, _u, message):
            image_id = packets.parse(message.payload).header.image_id
            client.publish(f"{TOPIC}/ack", image_id, qos=1)  # the bare id
            client.publish(f"{TOPIC}/ack", acks.MAGIC + bytes([acks.VERSION]) + image_id + bytes(16), qos=1)

        forger.on_message = echo
        forger.connect(address.host, address.port)
        forger.subscribe(TOPIC, qos=1)
        forger.loop_start()
        try:
            thread, sent = _send_in_background(sealed, address, ends.key, rate=None)
            time.sleep(2.5)  # a resend round with only the forger listening
            rx = receiving.LinkReceiver(endpoints.Receiver(ends.run, ends.key), out, address, TOPIC).start()
            try:
                thread.join(STREAM_TIMEOUT_S + 5)
                rx.wait(len(sealed), 10)
            finally:
                rx.stop()
        finally:
            forger.disconnect()
            forger.loop_stop()
    report = sent.get("report")
    return _result(
        "forged acknowledgements",
        "ignored and counted by the sender (bare ids, wrong tags); the packets wait for the real receiver",
        kind,
        out,
        len(sealed),
        report,
        rx,
        started,
        lambda r: report is not None and sum(report.refused_acks.values()) >= 2 * len(sealed),
    )


CRASH_DRILLS = (receiver_restart, broker_restart, sender_restart, disk_full, torn_ledger, forged_ack)


def _own_deployment(drill):
    """The drill with a key of its own (in its folder): each drill is one deployment, and receivers that share a
    key on one machine treat a packet another folder accepted as a replay (`link.replays`)."""

    @functools.wraps(drill)
    def run(ends: Ends, kind: str, out: Path) -> DrillResult:
        key_path = out / "drill.key"
        key = keys.load(key_path) if key_path.is_file() else keys.generate(key_path)
        return drill(dataclasses.replace(ends, key=key), kind, out)

    return run


DRILLS = tuple(_own_deployment(d) for d in PACKET_DRILLS + CRASH_DRILLS)


def run_drills(ends: Ends, kinds: tuple[str, ...] = ("embedded",)) -> list[DrillResult]:
    """Every drill against every broker kind given, each in a fresh folder."""
    results = []
    for kind in kinds:
        for drill in DRILLS:
            with tempfile.TemporaryDirectory(prefix="aecrypt-drill-") as out:
                results.append(drill(ends, kind, Path(out)))
    return results
