"""The paper's IoT link over MQTT: a sender publishes one packet per image, a receiver subscribes, checks,
decrypts, decodes and classifies. paho-mqtt clients, QoS 1, persistent sessions, a bounded number of
messages in flight; TLS (mqtts://) with a CA to verify the broker and, as an option, client certificates.

"Nothing lost" does not rest on the broker: the embedded broker keeps nothing on disk, so the sender keeps an
outbox and publishes each packet again until the receiver acknowledges it at the application level (its
image id on `<topic>/ack`). The receiver drops a packet it has already accepted (same sender and image id)
and acknowledges it again, so resends and replays never write twice (a restarted receiver reads what it has
already written from its received.csv). The brokers are `link.brokers`; addresses and TLS `link.addresses`."""

from __future__ import annotations

import csv
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aecrypt import AecryptError
from aecrypt.link import codecs, packets
from aecrypt.link.addresses import Address

MAX_INFLIGHT = 20
RESEND_S = 2.0
CONNECT_TIMEOUT_S = 10.0


def _connect(client_id: str, address: Address, clean: bool, subscribe: str, on_message):
    """A paho client, connected and subscribed (QoS 1) before it is returned, its network loop running and
    reconnecting (and subscribing again) by itself after a lost connection. A broker that cannot be reached,
    fails TLS or refuses the connection is an AecryptError that says which."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.reconnect_delay_set(min_delay=0.2, max_delay=2)
    if address.tls:
        tls = address.tls
        client.tls_set(
            ca_certs=str(tls.ca) if tls.ca else None,
            certfile=str(tls.cert) if tls.cert else None,
            keyfile=str(tls.key) if tls.key else None,
        )
    ready, failures = threading.Event(), []

    def on_connect(c, _u, _flags, reason, _props):
        if reason.is_failure:
            failures.append(f"refused: {reason}")
        else:
            c.subscribe(subscribe, qos=1)

    def on_disconnect(_c, _u, _flags, reason, _props):
        if not ready.is_set():
            failures.append(f"closed the connection ({reason})")

    client.on_connect, client.on_disconnect, client.on_message = on_connect, on_disconnect, on_message
    client.on_subscribe = lambda *_: ready.set()
    try:
        client.connect(address.host, address.port, keepalive=10)
    except ssl.SSLError as exc:
        raise AecryptError(
            f"TLS with {address.url} failed: {exc.reason or exc} (is the broker's certificate signed by --tls-ca, and "
            f"issued for {address.host}?)"
        ) from None
    except OSError as exc:
        raise AecryptError(
            f"cannot reach an MQTT broker at {address.url} ({exc.strerror or exc}); start `aecrypt receive` "
            "first (it runs the embedded broker), or give --broker mqtt://HOST:PORT"
        ) from None
    client.loop_start()
    deadline = time.perf_counter() + CONNECT_TIMEOUT_S
    while not ready.wait(0.02) and not failures and time.perf_counter() < deadline:
        pass
    if not ready.is_set():
        client.disconnect()  # first: it wakes the network loop, which loop_stop then joins at once
        client.loop_stop()
        hint = (
            "; a broker that requires client certificates needs --tls-cert and --tls-key"
            if address.tls and not address.tls.cert
            else ""
        )
        why = failures[0] if failures else f"no answer within {CONNECT_TIMEOUT_S:.0f} s"
        raise AecryptError(f"the broker at {address.url} did not accept this client: {why}{hint}")
    return client


@dataclass
class SendReport:
    sent: int
    acknowledged: int
    resends: int
    seconds: float
    interrupted: bool = False


def send(
    packets_out: Iterable[bytes],
    address: Address,
    topic: str,
    timeout_s: float = 60.0,
    rate: float | None = None,
    client_id: str = "aecrypt-sender",
) -> SendReport:
    """Publish every packet (at `rate` per second, or as fast as the in-flight bound allows) and resend the
    unacknowledged ones every RESEND_S until all are acknowledged or `timeout_s` passes. `packets_out` may be
    a generator that seals each packet when it is due (a device taking images as it goes). Ctrl-C stops it
    with what was acknowledged so far."""
    outbox: dict[bytes, bytes] = {}
    acked: set[bytes] = set()
    lock = threading.Lock()

    def on_ack(_c, _u, message):
        with lock:
            acked.add(bytes(message.payload))

    client = _connect(client_id, address, False, f"{topic}/ack", on_ack)
    started, resends, interrupted = time.perf_counter(), 0, False
    try:
        for i, p in enumerate(packets_out):
            if rate:
                time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            outbox[packets.parse(p).header.image_id] = p
            client.publish(topic, p, qos=1)
        last = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            with lock:
                missing = [k for k in outbox if k not in acked]
            if not missing:
                break
            if time.perf_counter() - last > RESEND_S:
                for k in missing:
                    client.publish(topic, outbox[k], qos=1)
                resends += len(missing)
                last = time.perf_counter()
            time.sleep(0.02)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        client.disconnect()  # first: it wakes the network loop, which loop_stop then joins at once
        client.loop_stop()
    with lock:
        done = sum(k in acked for k in outbox)
    return SendReport(len(outbox), done, resends, time.perf_counter() - started, interrupted)


@dataclass
class ReceiveLog:
    """What a receiver did: accepted images (one CSV row each), and what it refused or dropped, by reason."""

    accepted: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    duplicates: int = 0


class LinkReceiver:
    """Subscribes, and for each message: parse and open (refusals logged, the stream goes on), drop what it
    has seen, decode and classify, write the PNG and a CSV row, acknowledge."""

    def __init__(self, receiver, out: Path, address: Address, topic: str, client_id: str = "aecrypt-receiver"):
        self.receiver, self.out, self.address, self.topic = receiver, Path(out), address, topic
        self.client_id = client_id
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = ReceiveLog()
        self.client = None
        self._lock = threading.Lock()
        self._seen: set[tuple[bytes, bytes]] = set()
        if (self.out / "received.csv").is_file():  # a restarted receiver remembers what it already wrote
            with (self.out / "received.csv").open() as f:
                self._seen = {(bytes.fromhex(r["sender_id"]), bytes.fromhex(r["image_id"])) for r in csv.DictReader(f)}

    def start(self) -> LinkReceiver:
        """Connect with a persistent session (QoS 1 messages wait for it while it is away) and subscribe."""
        self.client = _connect(self.client_id, self.address, False, self.topic, self._on_message)
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

    def _on_message(self, client, _userdata, message) -> None:
        arrived = time.time_ns()
        try:
            t0 = time.perf_counter()
            header, payload = self.receiver.open(bytes(message.payload))
            t_open = time.perf_counter() - t0
        except (packets.PacketError, AecryptError) as exc:
            with self._lock:
                self.log.refused.append(str(exc))
            return
        key = (header.sender_id, header.image_id)
        with self._lock:
            if key in self._seen:  # a resend, or a replay: either way never written twice
                self.log.duplicates += 1
                client.publish(f"{self.topic}/ack", header.image_id, qos=1)
                return
        t0 = time.perf_counter()
        image = self.receiver.image(header, payload)
        t_decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        score = float(self.receiver.run.score(image)[0])
        t_score = time.perf_counter() - t0
        self._write(header, image[0], score, arrived, t_open, t_decode, t_score)
        client.publish(f"{self.topic}/ack", header.image_id, qos=1)

    def _write(self, header, image, score, arrived, t_open, t_decode, t_score) -> None:
        codecs.save_png(image, self.out / f"{header.image_hex}.png")
        row = {
            "image_id": header.image_hex,
            "sender_id": header.sender_id.hex(),
            "sequence": header.sequence,
            "payload": header.quantisation,
            "score": round(score, 6),
            "sealed_to_arrival_ms": round((arrived - header.timestamp_ns) / 1e6, 3),
            "open_ms": round(t_open * 1e3, 3),
            "decode_ms": round(t_decode * 1e3, 3),
            "classify_ms": round(t_score * 1e3, 3),
        }
        with self._lock:
            self._seen.add((header.sender_id, header.image_id))
            self.log.accepted.append(row)
            path = self.out / "received.csv"
            new = not path.is_file()
            with path.open("a", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)

    def wait(self, count: int, timeout_s: float) -> bool:
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            with self._lock:
                if len(self.log.accepted) >= count:
                    return True
            time.sleep(0.02)
        return False
