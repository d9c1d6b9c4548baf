"""The paper's latent "cipher", behind the interface every cipher of the project has (`LatentCipher`).

Paper (Sec. 3): E = (z + K)², with K a key image added to every channel of the latent z.
Its text gives two orders for decryption:
  * "reverse the power function using the square root" (Sec. 3, algorithm step 3): z = √E − K.
    This is the exact inverse whenever z + K ≥ 0 and is what `PaperCipher.decrypt` computes.
  * "subtract the added image from it then take the square root": z' = √(E − K).
    This does not invert the encryption; `decrypt_as_written` keeps it for the book to measure.
Neither is encryption in the cryptographic sense: K is recoverable from one known (z, E) pair
(`recover_key`) and the map preserves the latent's structure. AES-256-GCM and ChaCha20-Poly1305 are the
comparison (`aecrypt.link.aead`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from PIL import Image

from aecrypt import AecryptError, UsageError

NegativePolicy = Literal["raise", "warn", "ignore"]
#: How many test images a run decodes both with and without the cipher, to measure what the cipher alone changes in
#: a retrieved image: float rounding or a sign failure shows on any image (decoding every image twice cost 40 % of
#: retrieval at the default profile).
CHECK_IMAGES = 256


class CipherDomainWarning(UserWarning):
    """z + K < 0 somewhere: squaring loses the sign and decryption returns |z + K| − K there."""


class LatentCipher(Protocol):
    """What the pipeline needs of a cipher: encrypt a latent array, decrypt it back."""

    name: str

    def encrypt(self, latent: np.ndarray) -> object: ...

    def decrypt(self, ciphertext: object) -> np.ndarray: ...


def key_from_seed(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A key image of uniform values in [0, 1), deterministic from the seed.

    Parameters
    ----------
    height, width : int
        The latent's spatial size, which the key covers.
    seed : int, optional
        The build's data seed.

    Returns
    -------
    ndarray of float32, shape (height, width)

    Examples
    --------
    >>> key = key_from_seed(2, 3, seed=0)
    >>> key.shape, key.dtype, bool(((key >= 0) & (key < 1)).all())
    ((2, 3), dtype('float32'), True)
    """
    return np.random.default_rng(seed).random((height, width), dtype=np.float32)


def key_from_image(path: str | os.PathLike, height: int, width: int) -> np.ndarray:
    """A key image from any image file: grayscale, resized to the latent's height × width, in [0, 1].

    Parameters
    ----------
    path : str or path-like
        Any image Pillow reads.
    height, width : int
        The latent's spatial size.

    Returns
    -------
    ndarray of float32, shape (height, width)

    Raises
    ------
    UsageError
        Where the file is missing or is not an image.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "key.png"
    >>> Image.fromarray(np.full((8, 8), 255, np.uint8)).save(path)
    >>> key_from_image(path, 2, 2).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"key image {path} does not exist; give a path to an image file (PNG, JPEG, ...)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # 89 million pixels or more: refused
            with Image.open(path) as img:
                img = img.convert("L").resize((width, height), Image.Resampling.BILINEAR)
                return np.asarray(img, dtype=np.float32) / 255.0
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UsageError(f"key image {path} cannot be read as an image: {exc}") from None


class PaperCipher:
    """E = (z + K)², decrypted by √E − K, in float32. The key broadcasts over the channel axis."""

    name = "paper"

    def __init__(self, key: np.ndarray, negative: NegativePolicy = "raise"):
        key = np.asarray(key, dtype=np.float32)
        if key.ndim != 2:
            raise UsageError(f"the key must be a 2-D image (height × width), got shape {key.shape}")
        if negative not in ("raise", "warn", "ignore"):
            raise UsageError(f"negative={negative!r}; valid: 'raise', 'warn', 'ignore'")
        self.key = key
        self.negative = negative

    def _key_for(self, latent: np.ndarray) -> np.ndarray:
        if latent.ndim < 3 or latent.shape[-3:-1] != self.key.shape:
            raise UsageError(
                f"latent shape {latent.shape} does not match the key {self.key.shape}: "
                "expected (..., height, width, channels) with height × width equal to the key's"
            )
        return self.key[:, :, None]

    def domain_violations(self, latent: np.ndarray) -> int:
        """How many entries have z + K < 0 (where the round trip cannot be exact)."""
        latent = np.asarray(latent, dtype=np.float32)
        return int(np.count_nonzero(latent + self._key_for(latent) < 0))

    def encrypt(self, latent: np.ndarray) -> np.ndarray:
        latent = np.asarray(latent, dtype=np.float32)
        shifted = latent + self._key_for(latent)
        bad = int(np.count_nonzero(shifted < 0))
        if bad and self.negative != "ignore":
            message = (
                f"{bad} of {shifted.size} latent entries have z + K < 0 (min z = {latent.min():.4g}); "
                "squaring loses their sign, so decryption returns |z + K| − K there. This happens with "
                "activations that can be negative (e.g. tanh, elu, linear); relu never does."
            )
            if self.negative == "raise":
                raise AecryptError(message + " Pass negative='warn' or 'ignore' to encrypt anyway.")
            warnings.warn(message, CipherDomainWarning, stacklevel=2)
        return np.square(shifted)

    def decrypt(self, ciphertext: np.ndarray) -> np.ndarray:
        ciphertext = np.asarray(ciphertext, dtype=np.float32)
        return np.sqrt(ciphertext) - self._key_for(ciphertext)

    def decrypt_as_written(self, ciphertext: np.ndarray) -> np.ndarray:
        """The other reading of the paper's text: subtract K, then take the square root.
        Not an inverse; negative E − K gives NaN, as the square root of a negative number would."""
        ciphertext = np.asarray(ciphertext, dtype=np.float32)
        with np.errstate(invalid="ignore"):
            return np.sqrt(ciphertext - self._key_for(ciphertext))

    @staticmethod
    def recover_key(latent: np.ndarray, ciphertext: np.ndarray) -> np.ndarray:
        """The known-plaintext attack (`recover_key`), kept where the book's first exercise looks for it."""
        return recover_key(latent, ciphertext)


def recover_key(latent: np.ndarray, ciphertext: np.ndarray) -> np.ndarray:
    """Known-plaintext attack: one (z, E) pair gives K = √E − z wherever z + K ≥ 0, per pixel (the channels
    agree there; their median is taken).

    Parameters
    ----------
    latent, ciphertext : ndarray, shape (h, w, c) or (n, h, w, c)
        One known latent and its ciphertext (of a batch, the first pair is used).

    Returns
    -------
    ndarray, shape (h, w)
        The key image.

    Examples
    --------
    >>> z = np.random.default_rng(1).random((4, 4, 8), dtype=np.float32)
    >>> key = key_from_seed(4, 4, seed=7)
    >>> float(np.abs(recover_key(z, (z + key[:, :, None]) ** 2) - key).max()) < 1e-6
    True
    """
    z, e = np.asarray(latent, np.float32), np.asarray(ciphertext, np.float32)
    if z.ndim == 4:
        z, e = z[0], e[0]
    return np.median(np.sqrt(e) - z, axis=-1)


def make_paper_cipher(
    latent_hw: tuple[int, int], key_image: str | None = None, seed: int = 0, negative: NegativePolicy = "raise"
) -> PaperCipher:
    """The paper's cipher, E = (z + K)², with its key image from a file or from the data seed.

    Parameters
    ----------
    latent_hw : (int, int)
        The latent's height and width.
    key_image : str, optional
        An image file for the key (`key_from_image`); empty or None: `key_from_seed`.
    seed : int, optional
        The data seed, where no key image is given.
    negative : {"raise", "warn", "ignore"}, optional
        What decryption does where z + K < 0 (`NegativePolicy`).

    Returns
    -------
    PaperCipher

    Examples
    --------
    >>> cipher = make_paper_cipher((4, 4), seed=7)
    >>> np.array_equal(cipher.key, key_from_seed(4, 4, seed=7))
    True
    """
    h, w = latent_hw
    key = key_from_image(key_image, h, w) if key_image else key_from_seed(h, w, seed)
    return PaperCipher(key, negative=negative)


def round_trip_error(cipher: LatentCipher, latent: np.ndarray) -> float:
    """Max absolute difference between the latent and decrypt(encrypt(latent)).

    Parameters
    ----------
    cipher : LatentCipher
        Any cipher with encrypt and decrypt.
    latent : ndarray
        A batch of latents.

    Returns
    -------
    float

    Examples
    --------
    >>> z = np.random.default_rng(1).random((1, 4, 4, 8), dtype=np.float32)
    >>> round_trip_error(make_paper_cipher((4, 4), seed=7), z) < 1e-5
    True
    """
    back = cipher.decrypt(cipher.encrypt(latent))
    return float(np.max(np.abs(np.asarray(back, dtype=np.float64) - latent)))
