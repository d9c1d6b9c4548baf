"""A throwaway certificate authority for trying the link's TLS on loopback: a CA, a broker (server)
certificate for 127.0.0.1, ::1 and localhost, and a client certificate, all signed by that CA. The tests make
one per run; `aecrypt certs -o DIR` makes one for a user. A real deployment uses its own CA; nothing here is
meant to outlive a test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from aecrypt import UsageError

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
FILES = ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")


@dataclass(frozen=True)
class TestPKI:
    """The files of one throwaway CA: what a broker needs (server_*), what a client needs (ca, client_*)."""

    __test__ = False  # not a pytest test class, despite its name

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str):
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID

    return Name(
        [NameAttribute(NameOID.ORGANIZATION_NAME, "aecrypt test CA"), NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _certificate(subject: str, key, issuer_name, issuer_key, days: int, *, ca: bool, extensions=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, private: bool) -> None:
    """Write a new file; a private key is created owner-only (mode 0600 from its first byte: no window in
    which others could read it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_test_pki(folder: Path, hosts: tuple[str, ...] = LOOPBACK_NAMES, days: int = 7) -> TestPKI:
    """Write a new CA, a server certificate for `hosts` and a client certificate into `folder` (which must
    not hold them already: nothing is overwritten). Keys are EC P-256, owner-only; the CA's key is not kept,
    so the CA can sign nothing more."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if present := [f for f in FILES if (folder / f).exists()]:
        raise UsageError(f"{folder} already holds {', '.join(present)}; give an empty folder (nothing is replaced)")
    ca_key = _key()
    ca = _certificate("aecrypt throwaway CA", ca_key, None, ca_key, days, ca=True)
    alt_names = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    server_key, client_key = _key(), _key()
    server = _certificate(
        hosts[0],
        server_key,
        ca.subject,
        ca_key,
        days,
        ca=False,
        extensions=[x509.SubjectAlternativeName(alt_names), x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])],
    )
    client = _certificate(
        "aecrypt device",
        client_key,
        ca.subject,
        ca_key,
        days,
        ca=False,
        extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])],
    )

    def pem_key(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    pki = TestPKI(*(folder / f for f in FILES))
    _write(pki.ca, ca.public_bytes(serialization.Encoding.PEM), private=False)
    _write(pki.server_cert, server.public_bytes(serialization.Encoding.PEM), private=False)
    _write(pki.server_key, pem_key(server_key), private=True)
    _write(pki.client_cert, client.public_bytes(serialization.Encoding.PEM), private=False)
    _write(pki.client_key, pem_key(client_key), private=True)
    return pki
