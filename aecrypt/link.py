"""The paper's IoT link over MQTT: a sender publishes one packet per image, a receiver subscribes, checks,
decrypts, decodes and classifies. paho-mqtt clients, QoS 1, persistent sessions, a bounded number of
messages in flight; TLS (mqtts://) with a CA to verify the broker and, as an option, client certificates.

"Nothing lost" does not rest on the broker: the embedded broker keeps nothing on disk, so the sender keeps an
outbox and publishes each packet again until the receiver acknowledges it at the application level (its
image id on `<topic>/ack`). The receiver drops a packet it has already accepted (same sender and image id)
and acknowledges it again, so resends and replays never write twice (a restarted receiver reads what it has
already written from its received.csv).

The embedded broker (amqtt, in this process, on a loopback port) is the default; `--broker mqtt://HOST:PORT`
(or mqtts://) uses any other broker, such as mosquitto."""

from __future__ import annotations

import asyncio
import csv
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import AecryptError, codecs, packets

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
MAX_INFLIGHT = 20
RESEND_S = 2.0
CONNECT_TIMEOUT_S = 10.0


# --- addresses and TLS ----------------------------------------------------------------------------------


def _check_files(tls, described: dict[str, str]) -> None:
    """Each named field of a frozen TLS dataclass as a Path to an existing file (or None), else an error
    that names the option (or role) it came from."""
    for name, what in described.items():
        path = getattr(tls, name)
        if path is not None:
            path = Path(path)
            if not path.is_file():
                raise AecryptError(f"{what} {path}: no such file")
            object.__setattr__(tls, name, path)


@dataclass(frozen=True)
class ClientTLS:
    """A client's TLS: the CA that signed the broker's certificate (None: the system's CAs) and, where the
    broker asks for one, this client's certificate and key."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def __post_init__(self):
        if (self.cert is None) != (self.key is None):
            raise AecryptError("a client certificate needs both --tls-cert and --tls-key")
        _check_files(self, {"ca": "--tls-ca", "cert": "--tls-cert", "key": "--tls-key"})


@dataclass(frozen=True)
class BrokerTLS:
    """A broker's TLS: its certificate and key and, to require client certificates, the CA that signs them."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def __post_init__(self):
        _check_files(self, {"cert": "broker certificate", "key": "broker key", "client_ca": "client CA"})


@dataclass(frozen=True)
class Address:
    """Where a broker listens, and the TLS a client uses to reach it (None: plain MQTT)."""

    host: str
    port: int
    tls: ClientTLS | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker(url: str | None, tls: ClientTLS | None = None) -> Address:
    """mqtt://HOST:PORT (default 127.0.0.1:1883) or mqtts://HOST:PORT (TLS, default port 8883) → Address;
    TLS files with a plain mqtt:// address are an error, since they would be silently ignored."""
    url = url or "mqtt://127.0.0.1:1883"
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise AecryptError(
            f"--broker {url!r}: give mqtt://HOST:PORT or mqtts://HOST:PORT (TLS), e.g. mqtt://127.0.0.1:1883"
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise AecryptError(f"--broker {url!r}: the port is not a number from 1 to 65535") from None
    if parts.scheme == "mqtt" and tls is not None:
        raise AecryptError(f"--tls-* options need a TLS broker address: mqtts://{parts.netloc}, not {url}")
    return Address(parts.hostname, port, (tls or ClientTLS()) if parts.scheme == "mqtts" else None)


def publish_bytes(payload_bytes: int, topic: str) -> int:
    """The size of one QoS 1 MQTT 3.1.1 PUBLISH carrying `payload_bytes`: fixed header, remaining length
    (1–4 bytes), topic, packet id, payload (TCP/IP headers come on top, about 3 % at a 1500-byte MTU)."""
    remaining = 2 + len(topic.encode()) + 2 + payload_bytes
    length_bytes = 1 if remaining < 128 else 2 if remaining < 16384 else 3 if remaining < 2097152 else 4
    return 1 + length_bytes + remaining


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- brokers on loopback ------------------------------------------------------------------------------


class _LoopbackBroker:
    """What both brokers share: a loopback port, an optional TLS listener, a context manager."""

    def __init__(self, port: int | None = None, tls: BrokerTLS | None = None):
        self.port = port or free_port()
        self.tls = tls

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def address(self, tls: ClientTLS | None = None) -> Address:
        """This broker as a client reaches it; a TLS broker needs the client's TLS (at least its CA)."""
        if self.tls and tls is None:
            raise AecryptError(f"{self.url} speaks TLS: give the client's TLS (the CA that signed the broker)")
        return Address("127.0.0.1", self.port, tls if self.tls else None)

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _amqtt_broker_class():
    """amqtt's Broker, with mosquitto's rule for client certificates: required where a client CA is configured,
    not asked for where none is. amqtt 0.12 always asks and accepts a client without one (CERT_OPTIONAL), so a
    CA it was not given fails a client that does present one, and a client CA does not make it required."""
    from amqtt.broker import Broker

    class RequiringBroker(Broker):
        @staticmethod
        def _create_ssl_context(listener):
            context = Broker._create_ssl_context(listener)
            context.verify_mode = ssl.CERT_REQUIRED if listener.get("cafile") else ssl.CERT_NONE
            return context

    return RequiringBroker


class EmbeddedBroker(_LoopbackBroker):
    """An amqtt broker in a thread of this process, listening on 127.0.0.1 only; TLS where given."""

    def __init__(self, port: int | None = None, tls: BrokerTLS | None = None):
        super().__init__(port, tls)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="aecrypt-broker")
        self._broker = None

    def start(self) -> EmbeddedBroker:
        import logging

        # amqtt logs a traceback for every delivery it gives up on (a receiver too busy decoding to acknowledge
        # in time); the sender's outbox resends those, so they are no error of the link
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)
        listener = {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}
        if self.tls:
            listener |= {"ssl": True, "certfile": str(self.tls.cert), "keyfile": str(self.tls.key)}
            if self.tls.client_ca:
                listener["cafile"] = str(self.tls.client_ca)
        config = {
            "listeners": {"default": listener},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
            "topic-check": {"enabled": False},
        }
        self._thread.start()
        broker_class = _amqtt_broker_class()

        async def start():
            self._broker = broker_class(config, loop=self._loop)
            await self._broker.start()

        try:
            asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        except Exception as exc:  # amqtt's BrokerError, e.g. the port taken by another broker
            self._broker = None
            self.stop()
            raise AecryptError(
                f"cannot start the embedded broker on 127.0.0.1:{self.port} ({exc}); if another broker listens there, "
                f"use it with --broker mqtt://127.0.0.1:{self.port}, or give --port N (--port 0: any free port)"
            ) from None
        return self

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
            self._broker = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def mosquitto_binary() -> str | None:
    """The mosquitto broker's path where it is installed (Debian puts it in /usr/sbin)."""
    import shutil

    candidates = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
    return shutil.which("mosquitto") or next((p for p in candidates if Path(p).is_file()), None)


class MosquittoBroker(_LoopbackBroker):
    """A mosquitto child process on 127.0.0.1 (where the binary is installed), for testing the link against
    the broker people run; persistence off, so "nothing lost" rests on the outbox as with the embedded one."""

    def __init__(self, port: int | None = None, tls: BrokerTLS | None = None):
        super().__init__(port, tls)
        self.binary = mosquitto_binary()
        if self.binary is None:
            raise AecryptError("mosquitto is not installed (apt install mosquitto); the embedded broker needs nothing")
        self._proc = None
        self._dir = None

    def _config(self) -> str:
        import getpass

        # run as this user: as root, mosquitto would switch to its own user and could not read an owner-only key
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            f"user {getpass.getuser()}",
        ]
        if self.tls:
            lines += [f"certfile {self.tls.cert}", f"keyfile {self.tls.key}"]
            if self.tls.client_ca:
                lines += [f"cafile {self.tls.client_ca}", "require_certificate true"]
        return "\n".join(lines) + "\n"

    def start(self) -> MosquittoBroker:
        import subprocess
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="aecrypt-mosquitto-")
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(self._config())
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


BROKERS = {"embedded": EmbeddedBroker, "mosquitto": MosquittoBroker}


# --- clients ----------------------------------------------------------------------------------------------


def _connect(client_id: str, address: Address, clean: bool, subscribe: str, on_message):
    """A paho client, connected and subscribed (QoS 1) before it is returned, its network loop running and
    reconnecting (and subscribing again) by itself after a lost connection. A broker that cannot be reached,
    fails TLS or refuses the connection is an AecryptError that says which."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
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
        import socket

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
