"""Acknowledgements only the key holder can make. A receiver acknowledges an accepted image by publishing

    offset  size  field
    0       4     magic b"AECA"
    4       1     version (1)
    5       8     image id
    13      16    tag: HMAC-SHA256, truncated, under a key derived from the key file (`KeyFile.derived`,
                  ACK_KEY_INFO), over sender id ‖ run id ‖ image id

on `<topic>/ack`. The sender removes a packet from its outbox only on an acknowledgement whose tag checks: an
image id travels in clear in every packet, so a bare id (the old format) proves nothing — anyone on the broker
could copy it back and empty the sender's outbox with no receiver running."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

from aecrypt import AecryptError
from aecrypt.link.keys import ACK_KEY_INFO, KeyFile
from aecrypt.link.packets import ID_BYTES

MAGIC = b"AECA"
VERSION = 1
TAG_BYTES = 16
_LAYOUT = struct.Struct(f">4sB{ID_BYTES}s{TAG_BYTES}s")
SIZE = _LAYOUT.size


class AckError(AecryptError):
    """An acknowledgement that proves nothing; the message says why in one line."""


def _tag(ack_key: bytes, sender_id: bytes, run_id: bytes, image_id: bytes) -> bytes:
    return hmac.new(ack_key, sender_id + run_id + image_id, hashlib.sha256).digest()[:TAG_BYTES]


class Acknowledger:
    """Makes and checks the acknowledgements of one key file (the HKDF step runs once, not per message)."""

    def __init__(self, key: KeyFile):
        self._key = key.derived(ACK_KEY_INFO)

    def make(self, sender_id: bytes, run_id: bytes, image_id: bytes) -> bytes:
        return _LAYOUT.pack(MAGIC, VERSION, image_id, _tag(self._key, sender_id, run_id, image_id))

    def check(self, data: bytes, ends: Callable[[bytes], tuple[bytes, bytes] | None]) -> bytes:
        """The image id an acknowledgement vouches for; `ends` gives the sender and run ids of the packet with
        that image id (None: no such packet waits). AckError if it vouches for nothing: the old bare-id format,
        another version, a packet not waiting, a wrong tag."""
        data = bytes(data)
        if len(data) == ID_BYTES:
            raise AckError("an unauthenticated acknowledgement (a bare image id, the old format): ignored")
        if len(data) != SIZE or data[:4] != MAGIC:
            raise AckError(f"not an aecrypt acknowledgement ({len(data)} bytes; version {VERSION} has {SIZE})")
        _, version, image_id, tag = _LAYOUT.unpack(data)
        if version != VERSION:
            raise AckError(f"acknowledgement version {version}; this aecrypt reads version {VERSION}")
        known = ends(image_id)
        if known is None:
            raise AckError(f"acknowledgement for image {image_id.hex()}, which is not waiting here")
        if not hmac.compare_digest(tag, _tag(self._key, *known, image_id)):
            raise AckError("acknowledgement failed authentication: forged, or made under another key")
        return image_id
