"""The standard image codecs a user would pick instead of an autoencoder: encode an 8-bit grayscale image at
one setting of the codec's quality knob, decode it back, and say how many of the file's bytes are its coded
payload (the rest is header). Pillow's JPEG, WebP, JPEG 2000 and PNG; imagecodecs' JPEG XL and JPEG-LS where
it installed them.

A codec run of the classifier (notebooks/baseline.ipynb with `codec="webp:37"`) and the rate–distortion
chapter both come through here, so every method is encoded and decoded by the same code.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aecrypt import UsageError


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats → 0–255, rounded to nearest (values outside [0, 1] are clipped).

    Parameters
    ----------
    image : array_like of float
        Pixel values meant to lie in [0, 1], any shape.

    Returns
    -------
    ndarray of uint8
        The same shape, each value ×255 and rounded half up, so 0.5 maps to 128.

    Examples
    --------
    >>> to_uint8([0.0, 0.5, 1.0, 1.2, -0.1]).tolist()
    [0, 128, 255, 255, 0]
    """
    return np.clip(np.asarray(image, np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)


#: Which of Pillow's save options each format's knob sets.
_PILLOW_KNOB = {"JPEG": "quality", "WEBP": "quality", "JPEG2000": "quality_layers"}


def _pillow(fmt: str, **fixed) -> tuple[Callable, Callable]:
    def encode(image: np.ndarray, knob) -> bytes:
        from PIL import Image

        options = dict(fixed) | ({_PILLOW_KNOB[fmt]: _knob_value(fmt, knob)} if fmt in _PILLOW_KNOB else {})
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format=fmt, **options)
        return buffer.getvalue()

    def decode(data: bytes) -> np.ndarray:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("L"))

    return encode, decode


def _knob_value(fmt: str, knob):
    return [float(knob)] if fmt == "JPEG2000" else int(knob)


def _imagecodecs(name: str) -> tuple[Callable, Callable]:
    def encode(image: np.ndarray, knob) -> bytes:
        import imagecodecs

        if name == "jpegxl":
            return bytes(imagecodecs.jpegxl_encode(image, distance=float(knob)))
        return bytes(imagecodecs.jpegls_encode(image, level=int(knob)))

    def decode(data: bytes) -> np.ndarray:
        import imagecodecs

        out = imagecodecs.jpegxl_decode(data) if name == "jpegxl" else imagecodecs.jpegls_decode(data)
        return np.asarray(out, np.uint8).reshape(out.shape[:2])

    return encode, decode


# --- how much of a file is payload --------------------------------------------------------------------------
# No library reports how many bytes of a file are header, so the few container layouts are read here.


def _jpeg_scan_bytes(data: bytes) -> int:
    """JPEG and JPEG-LS: the entropy-coded bytes after the start-of-scan segment, up to the end marker."""
    pos = 2  # after SOI
    while pos + 4 <= len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:  # start of scan: the coded data follow its header
            return len(data) - (pos + 2 + length) - 2
        pos += 2 + length
    return 0


def _png_idat_bytes(data: bytes) -> int:
    pos, total = 8, 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        total += length if kind == b"IDAT" else 0
        pos += 12 + length
    return total


def _webp_bitstream_bytes(data: bytes) -> int:
    pos = 12  # after "RIFF", size, "WEBP"
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if kind in (b"VP8 ", b"VP8L"):
            return length
        pos += 8 + length + (length & 1)
    return 0


def _j2k_tile_bytes(data: bytes) -> int:
    """A JPEG 2000 codestream of one tile: the bytes after start-of-data, up to the end-of-codestream marker."""
    sod = data.find(b"\xff\x93")
    return len(data) - sod - 2 - 2 if sod >= 0 else 0


@dataclass(frozen=True)
class Codec:
    """One codec: its quality knob's sweep (lowest rate first) and the range a rate search may use."""

    name: str
    title: str
    library: str
    knob: str  # what the number after "name:" sets
    sweep: tuple  # the settings a rate–distortion curve draws, lowest rate first
    search: tuple  # every setting a matched-rate search may take, lowest rate first
    encode: Callable[[np.ndarray, object], bytes]
    decode: Callable[[bytes], np.ndarray]
    payload: Callable[[bytes], int] | None  # coded bytes in a file (None: its layout is not read here)
    lossless_at: object = None  # the setting that is lossless, if any

    def round_trip(self, image: np.ndarray, knob) -> tuple[np.ndarray, int]:
        """An H × W uint8 image through the codec: (decoded image, bytes of the file)."""
        data = self.encode(np.ascontiguousarray(image, np.uint8), knob)
        return self.decode(data), len(data)


_j2k = tuple(float(d) for d in np.arange(16, 60.5, 0.5))
_CODECS = {
    "png": Codec(
        "png",
        "PNG",
        "Pillow",
        "none (lossless)",
        (None,),
        (None,),
        *_pillow("PNG", optimize=True),
        _png_idat_bytes,
        None,
    ),
    "jpeg": Codec(
        "jpeg",
        "JPEG",
        "Pillow",
        "quality 1–95",
        (2, 5, 10, 20, 30, 50, 70, 85, 95),
        tuple(range(1, 96)),
        *_pillow("JPEG", optimize=True),
        _jpeg_scan_bytes,
    ),
    "webp": Codec(
        "webp",
        "WebP",
        "Pillow",
        "quality 0–100",
        (0, 5, 10, 20, 35, 50, 70, 85, 95),
        tuple(range(0, 101)),
        *_pillow("WEBP", method=6),
        _webp_bitstream_bytes,
    ),
    "jpeg2000": Codec(
        "jpeg2000",
        "JPEG 2000",
        "Pillow",
        "target PSNR in dB, 16–60",
        (20, 24, 28, 32, 36, 40, 45, 50),
        _j2k,
        *_pillow("JPEG2000", quality_mode="dB", irreversible=True, no_jp2=True),
        _j2k_tile_bytes,
    ),
    "jpegxl": Codec(
        "jpegxl",
        "JPEG XL",
        "imagecodecs",
        "distance 0.1–25 (lower: better)",
        (12.0, 8.0, 5.0, 3.0, 2.0, 1.0, 0.5),
        tuple(float(d) for d in np.round(np.geomspace(25, 0.1, 60), 3)),
        *_imagecodecs("jpegxl"),
        None,
    ),
    "jpegls": Codec(
        "jpegls",
        "JPEG-LS",
        "imagecodecs",
        "near-lossless error bound 0–20",
        (16, 10, 6, 4, 2, 1, 0),
        tuple(range(20, -1, -1)),
        *_imagecodecs("jpegls"),
        _jpeg_scan_bytes,
        0,
    ),
}
_IMAGECODECS_NAMES = {"jpegxl": "JPEGXL", "jpegls": "JPEGLS"}


def offered() -> dict[str, bool]:
    """Every codec this module knows and whether it works here (imagecodecs builds may lack some).

    Pillow's codecs always count as working; JPEG XL and JPEG-LS only where imagecodecs imports and reports
    them available.

    Parameters
    ----------
    None
        It takes no arguments; the answer depends on the imagecodecs installed.

    Returns
    -------
    dict of str to bool
        Codec name → usable here, in the module's order (png, jpeg, webp, jpeg2000, jpegxl, jpegls).

    Examples
    --------
    >>> list(offered())
    ['png', 'jpeg', 'webp', 'jpeg2000', 'jpegxl', 'jpegls']
    >>> offered()["webp"]
    True
    """
    out = {}
    for name in _CODECS:
        if name in _IMAGECODECS_NAMES:
            try:
                import imagecodecs

                out[name] = bool(getattr(imagecodecs, _IMAGECODECS_NAMES[name]).available)
            except (ImportError, AttributeError):
                out[name] = False
        else:
            out[name] = True
    return out


def get_codec(name: str) -> Codec:
    """The codec of a name, refusing one that is unknown or not available here.

    Parameters
    ----------
    name : str
        A codec name, lower case: png, jpeg, webp, jpeg2000, jpegxl or jpegls.

    Returns
    -------
    Codec
        Its encoder, decoder, payload counter and knob ranges.

    Raises
    ------
    UsageError
        For an unknown name, or a codec this imagecodecs build lacks; the message lists the valid ones.

    Examples
    --------
    >>> codec = get_codec("webp")
    >>> codec.title, codec.knob, codec.search[0], codec.search[-1]
    ('WebP', 'quality 0–100', 0, 100)
    """
    if name not in _CODECS:
        raise UsageError(f"unknown codec {name!r}; valid: {', '.join(_CODECS)}")
    if not offered()[name]:
        raise UsageError(
            f"codec {name!r} is not available here (imagecodecs was built without it); available: "
            f"{', '.join(n for n, ok in offered().items() if ok)}"
        )
    return _CODECS[name]


def available_codecs() -> list[Codec]:
    """The codecs that work here (`offered`), in the module's order.

    Parameters
    ----------
    None
        It takes no arguments.

    Returns
    -------
    list of Codec
        Pillow's four always, then JPEG XL and JPEG-LS where imagecodecs provides them.

    Examples
    --------
    >>> [c.name for c in available_codecs()][:4]
    ['png', 'jpeg', 'webp', 'jpeg2000']
    """
    return [_CODECS[n] for n, ok in offered().items() if ok]


def parse_codec(spec: str) -> tuple[Codec, object]:
    """'webp:37' → (the WebP codec, 37); 'png' → (PNG, None). The setting must lie in the codec's range.

    Parameters
    ----------
    spec : str
        ``NAME:SETTING``, the name in any case; SETTING is the codec's knob (an int, or a float for jpeg2000
        and jpegxl) within the range its `Codec.search` spans. A lossless codec (png) takes no setting.

    Returns
    -------
    codec : Codec
        The named codec.
    knob : int, float or None
        The setting, of the codec's knob type; None for png.

    Raises
    ------
    UsageError
        For an unknown or unavailable codec, a missing or out-of-range setting, or a setting given to png.

    Examples
    --------
    >>> codec, knob = parse_codec("WebP:37")
    >>> codec.name, knob
    ('webp', 37)
    >>> parse_codec("jpeg2000:30.5")[1]
    30.5
    >>> parse_codec("png")[1] is None
    True
    """
    name, _, value = str(spec).partition(":")
    codec = get_codec(name.strip().lower())
    if codec.search == (None,):
        if value:
            raise UsageError(f"codec {codec.name!r} takes no setting (it is lossless), got {spec!r}")
        return codec, None
    low, high = min(codec.search), max(codec.search)
    try:
        knob = type(codec.search[0])(value)
    except ValueError:
        knob = None
    if knob is None or not low <= knob <= high:
        raise UsageError(
            f"codec spec {spec!r} needs a setting: {codec.name}:N with N its {codec.knob} (from {low} to {high})"
        )
    return codec, knob


def round_trip_images(images: np.ndarray, spec: str) -> tuple[np.ndarray, np.ndarray]:
    """N × H × W floats in [0, 1] through a codec spec: (decoded floats in [0, 1], bytes per file).

    Each image is rounded to 8 bits (`to_uint8`), encoded to a file and decoded back, as a codec run of the
    classifier sees it.

    Parameters
    ----------
    images : ndarray, shape (N, H, W)
        Grayscale images, values in [0, 1].
    spec : str
        A codec and its setting, as `parse_codec` reads it (e.g. "webp:37", "png").

    Returns
    -------
    decoded : ndarray of float32, shape (N, H, W)
        The decoded images, scaled back to [0, 1].
    sizes : ndarray of int64, shape (N,)
        Each image's whole file in bytes, header included.

    Examples
    --------
    >>> ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (16, 1))
    >>> images = np.stack([ramp, ramp.T])
    >>> decoded, sizes = round_trip_images(images, "png")
    >>> decoded.shape, decoded.dtype
    ((2, 16, 16), dtype('float32'))
    >>> bool(np.abs(decoded - images).max() < 1 / 255)  # PNG is lossless: only the 8-bit rounding is lost
    True
    >>> len(sizes), bool((sizes > 0).all())
    (2, True)
    """
    codec, knob = parse_codec(spec)
    out = np.empty(images.shape, np.float32)
    sizes = np.empty(len(images), np.int64)
    for i, image in enumerate(to_uint8(images)):
        decoded, sizes[i] = codec.round_trip(image, knob)
        out[i] = decoded / np.float32(255)
    return out, sizes
