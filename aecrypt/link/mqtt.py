"""The paper's IoT link over MQTT, the sender's side: one packet per image published until the receiver
acknowledges it (`link.receiving` is the other side). paho-mqtt clients, QoS 1, persistent sessions, a
bounded number of messages in flight; TLS (mqtts://) with a CA to verify the broker and, as an option, client
certificates.

"Nothing lost" does not rest on the broker: the embedded broker keeps nothing on disk, so the sender keeps an
outbox (`link.outbox`, on disk where a folder is given) and publishes each packet again until an
authenticated acknowledgement (`link.acks`) arrives on `<topic>/ack`. A packet that waits longer than half the
receiver's freshness window is resealed (same image id, a new timestamp and nonce). The brokers are
`link.brokers`; addresses and TLS `link.addresses`."""

from __future__ import annotations

import hashlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aecrypt import AecryptError
from aecrypt.link import acks, packets
from aecrypt.link.addresses import Address
from aecrypt.link.keys import KeyFile
from aecrypt.link.outbox import Outbox

MAX_INFLIGHT = 20
RESEND_S = 2.0
CONNECT_TIMEOUT_S = 10.0
PROGRESS_EVERY = 50  # a progress line every this many images
log = logging.getLogger("aecrypt")


def client_id(role: str, anchor: str | None = None) -> str:
    """An MQTT client id: stable for one folder (an outbox, a receiver's output), so that a restart finds its
    persistent session again, and different for two folders, so that two ends never knock each other off."""
    tail = hashlib.sha256(anchor.encode()).hexdigest()[:12] if anchor else packets.new_id().hex()
    return f"aecrypt-{role}-{tail}"


def connect(name: str, address: Address, clean: bool, subscribe: str, on_message):
    """A paho client, connected and subscribed (QoS 1) before it is returned, its network loop running and
    reconnecting (and subscribing again) by itself after a lost connection. A broker that cannot be reached,
    fails TLS or refuses the connection is an AecryptError that says which."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=name, clean_session=clean)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.reconnect_delay_set(min_delay=0.2, max_delay=2)
    if address.login:
        client.username_pw_set(*address.login)
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
        if address.login and any("authori" in f.lower() or "password" in f.lower() for f in failures):
            hint += "; an aecrypt receiver's broker admits only the holders of its key: is --key the receiver's?"
        raise AecryptError(f"the broker at {address.url} did not accept this client: {why}{hint}")
    return client


@dataclass
class SendReport:
    sent: int  # distinct packets this send published, those a previous sender left in the outbox included
    acknowledged: int
    resends: int
    seconds: float
    interrupted: bool = False
    restored: int = 0  # packets found in the outbox at the start (a restarted sender)
    resealed: int = 0  # resends sealed again because they had waited past half the freshness window
    set_aside: int = 0  # outbox packets sealed under another key, moved to the outbox's other-key/ folder
    refused_acks: dict[str, int] = field(default_factory=dict)  # acknowledgements ignored, by reason


def send(
    packets_out: Iterable[bytes],
    address: Address,
    topic: str,
    key: KeyFile,
    timeout_s: float = 60.0,
    rate: float | None = None,
    client: str | None = None,
    outbox: Outbox | None = None,
    reseal: Callable[[bytes], bytes] | None = None,
    progress: bool = False,
) -> SendReport:
    """Publish every packet (at `rate` per second, or as fast as the in-flight bound allows), each kept in the
    outbox first, and resend the unacknowledged ones every RESEND_S until all are acknowledged or `timeout_s`
    passes; packets a previous sender left in `outbox` go first. Only an acknowledgement that `key` proves
    removes a packet. `packets_out` may be a generator that seals each packet when it is due (a device taking
    images as it goes). Packets of the outbox sealed under another key are moved aside first (`Outbox.set_aside`).
    Ctrl-C stops it with what was acknowledged so far."""
    box = outbox if outbox is not None else Outbox()
    set_aside = box.set_aside(key.key_id)  # after a key change: they could block every send, forever
    acker = acks.Acknowledger(key)
    done: set[bytes] = set()
    refused: dict[str, int] = {}
    lock = threading.Lock()

    def on_ack(_c, _u, message):
        with lock:
            try:
                image_id = acker.check(message.payload, box.ends)
            except acks.AckError as exc:
                reason = str(exc).split(" for image ")[0]  # one count per kind, not per image
                refused[reason] = refused.get(reason, 0) + 1
                return
            box.remove(image_id)
            done.add(image_id)

    anchor = str(box.folder.resolve()) if box.folder else None
    mqtt = connect(client or client_id("sender", anchor), address, False, f"{topic}/ack", on_ack)
    started, resends, resealed, interrupted = time.perf_counter(), 0, 0, False
    restored = list(box.waiting())
    ours: set[bytes] = set(restored)
    half_fresh_ns = int(packets.FRESH_S / 2 * 1e9)
    try:
        for image_id in restored:  # what a killed sender left: sent again before anything new
            mqtt.publish(topic, box[image_id], qos=1)
        for i, p in enumerate(packets_out):
            if rate:
                time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            with lock:
                ours.add(box.put(p))
            mqtt.publish(topic, p, qos=1)
            if progress and (i + 1) % PROGRESS_EVERY == 0:
                log.info(f"sent {i + 1} image(s), {len(done)} acknowledged")
        last = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            with lock:
                missing = box.waiting()
            if not missing:
                break
            if time.perf_counter() - last > RESEND_S:
                for image_id in missing:
                    packet = box[image_id]
                    if reseal and time.time_ns() - box.header(image_id).timestamp_ns > half_fresh_ns:
                        with lock:
                            packet = box[box.put(reseal(packet))]
                        resealed += 1
                    mqtt.publish(topic, packet, qos=1)
                resends += len(missing)
                last = time.perf_counter()
            time.sleep(0.02)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        mqtt.disconnect()  # first: it wakes the network loop, which loop_stop then joins at once
        mqtt.loop_stop()
    with lock:
        acknowledged = len(done & ours)
    return SendReport(
        len(ours),
        acknowledged,
        resends,
        time.perf_counter() - started,
        interrupted,
        len(restored),
        resealed,
        refused_acks=dict(refused),
        set_aside=set_aside,
    )
