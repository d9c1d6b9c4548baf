"""The link's PNG files: what it writes and sends when it sends the image itself (8-bit grayscale PNG through
Pillow), and reads back, with the bounds a received PNG is checked against. The codecs a user would pick instead
of an autoencoder, PNG among them, are `aecrypt.data.codecs`."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from aecrypt import AecryptError, UsageError
from aecrypt.data.codecs import to_uint8


def save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(to_uint8(image)).save(path)


def png_bytes(image: np.ndarray) -> bytes:
    """One H × W image in [0, 1] as an 8-bit grayscale PNG (lossless at 8 bits: the X-ray as a file holds it)."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 2:
        raise UsageError(f"a PNG holds one H × W image, not an array of shape {image.shape}")
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def from_png(data: bytes, shape: tuple[int, int] | None = None) -> np.ndarray:
    """PNG bytes → H × W float32 in [0, 1]; anything else is an AecryptError naming what it is. With `shape`,
    the PNG's declared size is checked before a pixel is decoded (a small file can declare a huge image)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            if img.format != "PNG":
                raise AecryptError(f"expected a PNG, got {img.format}")
            if shape is not None and (img.height, img.width) != tuple(shape):
                raise AecryptError(f"the PNG declares {img.height} × {img.width} pixels, not {shape[0]} × {shape[1]}")
            return np.asarray(img.convert("L"), np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise AecryptError(f"not a readable PNG ({exc})") from None


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a `width` × `height` grayscale image and holds no pixels (a decompression bomb's
    opening, for the drills): the signature, IHDR and IEND chunks with their CRCs."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
