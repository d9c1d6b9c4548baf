import numpy as np
import pytest
from PIL import Image

from aecrypt import AecryptError
from aecrypt.link import aead
from aecrypt.paper import cipher


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_is_exact_to_float32_rounding_for_nonnegative_latents(seed):
    rng = np.random.default_rng(seed)
    z = (rng.random((3, 16, 16, 8), dtype=np.float32) * rng.uniform(0.1, 20)).astype(np.float32)
    c = cipher.PaperCipher(cipher.key_from_seed(16, 16, seed))
    e = c.encrypt(z)
    assert e.dtype == np.float32 and e.shape == z.shape
    back = c.decrypt(e)
    # one rounding in the square, one in the root, relative to the magnitude of z + K
    assert np.max(np.abs(back - z)) <= 4 * np.finfo(np.float32).eps * float(np.max(z + 1))
    assert cipher.round_trip_error(c, z) == pytest.approx(np.max(np.abs(back - z)))


def test_encryption_is_the_papers_formula():
    z = np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]], np.float32)  # (1, 2, 2, 1)
    key = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    e = cipher.PaperCipher(key).encrypt(z)
    assert e[0, :, :, 0].tolist() == [[4.0, 16.0], [36.0, 64.0]]  # (z + K)^2


def test_key_is_the_same_for_every_channel():
    key = cipher.key_from_seed(4, 4, 1)
    e = cipher.PaperCipher(key).encrypt(np.zeros((1, 4, 4, 3), np.float32))
    assert np.array_equal(e[..., 0], e[..., 2]) and np.allclose(e[0, ..., 1], key**2)


def test_negative_latents_raise_by_default_and_are_lossy_when_allowed():
    key = np.full((2, 2), 0.5, np.float32)
    z = np.array([-2.0, -0.25, 0.0, 1.0], np.float32).reshape(1, 2, 2, 1)
    with pytest.raises(AecryptError, match=r"1 of 4 latent entries have z \+ K < 0"):
        cipher.PaperCipher(key).encrypt(z)
    with pytest.warns(cipher.CipherDomainWarning):
        e = cipher.PaperCipher(key, negative="warn").encrypt(z)
    back = cipher.PaperCipher(key).decrypt(e).ravel()
    # z + K = -1.5 comes back as |z + K| - K = 1.0: the sign is lost, not garbage silently
    assert back.tolist() == pytest.approx([1.0, -0.25, 0.0, 1.0])
    assert cipher.PaperCipher(key).domain_violations(z) == 1


def test_the_other_reading_of_the_text_does_not_invert():
    c = cipher.PaperCipher(cipher.key_from_seed(8, 8, 0))
    z = np.random.default_rng(0).random((1, 8, 8, 4), dtype=np.float32)
    wrong = c.decrypt_as_written(c.encrypt(z))
    finite = np.isfinite(wrong)
    assert np.max(np.abs(wrong[finite] - z[finite])) > 0.1


def test_one_known_pair_recovers_the_key():
    key = cipher.key_from_seed(8, 8, 3)
    z = np.random.default_rng(1).random((2, 8, 8, 4), dtype=np.float32)
    e = cipher.PaperCipher(key).encrypt(z)
    assert np.allclose(cipher.PaperCipher.recover_key(z, e), key, atol=1e-5)


def test_key_from_image_is_resized_grayscale(tmp_path):
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:, 30:] = 255
    Image.fromarray(rgb).save(tmp_path / "key.png")
    key = cipher.key_from_image(tmp_path / "key.png", 10, 12)
    assert key.shape == (10, 12) and key.dtype == np.float32
    assert key[:, 0].max() == 0 and key[:, -1].min() == 1.0
    with pytest.raises(AecryptError, match="does not exist"):
        cipher.key_from_image(tmp_path / "nope.png", 4, 4)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(AecryptError, match="cannot be read as an image"):
        cipher.key_from_image(tmp_path / "bad.png", 4, 4)


def test_latent_and_key_shapes_must_agree():
    with pytest.raises(AecryptError, match="does not match the key"):
        cipher.PaperCipher(np.zeros((4, 4), np.float32)).encrypt(np.zeros((1, 8, 8, 2), np.float32))


def test_aead_round_trip_is_exact_and_tampering_is_detected():
    z = np.random.default_rng(0).random((2, 8, 8, 16), dtype=np.float32)
    c = aead.AeadCipher()
    token = c.encrypt(z)
    assert np.array_equal(c.decrypt(token), z)
    assert c.encrypt(z) != token  # fresh nonce each time
    tampered = bytearray(token)
    tampered[-1] ^= 1
    with pytest.raises(AecryptError, match="failed authentication"):
        c.decrypt(bytes(tampered))
    with pytest.raises(AecryptError, match="is for key"):
        aead.AeadCipher().decrypt(token)  # another key
    with pytest.raises(AecryptError, match="failed authentication"):
        c.decrypt(token[:32] + (7).to_bytes(8, "big") + token[40:])  # a header field changed: the sequence
