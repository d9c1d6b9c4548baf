"""The packet format and its ciphers: round trips, every malformed case, bit flips, key files, ids."""

from __future__ import annotations

import os
import stat
import struct

import numpy as np
import pytest

from aecrypt import AecryptError
from aecrypt.link import keys, packets

KEY, KEY_ID, RUN = os.urandom(32), bytes.fromhex("0123456789abcdef"), bytes.fromhex("fedcba9876543210")
SENDER = packets.sender_id("device-1")


def _latent(seed=0, shape=(1, 8, 8, 16)):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _seal(z, cipher="aes-gcm", quantisation="float32", **kw):
    key_image = np.random.default_rng(9).random(z.shape[1:3], dtype=np.float32) if cipher == "paper" else None
    return packets.seal(z, cipher, KEY, KEY_ID, RUN, SENDER, 7, quantisation, key_image, **kw), key_image


def _open(data, key_image=None, **kw):
    ciphers = kw.pop("ciphers", ("aes-gcm", "chacha20", "paper"))
    return packets.open_packet(
        data, kw.pop("key", KEY), kw.pop("key_id", KEY_ID), kw.pop("run", RUN), key_image, ciphers
    )


@pytest.mark.parametrize("cipher", ["aes-gcm", "chacha20", "paper"])
@pytest.mark.parametrize("quantisation", ["float32", "float16", "uint8"])
def test_round_trip_for_every_cipher_and_quantisation(cipher, quantisation):
    z = _latent()
    data, key_image = _seal(z, cipher, quantisation)
    header, back = _open(data, key_image)
    assert header.cipher == cipher and header.quantisation == quantisation and header.shape == z.shape
    assert header.sequence == 7 and header.sender_id == SENDER and header.run_id == RUN and header.key_id == KEY_ID
    # the paper's E = (z + K)² spans [0, 4): its 8-bit steps are 4× coarser, and √ magnifies them near 0
    tolerance = {"float32": 1e-6, "float16": 2e-3, "uint8": 0.1 if cipher == "paper" else 1 / 255}[quantisation]
    assert np.abs(back - z).max() <= tolerance
    payload = np.prod(z.shape) * {"float32": 4, "float16": 2, "uint8": 1}[quantisation]
    assert len(data) == len(packets.parse(data).associated) + payload + 1 + (16 if cipher != "paper" else 0)


def test_every_packet_has_a_fresh_nonce_and_a_fresh_opaque_image_id():
    z = _latent()
    a, b = (packets.parse(_seal(z)[0]) for _ in range(2))
    assert a.nonce != b.nonce and len(a.nonce) == 12 and a.header.image_id != b.header.image_id


def _field(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: d[:20], "truncated packet: 20 bytes, shorter than the 56-byte header"),
        (lambda d: d[:-1], "truncated packet: the tag needs 16 bytes"),
        (lambda d: d[:100], "truncated packet: the payload needs"),
        (lambda d: d + b"x", "1 bytes after the tag"),
        (lambda d: _field(d, 0, b"XXXX"), "not an aecrypt packet"),
        (lambda d: _field(d, 4, b"\x02"), "unknown packet version 2"),
        (lambda d: _field(d, 5, b"\x09"), "unknown cipher id 9"),
        (lambda d: _field(d, 6, b"\x07"), "unknown quantisation id 7"),
        (lambda d: _field(d, 7, b"\x00"), "a latent of 0 dimensions is not valid"),
        (lambda d: _field(d, 8, bytes(8)), "is for key 0000000000000000, not this key"),
        (lambda d: _field(d, 16, bytes(8)), "is for run 0000000000000000, not run fedcba9876543210"),
        (lambda d: _field(d, 56, struct.pack(">I", 0)), "is empty or too large"),
        (lambda d: _field(d, 76, struct.pack(">f", -1.0)), "scale -1.0 is not valid"),
        (lambda d: _field(d, 32, (8).to_bytes(8, "big")), "failed authentication"),  # a header field: associated data
        (lambda d: _field(d, 200, bytes([d[200] ^ 1])), "failed authentication"),  # the payload
        (lambda d: _field(d, len(d) - 1, bytes([d[-1] ^ 1])), "failed authentication"),  # the tag
        (lambda d: _field(d, 80, b"\x05"), "a aes-gcm packet needs a 12-byte nonce and a 16-byte tag"),
    ],
)
def test_malformed_packets_are_refused_with_a_one_line_reason(mangle, message):
    data, _ = _seal(_latent())
    with pytest.raises(packets.PacketError) as caught:
        _open(mangle(data))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_wrong_key_wrong_cipher_and_the_paper_cipher_only_where_allowed():
    data, _ = _seal(_latent(), "chacha20")
    with pytest.raises(packets.PacketError, match="failed authentication"):
        _open(data, key=os.urandom(32))  # same key id, another key
    with pytest.raises(packets.PacketError, match="uses the chacha20 cipher; accepted here: aes-gcm"):
        _open(data, ciphers=("aes-gcm",))
    paper, key_image = _seal(_latent(), "paper")
    with pytest.raises(packets.PacketError, match="uses the paper cipher"):
        _open(paper, key_image, ciphers=("aes-gcm", "chacha20"))
    # the paper's cipher notices nothing: a flipped payload bit decrypts to a different latent, silently
    flipped = _field(paper, 150, bytes([paper[150] ^ 0x40]))
    assert not np.allclose(_open(flipped, key_image)[1], _open(paper, key_image)[1])


@pytest.mark.parametrize("cipher", ["aes-gcm", "chacha20"])
def test_single_bit_flips_anywhere_are_all_rejected(cipher):
    data, _ = _seal(_latent(shape=(1, 4, 4, 8)), cipher)
    rng = np.random.default_rng(0)
    for bit in rng.choice(len(data) * 8, size=200, replace=False):  # 1000 per cipher in benchmarks/packets.py
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(packets.PacketError):
            _open(bytes(flipped))


def test_key_files_are_owner_only_never_overwritten_and_never_shown(tmp_path):
    path = tmp_path / "device.key"
    made = keys.generate(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = keys.load(path)
    assert loaded.key == made.key and loaded.key_id == made.key_id
    assert made.key.hex() not in repr(made) and "key=" not in repr(made)
    with pytest.raises(AecryptError, match="never overwrites a key file"):
        keys.generate(path)
    assert keys.load(path).key == made.key  # the first key survived
    path.chmod(0o644)
    with pytest.raises(AecryptError, match=r"can be read by others \(mode -rw-r--r--\); run `chmod 600"):
        keys.load(path)
    bad = tmp_path / "bad.key"
    bad.write_text('{"format": "aecrypt-key-1", "key": "not base64!", "key_id": "00"}')
    bad.chmod(0o600)
    with pytest.raises(AecryptError, match="is not an aecrypt key file") as caught:
        keys.load(bad)
    assert "not base64" not in str(caught.value)
    path.chmod(0o600)
    image = made.paper_key_image(4, 4)  # derived from the key: the same key file gives the same key image
    assert image.shape == (4, 4) and np.array_equal(image, keys.load(path).paper_key_image(4, 4))
    assert not np.array_equal(image, keys.generate(tmp_path / "other.key").paper_key_image(4, 4))


def test_png_payloads_carry_the_image_itself_and_are_authenticated_like_latents():
    image = np.random.default_rng(3).random((1, 24, 24), dtype=np.float32)
    data, _ = _seal(image, "chacha20", "png")
    header, back = _open(data)
    assert header.quantisation == "png" and header.shape == (1, 24, 24) and back.shape == (1, 24, 24)
    assert np.abs(back - image).max() <= 0.5 / 255 + 1e-6  # lossless at 8 bits
    body = packets.parse(data).payload
    assert len(body) < 24 * 24 * 4  # the PNG, not float32 pixels
    flipped = bytearray(data)
    flipped[len(packets.parse(data).associated) + 3] ^= 1
    with pytest.raises(packets.PacketError, match="failed authentication"):
        _open(bytes(flipped))
    with pytest.raises(AecryptError, match="needs an AEAD cipher"):
        _seal(image, "paper", "png")
    with pytest.raises(AecryptError, match="1 × H × W"):
        _seal(image[0], "aes-gcm", "png")
    paper_png = _field(data, 5, bytes([packets.CIPHERS["paper"]]))  # a png payload claimed for the paper's cipher
    with pytest.raises(packets.PacketError, match="png payload needs an AEAD cipher"):
        packets.parse(paper_png)


def test_the_largest_packet_holds_a_png_of_noise_and_is_a_latents_size_exactly():
    """The bound a receiver's broker refuses longer messages by: noise is the least compressible image, so its
    sealed PNG must fit (and the bound must not be loose by more than zlib's and PNG's own overheads)."""
    rng = np.random.default_rng(0)
    ids = (bytes(32), bytes(8), bytes(8), bytes(8), 0)
    for side in (8, 64, 300, 1024):
        sealed = len(packets.seal(rng.random((1, side, side), dtype=np.float32), "aes-gcm", *ids, "png"))
        bound = packets.largest_packet(None, side)
        assert sealed <= bound <= sealed + side * side // 100 + 200, (side, sealed, bound)
    latent = (16, 16, 64)
    assert packets.largest_packet(latent, 32) == len(packets.seal(np.zeros((1, *latent), np.float32), "aes-gcm", *ids))
