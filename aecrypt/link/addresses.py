"""Where an MQTT broker listens and how a client reaches it: mqtt:// and mqtts:// addresses, the TLS files of a
client and of a broker, and the bytes one QoS 1 message puts on the wire."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aecrypt import UsageError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def _check_files(tls, described: dict[str, str]) -> None:
    """Each named field of a frozen TLS dataclass as a Path to an existing file (or None), else an error
    that names the option (or role) it came from."""
    for name, what in described.items():
        path = getattr(tls, name)
        if path is not None:
            path = Path(path)
            if not path.is_file():
                raise UsageError(f"{what} {path}: no such file")
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
            raise UsageError("a client certificate needs both --tls-cert and --tls-key")
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
    login: tuple[str, str] | None = field(default=None, repr=False)  # (user, password); never printed

    @property
    def is_loopback(self) -> bool:
        """On this machine: where an aecrypt receiver's embedded broker listens."""
        return self.host in ("localhost", "127.0.0.1", "::1") or self.host.startswith("127.")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_broker(url: str | None, tls: ClientTLS | None = None) -> Address:
    """mqtt://HOST:PORT (default 127.0.0.1:1883) or mqtts://HOST:PORT (TLS, default port 8883) → Address;
    TLS files with a plain mqtt:// address are an error, since they would be silently ignored."""
    url = url or "mqtt://127.0.0.1:1883"
    try:
        parts = urlsplit(url)
        hostname = parts.hostname  # an unclosed [ of an IPv6 address is a ValueError here
    except ValueError:
        hostname = None
    if hostname is None or parts.scheme not in DEFAULT_PORTS:
        raise UsageError(
            f"--broker {url!r}: give mqtt://HOST:PORT or mqtts://HOST:PORT (TLS), e.g. mqtt://127.0.0.1:1883"
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise UsageError(f"--broker {url!r}: the port is not a number from 1 to 65535") from None
    if parts.scheme == "mqtt" and tls is not None:
        raise UsageError(f"--tls-* options need a TLS broker address: mqtts://{parts.netloc}, not {url}")
    return Address(hostname, port, (tls or ClientTLS()) if parts.scheme == "mqtts" else None)


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
