"""The paper's IoT link over MQTT: a sender publishes one packet per image, a receiver subscribes, checks,
decrypts, decodes and classifies. paho-mqtt clients, QoS 1, persistent sessions, a bounded number of
messages in flight.

"Nothing lost" does not rest on the broker: the embedded broker keeps nothing on disk, so the sender keeps an
outbox and publishes each packet again until the receiver acknowledges it at the application level (its
image id on `<topic>/ack`). The receiver drops a packet it has already accepted (same sender and image id)
and acknowledges it again, so resends and replays never write twice (a restarted receiver reads what it has
already written from its received.csv).

The embedded broker (amqtt, in this process, on a loopback port) is the default; `--broker mqtt://HOST:PORT`
uses any other broker, such as mosquitto."""

from __future__ import annotations

import asyncio
import csv
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import AecryptError, packets

DEFAULT_PORT = 1883
MAX_INFLIGHT = 20
RESEND_S = 2.0


def parse_broker(url: str | None) -> tuple[str, int]:
    """mqtt://HOST:PORT (default 127.0.0.1:1883) → (host, port); anything else is an error listing the form."""
    if not url:
        return "127.0.0.1", DEFAULT_PORT
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise AecryptError(f"--broker {url!r}: give mqtt://HOST:PORT, e.g. mqtt://127.0.0.1:1883")
    return parts.hostname, parts.port or DEFAULT_PORT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedBroker:
    """An amqtt broker in a thread of this process, listening on 127.0.0.1 only; a context manager."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="aecrypt-broker")
        self._broker = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        import logging

        from amqtt.broker import Broker

        logging.getLogger("amqtt").setLevel(logging.ERROR)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }
        self._thread.start()

        async def start():
            self._broker = Broker(config, loop=self._loop)
            await self._broker.start()

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
            self._broker = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MosquittoBroker:
    """A mosquitto child process on 127.0.0.1 (where the binary is installed), for testing the link against
    the broker people run; persistence off, so "nothing lost" rests on the outbox as with the embedded one."""

    def __init__(self, port: int | None = None):
        import shutil

        self.binary = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).is_file()), None
        )
        if self.binary is None:
            raise AecryptError("mosquitto is not installed (apt install mosquitto); the embedded broker needs nothing")
        self.port = port or free_port()
        self._proc = None
        self._dir = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> MosquittoBroker:
        import subprocess
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="aecrypt-mosquitto-")
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self._proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self._proc.poll() is not None:
                raise AecryptError(f"mosquitto exited: {self._proc.stderr.read().decode(errors='replace').strip()}")
            time.sleep(0.05)
        self.stop()
        raise AecryptError(f"mosquitto did not listen on 127.0.0.1:{self.port} within 10 s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except Exception:  # a broker that will not stop is killed
                self._proc.kill()
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


BROKERS = {"embedded": EmbeddedBroker, "mosquitto": MosquittoBroker}


def _client(client_id: str, host: str, port: int, clean: bool):
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.reconnect_delay_set(min_delay=0.2, max_delay=2)
    try:
        client.connect(host, port, keepalive=10)
    except OSError as exc:
        raise AecryptError(
            f"cannot reach an MQTT broker at mqtt://{host}:{port} ({exc.strerror or exc}); start `aecrypt receive` "
            "first (it runs the embedded broker), or give --broker mqtt://HOST:PORT"
        ) from None
    return client


@dataclass
class SendReport:
    sent: int
    acknowledged: int
    resends: int
    seconds: float


def send(
    packets_out: Iterable[bytes],
    host: str,
    port: int,
    topic: str,
    timeout_s: float = 60.0,
    rate: float | None = None,
    client_id: str = "aecrypt-sender",
) -> SendReport:
    """Publish every packet (at `rate` per second, or as fast as the in-flight bound allows) and resend the
    unacknowledged ones every RESEND_S until all are acknowledged or `timeout_s` passes. `packets_out` may be
    a generator that seals each packet when it is due (a device taking images as it goes)."""
    outbox: dict[bytes, bytes] = {}
    acked: set[bytes] = set()
    lock = threading.Lock()
    client = _client(client_id, host, port, clean=False)

    def on_message(_c, _u, message):
        with lock:
            acked.add(bytes(message.payload))

    def on_connect(c, _u, _f, _rc, _p=None):
        c.subscribe(f"{topic}/ack", qos=1)

    client.on_message, client.on_connect = on_message, on_connect
    client.loop_start()
    started, resends = time.perf_counter(), 0
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
    finally:
        client.loop_stop()
        client.disconnect()
    with lock:
        done = sum(k in acked for k in outbox)
    return SendReport(len(outbox), done, resends, time.perf_counter() - started)


@dataclass
class ReceiveLog:
    """What a receiver did: accepted images (one CSV row each), and what it refused or dropped, by reason."""

    accepted: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    duplicates: int = 0


class LinkReceiver:
    """Subscribes, and for each message: parse and open (refusals logged, the stream goes on), drop what it
    has seen, decode and classify, write the PNG and a CSV row, acknowledge."""

    def __init__(self, receiver, out: Path, host: str, port: int, topic: str, client_id: str = "aecrypt-receiver"):
        self.receiver, self.out, self.topic = receiver, Path(out), topic
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = ReceiveLog()
        self._lock = threading.Lock()
        self._seen: set[tuple[bytes, bytes]] = set()
        if (self.out / "received.csv").is_file():  # a restarted receiver remembers what it already wrote
            with (self.out / "received.csv").open() as f:
                self._seen = {(bytes.fromhex(r["sender_id"]), bytes.fromhex(r["image_id"])) for r in csv.DictReader(f)}
        self.client = _client(client_id, host, port, clean=False)  # persistent: QoS 1 messages wait for it
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)

    def start(self) -> LinkReceiver:
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def _on_message(self, client, _userdata, message) -> None:
        arrived = time.time_ns()
        try:
            t0 = time.perf_counter()
            header, latent = self.receiver.open(bytes(message.payload))
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
        image = self.receiver.run.decode(latent)
        t_decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        score = float(self.receiver.run.score(image)[0])
        t_score = time.perf_counter() - t0
        self._write(header, image[0], score, arrived, t_open, t_decode, t_score)
        client.publish(f"{self.topic}/ack", header.image_id, qos=1)

    def _write(self, header, image, score, arrived, t_open, t_decode, t_score) -> None:
        import numpy as np
        from PIL import Image

        name = f"{header.image_hex}.png"
        Image.fromarray(np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)).save(self.out / name)
        row = {
            "image_id": header.image_hex,
            "sender_id": header.sender_id.hex(),
            "sequence": header.sequence,
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
