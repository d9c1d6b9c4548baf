"""One versioned binary format for an encrypted latent, and the ciphers behind it.

    offset  size  field
    0       4     magic b"AECP"
    4       1     version (1)
    5       1     cipher id: 1 AES-256-GCM, 2 ChaCha20-Poly1305, 3 the paper's (E = (z + K)², no integrity)
    6       1     payload encoding: 1 float32, 2 float16, 3 uint8 (affine: z ≈ low + q · scale) latents;
                  4 png: not a latent but the image itself, an 8-bit grayscale PNG (AEAD only)
    7       1     ndim, the number of latent dimensions
    8       8     key id (from the key file; the key itself never travels)
    16      8     run id (the trained model the latent belongs to)
    24      8     sender id
    32      8     sequence number (unsigned)
    40      8     timestamp, nanoseconds since the epoch
    48      8     image id: random and opaque — never a file name or a patient id
    56      4·n   shape, one unsigned 32-bit integer per dimension (png: 1 × H × W, the image's)
    …       8     low, scale (float32 each; 0, 1 unless uint8)
    …       1+k   nonce length k, nonce (12 random bytes per packet for AEAD, none for the paper's cipher)
    …       4+m   payload length m, payload
    …       1+t   tag length t, tag (16 bytes for AEAD, none for the paper's cipher)

Big-endian throughout. For AEAD every byte before the payload is associated data, so a changed header fails
the tag as a changed payload does. The parser rejects anything malformed with a one-line reason."""

from __future__ import annotations

import hashlib
import math
import os
import struct
import time
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from aecrypt import AecryptError, UsageError
from aecrypt.link import pngfiles

MAGIC = b"AECP"
VERSION = 1
CIPHERS = {"aes-gcm": 1, "chacha20": 2, "paper": 3}
QUANTISATIONS = {"float32": 1, "float16": 2, "uint8": 3, "png": 4}
LATENT_QUANTISATIONS = ("float32", "float16", "uint8")  # "png" carries the image, not a latent
AEAD = {"aes-gcm": AESGCM, "chacha20": ChaCha20Poly1305}
NONCE_BYTES = 12
TAG_BYTES = 16
ID_BYTES = 8
_FIXED = struct.Struct(">4sBBBB8s8s8sQQ8s")
_LOW_SCALE = struct.Struct(">ff")
MAX_PAYLOAD = 1 << 30
#: A link receiver accepts a packet sealed at most FRESH_S ago and at most CLOCK_SKEW_S ahead of its clock; a
#: sender reseals a resend that has waited half the window (same image id, new timestamp and nonce).
FRESH_S = 600.0
CLOCK_SKEW_S = 60.0


class PacketError(AecryptError):
    """A packet that cannot be accepted; the message says why in one line."""


@dataclass(frozen=True)
class Header:
    cipher: str
    quantisation: str
    key_id: bytes
    run_id: bytes
    sender_id: bytes
    sequence: int
    timestamp_ns: int
    image_id: bytes
    shape: tuple[int, ...]
    low: float = 0.0
    scale: float = 1.0
    version: int = VERSION

    @property
    def image_hex(self) -> str:
        return self.image_id.hex()


@dataclass(frozen=True)
class Packet:
    header: Header
    nonce: bytes
    payload: bytes
    tag: bytes
    associated: bytes  # the bytes before the payload: AEAD's associated data


def new_id() -> bytes:
    return os.urandom(ID_BYTES)


def sender_id(name: str) -> bytes:
    """A sender's id from its name (a device name): 8 bytes of its SHA-256, so the name itself never travels."""
    return hashlib.sha256(name.encode()).digest()[:ID_BYTES]


def run_id_bytes(run_id: str) -> bytes:
    try:
        raw = bytes.fromhex(run_id)
    except ValueError:
        raw = b""
    if len(raw) != ID_BYTES:
        raise UsageError(f"run id {run_id!r} is not 16 hex digits")
    return raw


# --- quantisation -------------------------------------------------------------------------------


def quantise(latent: np.ndarray, how: str) -> tuple[bytes, float, float]:
    """(bytes, low, scale): float32 and float16 as they are; uint8 affine over the latent's own range; png
    (the array is then the image, 1 × H × W in [0, 1]) as an 8-bit PNG."""
    if how not in QUANTISATIONS:
        raise UsageError(f"unknown quantisation {how!r}; valid: {', '.join(QUANTISATIONS)}")
    z = np.asarray(latent, np.float32)
    if how == "png":
        if z.ndim != 3 or z.shape[0] != 1:
            raise UsageError(f"a png payload is one image of shape 1 × H × W, not {z.shape}")
        return pngfiles.png_bytes(z[0]), 0.0, 1.0
    if how == "float32":
        return z.astype(">f4").tobytes(), 0.0, 1.0
    if how == "float16":
        return z.astype(">f2").tobytes(), 0.0, 1.0
    low, high = float(z.min()), float(z.max())
    scale = (high - low) / 255 if high > low else 1.0
    return np.round((z - low) / scale).astype(np.uint8).tobytes(), low, scale


def dequantise(data: bytes, header: Header) -> np.ndarray:
    if header.quantisation == "png":
        try:
            image = pngfiles.from_png(data, tuple(header.shape[1:]))
        except AecryptError as exc:
            raise PacketError(f"png payload: {exc}") from None
        if (1, *image.shape) != tuple(header.shape):
            raise PacketError(f"png payload holds a {image.shape} image, but the header says {header.shape}")
        return image[None]
    return from_quantised(data, header.quantisation, header.shape, header.low, header.scale)


def from_quantised(data: bytes, how: str, shape: tuple[int, ...], low: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """The inverse of `quantise` for a latent: its bytes back to float32 of `shape`."""
    dtype = {"float32": ">f4", "float16": ">f2", "uint8": "u1"}[how]
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if len(data) != expected:
        raise PacketError(f"payload holds {len(data)} bytes, but shape {tuple(shape)} as {how} needs {expected}")
    z = np.frombuffer(data, dtype).astype(np.float32).reshape(shape)
    return z * np.float32(scale) + np.float32(low) if how == "uint8" else z


# --- the byte layout --------------------------------------------------------------------------------


def _head_bytes(h: Header, nonce: bytes, payload_len: int) -> bytes:
    fixed = _FIXED.pack(
        MAGIC,
        h.version,
        CIPHERS[h.cipher],
        QUANTISATIONS[h.quantisation],
        len(h.shape),
        h.key_id,
        h.run_id,
        h.sender_id,
        h.sequence,
        h.timestamp_ns,
        h.image_id,
    )
    shape = struct.pack(f">{len(h.shape)}I", *h.shape)
    return (
        fixed + shape + _LOW_SCALE.pack(h.low, h.scale) + bytes([len(nonce)]) + nonce + struct.pack(">I", payload_len)
    )


def parse(data: bytes) -> Packet:
    """Split a packet into its fields, checking every length; a malformed packet is a PacketError."""
    data = bytes(data)
    if len(data) < _FIXED.size:
        raise PacketError(f"truncated packet: {len(data)} bytes, shorter than the {_FIXED.size}-byte header")
    magic, version, cipher_id, quant_id, ndim, key_id, run_id, sender, seq, ts, image_id = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise PacketError(f"not an aecrypt packet (magic {magic!r}, expected {MAGIC!r})")
    if version != VERSION:
        raise PacketError(f"unknown packet version {version}; this aecrypt reads version {VERSION}")
    cipher = next((name for name, i in CIPHERS.items() if i == cipher_id), None)
    if cipher is None:
        raise PacketError(f"unknown cipher id {cipher_id}; known: {', '.join(f'{i} {n}' for n, i in CIPHERS.items())}")
    quant = next((name for name, i in QUANTISATIONS.items() if i == quant_id), None)
    if quant is None:
        raise PacketError(f"unknown quantisation id {quant_id}")
    if not 1 <= ndim <= 8:
        raise PacketError(f"a latent of {ndim} dimensions is not valid (1 to 8)")
    if quant == "png" and (cipher not in AEAD or ndim != 3):
        raise PacketError(f"malformed packet: a png payload needs an AEAD cipher and a 1 × H × W shape, not {cipher}")
    at = _FIXED.size

    def take(n: int, what: str) -> bytes:
        nonlocal at
        if at + n > len(data):
            raise PacketError(f"truncated packet: {what} needs {n} bytes at offset {at}, {len(data) - at} left")
        at += n
        return data[at - n : at]

    shape = struct.unpack(f">{ndim}I", take(4 * ndim, "the shape"))
    if 0 in shape or math.prod(shape) * 4 > MAX_PAYLOAD:  # Python integers: no int64 wrap-around
        raise PacketError(f"shape {shape} is empty or too large")
    low, scale = _LOW_SCALE.unpack(take(_LOW_SCALE.size, "low and scale"))
    if not (np.isfinite(low) and np.isfinite(scale) and scale > 0):
        raise PacketError(f"quantisation low {low} / scale {scale} is not valid (finite, scale > 0)")
    nonce_len, tag_len = (NONCE_BYTES, TAG_BYTES) if cipher in AEAD else (0, 0)
    sizes = f"a {nonce_len}-byte nonce and a {tag_len}-byte tag"
    if take(1, "the nonce length")[0] != nonce_len:
        raise PacketError(f"malformed packet: a {cipher} packet needs {sizes}")
    nonce = take(nonce_len, "the nonce")
    payload_len = struct.unpack(">I", take(4, "the payload length"))[0]
    associated = data[:at]
    payload = take(payload_len, "the payload")
    if take(1, "the tag length")[0] != tag_len:
        raise PacketError(f"malformed packet: a {cipher} packet needs {sizes}")
    tag = take(tag_len, "the tag")
    if at != len(data):
        raise PacketError(f"malformed packet: {len(data) - at} bytes after the tag")
    header = Header(cipher, quant, key_id, run_id, sender, seq, ts, image_id, shape, low, scale, version)
    return Packet(header, nonce, payload, tag, associated)


# --- sealing and opening ----------------------------------------------------------------------------


def seal(
    latent: np.ndarray,
    cipher: str,
    key: bytes,
    key_id: bytes,
    run_id: bytes,
    sender: bytes,
    sequence: int,
    quantisation: str = "float32",
    key_image: np.ndarray | None = None,
    image_id: bytes | None = None,
    timestamp_ns: int | None = None,
) -> bytes:
    """Encrypt one latent into a packet. AEAD: a fresh random 96-bit nonce, the header as associated data.
    The paper's cipher needs `key_image` (h × w) and protects nothing but the values' look."""
    if cipher not in CIPHERS:
        raise UsageError(f"unknown cipher {cipher!r}; valid: {', '.join(CIPHERS)}")
    z = np.asarray(latent, np.float32)
    if cipher == "paper" and quantisation == "png":
        raise UsageError("a png payload needs an AEAD cipher (aes-gcm or chacha20): (z + K)² does not fit 8 bits")
    if cipher == "paper":
        from aecrypt.paper.cipher import PaperCipher

        if key_image is None:
            raise UsageError("the paper's cipher needs a key image")
        z = PaperCipher(key_image, negative="warn").encrypt(z)
    plain, low, scale = quantise(z, quantisation)
    header = Header(
        cipher,
        quantisation,
        key_id,
        run_id,
        sender,
        sequence,
        time.time_ns() if timestamp_ns is None else timestamp_ns,
        image_id or new_id(),
        tuple(int(s) for s in z.shape),
        low,
        scale,
    )
    if cipher == "paper":
        return _head_bytes(header, b"", len(plain)) + plain + b"\x00"
    return seal_raw(header, plain, key)


def largest_packet(latent_shape: tuple[int, ...] | None, side: int) -> int:
    """The most bytes one packet can take that holds a float32 latent of `latent_shape` (one image's; None: no
    latent is accepted) or the 8-bit PNG of a `side` × `side` image at its least compressible: the rows and their
    filter bytes stored as they are, with deflate's block headers and zlib's own bytes (allowed: 0.2 % and 64
    bytes; Pillow's PNG of noise measures 0.06 % at 300², 0.12 % at 1024² and 2048²) and PNG's signature and chunks
    (one per 8 KiB at most; Pillow writes 64 KiB).
    A broker can refuse anything longer unread.

    >>> largest_packet((16, 16, 64), 32) == len(seal(np.zeros((1, 16, 16, 64), np.float32), "aes-gcm", bytes(32),
    ...     bytes(8), bytes(8), bytes(8), 0))
    True
    >>> 200 * 201 < largest_packet(None, 200) < 200 * 201 * 1.01
    True
    """
    dummy = (bytes(32), bytes(8), bytes(8), bytes(8), 0)
    tiny = np.zeros((1, 1, 1), np.float32)
    around = len(seal(tiny, "aes-gcm", *dummy, "png")) - len(pngfiles.png_bytes(tiny[0]))  # the header and tag
    raw = side * (side + 1)
    png = 8 + 25 + 12 + raw + raw // 500 + 64 + 12 * (raw // 8192 + 1)
    latent = len(seal(np.zeros((1, *latent_shape), np.float32), "aes-gcm", *dummy)) if latent_shape else 0
    return max(latent, around + png)


def seal_raw(header: Header, plain: bytes, key: bytes) -> bytes:
    """An AEAD packet of `header` around payload bytes as they are (no quantisation, no checks: what `seal`
    ends with, and what the drills use to build packets a sender would never make)."""
    nonce = os.urandom(NONCE_BYTES)
    head = _head_bytes(header, nonce, len(plain))
    sealed = AEAD[header.cipher](key).encrypt(nonce, plain, head)
    return head + sealed[:-TAG_BYTES] + bytes([TAG_BYTES]) + sealed[-TAG_BYTES:]


def open_packet(
    data: bytes,
    key: bytes,
    key_id: bytes,
    run_id: bytes | None = None,
    key_image: np.ndarray | None = None,
    ciphers: tuple[str, ...] = ("aes-gcm", "chacha20"),
    shapes: dict[str, tuple[int, ...]] | None = None,
) -> tuple[Header, np.ndarray]:
    """Check and decrypt a packet: its format, that it is for this key and run and an accepted cipher, its
    shape the one `shapes` expects ("latent", "png"; where given, checked before anything is decrypted or
    decoded), and (AEAD) its tag. Returns the header and the latent; every refusal is a one-line PacketError."""
    packet = parse(data)
    h = packet.header
    kind = "png" if h.quantisation == "png" else "latent"
    if shapes and kind in shapes and tuple(h.shape) != tuple(shapes[kind]):
        raise PacketError(f"packet holds a {kind} of shape {h.shape}; this run's is {tuple(shapes[kind])}")
    if h.cipher not in ciphers:
        raise PacketError(f"packet uses the {h.cipher} cipher; accepted here: {', '.join(ciphers)}")
    if h.key_id != key_id:
        raise PacketError(f"packet is for key {h.key_id.hex()}, not this key ({key_id.hex()})")
    if run_id is not None and h.run_id != run_id:
        raise PacketError(f"packet is for run {h.run_id.hex()}, not run {run_id.hex()}")
    if h.cipher == "paper":
        from aecrypt.paper.cipher import PaperCipher

        if key_image is None:
            raise UsageError("the paper's cipher needs a key image")
        squared = dequantise(packet.payload, h)
        if not np.all(np.isfinite(squared)) or squared.min() < 0:  # (z + K)² is never negative: not a ciphertext
            raise PacketError("paper-cipher payload holds negative or non-finite values: not (z + K)²")
        return h, PaperCipher(key_image).decrypt(squared)
    try:
        plain = AEAD[h.cipher](key).decrypt(packet.nonce, packet.payload + packet.tag, packet.associated)
    except InvalidTag:
        raise PacketError("packet failed authentication: tampered, truncated in its payload, or another key") from None
    return h, dequantise(plain, h)


def check_fresh(header: Header, now_ns: int | None = None) -> None:
    """A link packet's timestamp inside the freshness window (FRESH_S back, CLOCK_SKEW_S ahead): an old packet
    replayed from a recording, or one from a sender whose clock is wrong, is a PacketError saying which."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    age = (now_ns - header.timestamp_ns) / 1e9
    if age > FRESH_S:
        raise PacketError(f"stale packet: sealed {age:.0f} s ago, beyond the {FRESH_S:.0f}-s freshness window")
    if age < -CLOCK_SKEW_S:
        raise PacketError(
            f"packet from the future: sealed {-age:.0f} s ahead of this clock (at most {CLOCK_SKEW_S:.0f} s allowed)"
        )
