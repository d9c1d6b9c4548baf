"""The embedded broker's login: it admits only clients that hold the link's key file.

`aecrypt receive` runs its own broker (amqtt) on loopback; without a login any local process could connect to it,
publish a message of any size, or connect with the receiver's client id and push it off. With this plugin the
broker accepts a client only if it logs in with the user name and password derived from the key
(`keys.KeyFile.broker_login`): both ends hold the key, a neighbour without it cannot connect at all. The broker
keeps only the password's SHA-256. amqtt loads the plugin by its dotted name, so it lives in a module of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from amqtt.plugins.base import BaseAuthPlugin


class KeyLogin(BaseAuthPlugin):
    """amqtt authentication: the one user name, and a password whose SHA-256 is the configured one."""

    @dataclass
    class Config:
        username: str = ""
        password_sha256: str = ""

    async def authenticate(self, *, session) -> bool:
        user, password = (
            v.encode() if isinstance(v, str) else bytes(v or b"") for v in (session.username, session.password)
        )
        digest = hashlib.sha256(password).hexdigest().encode()
        return bool(self.config.username) and (  # bytes: compare_digest refuses non-ASCII text
            hmac.compare_digest(user, self.config.username.encode())
            & hmac.compare_digest(digest, self.config.password_sha256.encode())
        )


def plugin_config(login: tuple[str, str]) -> dict:
    """The broker's `plugins` entry that admits `login` (user name, password) only."""
    user, password = login
    return {
        f"{__name__}.KeyLogin": {"username": user, "password_sha256": hashlib.sha256(password.encode()).hexdigest()}
    }
