"""AES-256-GCM and ChaCha20-Poly1305 behind the interface of the paper's cipher (`paper.cipher.LatentCipher`:
encrypt a latent, decrypt it back), each latent framed as an aecrypt packet (`packets`): what the book sets
beside E = (z + K)², and what a user of the library encrypts a latent with in one call."""

from __future__ import annotations

import os

import numpy as np

from aecrypt import UsageError
from aecrypt.link import packets


class AeadCipher:
    """AES-256-GCM (or ChaCha20-Poly1305) over the latent, framed as an aecrypt packet: the header (shape, ids,
    nonce) is authenticated with the payload; the float32 round trip is exact. A fresh random key and key id
    unless given."""

    def __init__(self, key: bytes | None = None, algorithm: str = "aes-gcm", key_id: bytes | None = None):
        if algorithm not in packets.AEAD:
            raise UsageError(f"unknown AEAD cipher {algorithm!r}; valid: {', '.join(packets.AEAD)}")
        self.name = algorithm
        self.key = key if key is not None else os.urandom(32)
        if len(self.key) != 32:
            raise UsageError(f"an AEAD key is 32 bytes, got {len(self.key)}")
        self.key_id = key_id or packets.new_id()

    def __repr__(self) -> str:  # never the key
        return f"AeadCipher({self.name}, key id {self.key_id.hex()})"

    def encrypt(self, latent: np.ndarray) -> bytes:
        return packets.seal(latent, self.name, self.key, self.key_id, bytes(8), packets.sender_id("aecrypt"), 0)

    def decrypt(self, ciphertext: bytes) -> np.ndarray:
        return packets.open_packet(ciphertext, self.key, self.key_id, ciphers=(self.name,))[1]
