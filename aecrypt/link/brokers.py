"""Brokers on loopback: amqtt embedded in this process (the default), and mosquitto as a child process (the
broker people run), each on 127.0.0.1 only, TLS where given."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import time
from pathlib import Path

from aecrypt import AecryptError, UsageError
from aecrypt.link.addresses import Address, BrokerTLS, ClientTLS, free_port

log = logging.getLogger(__name__)


class _LoopbackBroker:
    """What both brokers share: a loopback port, an optional TLS listener, a context manager."""

    def __init__(self, port: int | None = None, tls: BrokerTLS | None = None):
        self.port = port or free_port()
        self.tls = tls

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def address(self, tls: ClientTLS | None = None) -> Address:
        """This broker as a client reaches it (with its login, where it has one); a TLS broker needs the client's
        TLS (at least its CA)."""
        if self.tls and tls is None:
            raise UsageError(f"{self.url} speaks TLS: give the client's TLS (the CA that signed the broker)")
        return Address("127.0.0.1", self.port, tls if self.tls else None, getattr(self, "login", None))

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class PacketTooLarge(ConnectionError):
    """A client sent an MQTT message longer than the broker takes: its connection is closed unread. Not a
    ConnectionResetError (amqtt's reads take that for an ordinary end of data) nor an MQTTError (after which amqtt
    reads on, out of step with the stream): amqtt's reader loop ends the connection on any other exception."""


class _BoundedReader:
    """amqtt's reader for one client, refusing any read longer than `limit` bytes before it reads: amqtt reads a
    PUBLISH's payload in one read of its declared length, so a 200 MiB message would otherwise be held in memory.
    Its other reads are of fixed fields and of strings of at most 65,535 bytes (a topic), which the limit admits."""

    def __init__(self, reader, limit: int, client: str = "a client"):
        self._reader, self.largest, self.client = reader, limit, client
        self.limit = max(limit, MQTT_STRING_BYTES)

    async def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.limit:
            size = "to the end of its stream" if n < 0 else f"of {n:,} bytes"
            log.warning(
                f"embedded broker: closed {self.client}'s connection: it sent a message {size}; the longest packet "
                f"this receiver opens is {self.largest:,} bytes"
            )
            raise PacketTooLarge(f"a read {size}, over the {self.limit} bytes this broker takes")
        return await self._reader.read(n)

    def feed_eof(self) -> None:
        self._reader.feed_eof()


#: The longest string an MQTT packet holds (a topic, a client id): a 16-bit length.
MQTT_STRING_BYTES = 65_535


def _amqtt_broker_class(max_packet: int | None = None):
    """amqtt's Broker, with mosquitto's rule for client certificates: required where a client CA is configured,
    not asked for where none is. amqtt 0.12 always asks and accepts a client without one (CERT_OPTIONAL), so a
    CA it was not given fails a client that does present one, and a client CA does not make it required. With
    `max_packet`, a client that publishes a message (a PUBLISH's payload) longer than that, or than a 16-bit MQTT
    string, is disconnected before the message is read (amqtt has no such limit)."""
    from amqtt.broker import Broker
    from amqtt.errors import MQTTError
    from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
    from amqtt.utils import gen_client_id

    if max_packet is not None and not hasattr(Broker, "_client_connected"):  # amqtt's own, private: 0.12's
        raise AecryptError("this amqtt has no Broker._client_connected to bound a client's messages in; use amqtt 0.12")

    class RequiringBroker(Broker):
        @staticmethod
        def _create_ssl_context(listener):
            context = Broker._create_ssl_context(listener)
            context.verify_mode = ssl.CERT_REQUIRED if listener.get("cafile") else ssl.CERT_NONE
            return context

        async def _client_connected(self, listener_name, reader, writer):
            """amqtt's own, reading the client through `_BoundedReader` where the broker has a `max_packet`."""
            if max_packet is not None:
                peer = writer.get_peer_info()
                reader = _BoundedReader(reader, max_packet, f"{peer[0]}:{peer[1]}" if peer else "a client")
            await super()._client_connected(listener_name, reader, writer)

        async def _initialize_client_session(self, reader, writer, remote_address, remote_port):
            """amqtt 0.12.1's own, but a client is authenticated before its CONNECT touches any session: amqtt
            deletes or takes over the session of the CONNECT's client id first and authenticates after, so a client
            that fails its login could still push the receiver off (or delete its subscriptions) by reusing its id."""
            try:
                handler, session = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
            except MQTTError:
                await writer.close()  # as amqtt's own does for a malformed CONNECT
                raise
            if not await self._authenticate(session, None):
                handler.attach(session, reader, writer)
                await handler.mqtt_connack_authorize(False)
                await writer.close()
                raise MQTTError(f"refused {remote_address}:{remote_port}: not authorized")
            if session.clean_session:
                if session.client_id:
                    await self._delete_session(session.client_id)
                else:
                    session.client_id = gen_client_id()
                session.parent = 0
            elif session.client_id in self._sessions:
                existing, _ = self._sessions[session.client_id]
                for name in (
                    "will_flag",
                    "will_message",
                    "will_topic",
                    "will_qos",
                    "keep_alive",
                    "username",
                    "password",
                ):
                    setattr(existing, name, getattr(session, name))
                session, session.parent = existing, 1
            else:
                session.parent = 0
            delay = self.config.get("timeout-disconnect-delay", 0)
            if session.keep_alive > 0 and isinstance(delay, int):
                session.keep_alive += delay
            return handler, session

    return RequiringBroker


#: how long the embedded broker's shutdown may take (it takes milliseconds), and how long its cancelled tasks
#: get to end by themselves before a lost cancellation is delivered again
STOP_S = 10.0
GRACE_S = 0.5


class EmbeddedBroker(_LoopbackBroker):
    """An amqtt broker in a thread of this process, listening on 127.0.0.1 only; TLS where given."""

    def __init__(
        self,
        port: int | None = None,
        tls: BrokerTLS | None = None,
        login: tuple[str, str] | None = None,
        max_packet: int | None = None,
    ):
        """`login` (user, password; `keys.KeyFile.broker_login`): admit only clients that log in with it; None:
        any local client (tests, benchmarks). `max_packet`: the longest message a client may publish, in bytes
        (`endpoints.Receiver.largest_packet`); a client that sends a longer one is disconnected unread."""
        super().__init__(port, tls)
        self.login, self.max_packet = login, max_packet
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="aecrypt-broker")
        self._broker = None

    def start(self) -> EmbeddedBroker:
        # amqtt logs a traceback for every delivery it gives up on (a receiver too busy decoding to acknowledge
        # in time); the sender's outbox resends those, so they are no error of the link
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)
        listener = {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}
        if self.tls:
            listener |= {"ssl": True, "certfile": str(self.tls.cert), "keyfile": str(self.tls.key)}
            if self.tls.client_ca:
                listener["cafile"] = str(self.tls.client_ca)
        config = {"listeners": {"default": listener}, "sys_interval": 0}
        if self.login:
            from aecrypt.link.brokerlogin import plugin_config

            config["plugins"] = plugin_config(self.login)
        else:
            config |= {
                "auth": {"allow-anonymous": True, "plugins": ["auth_anonymous"]},
                "topic-check": {"enabled": False},
            }
        broker_class = _amqtt_broker_class(self.max_packet)  # before the thread: it may refuse this amqtt
        self._thread.start()

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
        """Shut amqtt down, within STOP_S seconds or an error that says so; a second stop does nothing."""
        broker, self._broker = self._broker, None
        try:
            if broker is not None:
                self._shut_down(broker)
        finally:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(5)
            if not self._thread.is_alive() and not self._loop.is_closed():
                self._loop.close()

    def _shut_down(self, broker) -> None:
        # amqtt's shutdown cancels each client's reader and waits for it to end. On Python 3.11, asyncio.wait_for
        # loses a cancellation that arrives as its read completes (cpython gh-86296, fixed in 3.12): that reader
        # then waits for the client's next packet, and the shutdown with it. Past a grace period, a task still
        # cancelling is cancelled again, until the shutdown ends or STOP_S runs out.
        def in_loop(coroutine):
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

        done = in_loop(broker.shutdown())
        deadline = time.monotonic() + STOP_S
        while True:
            try:
                done.result(GRACE_S)
                break
            except TimeoutError:
                if time.monotonic() >= deadline:
                    in_loop(_cancel_rest()).result(2)
                    raise AecryptError(
                        f"the embedded broker on 127.0.0.1:{self.port} did not shut down within {STOP_S:g} s"
                    ) from None
            in_loop(_cancel_lost()).result(1)
        # a client that connected while the broker shut down leaves its handler behind: end it with the loop
        in_loop(_cancel_rest()).result(STOP_S)


def _others() -> set[asyncio.Task]:
    return asyncio.all_tasks() - {asyncio.current_task()}


async def _cancel_lost() -> int:
    """Cancel again every task of this loop that was cancelled and goes on; how many there were."""
    lost = [task for task in _others() if task.cancelling() and not task.done()]
    for task in lost:
        task.cancel()
    return len(lost)


async def _cancel_rest() -> None:
    rest = _others()
    for task in rest:
        task.cancel()
    if rest:
        await asyncio.wait(rest, timeout=1)


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
        # its log to a file: a pipe nobody reads fills after a few hundred connections' lines, and mosquitto then
        # blocks on writing it and stops answering
        log = Path(self._dir.name) / "mosquitto.log"
        with log.open("wb") as out:
            self._proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=out)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self._proc.poll() is not None:
                said = log.read_text(errors="replace").strip().splitlines()
                raise AecryptError(f"mosquitto exited: {said[-1] if said else 'no message'}")
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
