"""What the layout readers share: the `Records` a reader returns (image files with labels, patient groups
and splits), the image suffixes, and the decoding of any image file to a size × size float32 gray image in
[0, 1] (`read_image`; `decode_all` skips or reports the unreadable ones). The layouts themselves are read in
`class_folders` (one folder per class), `nih_release` (NIH ChestX-ray14), `medmnist_npz` (MedMNIST arrays)
and `dicom_files` (DICOM with a labels.csv)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from aecrypt import UsageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


class UnreadableImageWarning(UserWarning):
    """Some images could not be decoded and were skipped (the warning counts and names them)."""


@dataclass
class Records:
    """What a layout reader finds: one entry per image file."""

    paths: list[Path]
    labels: list[int]
    groups: list[str]
    splits: list[str] | None = None
    notes: list[str] = field(default_factory=list)


def require_dir(path: Path, what: str) -> Path:
    """The folder a reader was given, checked to exist and be a directory.

    Parameters
    ----------
    path : pathlib.Path
        The folder.
    what : str
        What the folder is ("image folder", "NIH folder"), for the error message.

    Returns
    -------
    pathlib.Path
        `path`, unchanged.

    Raises
    ------
    UsageError
        Where `path` does not exist or is not a directory.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     require_dir(Path(tmp), "image folder") == Path(tmp)
    ...     (Path(tmp) / "a.png").touch()
    ...     require_dir(Path(tmp) / "a.png", "image folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    aecrypt.UsageError: image folder .../a.png is not a directory
    """
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"{what} {path} is not a directory")
    return path


def check_two_classes(labels: list[int], source: str) -> None:
    """Labels that hold both classes, negative (0) and positive (1), as a classifier needs.

    Parameters
    ----------
    labels : list of int
        The 0/1 labels a reader found.
    source : str
        Where they came from ("image folder data/xray"), for the error message.

    Returns
    -------
    None
        Nothing; the labels pass.

    Raises
    ------
    UsageError
        Where the labels are all negative, all positive, or none, or hold a value other than 0 and 1.

    Examples
    --------
    >>> check_two_classes([0, 1, 1], "image folder data")
    >>> check_two_classes([0, 0], "image folder data")
    Traceback (most recent call last):
    ...
    aecrypt.UsageError: image folder data has negative images only; a classifier needs both classes (negative and
    positive)
    """
    present = set(labels)
    if present != {0, 1}:
        only = "negative" if present == {0} else "positive" if present == {1} else "no"
        raise UsageError(f"{source} has {only} images only; a classifier needs both classes (negative and positive)")


def images_in(folder: Path) -> list[Path]:
    """The image files under a folder, at any depth, sorted: those whose suffix (any case) is in `IMAGE_SUFFIXES`.

    Parameters
    ----------
    folder : pathlib.Path
        The folder to search.

    Returns
    -------
    list of pathlib.Path
        The image files, sorted by path; other files and folders are left out.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "sub").mkdir()
    ...     for name in ("b.PNG", "sub/a.jpg", "notes.txt"):
    ...         (Path(tmp) / name).touch()
    ...     [p.relative_to(tmp).as_posix() for p in images_in(Path(tmp))]
    ['b.PNG', 'sub/a.jpg']
    """
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


# --- decoding ---------------------------------------------------------------------------------


def to_unit_gray(img: Image.Image) -> np.ndarray:
    """Any Pillow image (8/16-bit, float, RGB, RGBA, palette) → float32 grayscale in [0, 1].

    16-bit images are divided by 65535; 32-bit integer and float images by 65535, 255 or 1, whichever their
    largest value calls for (then clipped); transparent pixels are composited on black, since they carry no
    density; colour goes through Pillow's luma conversion.

    Parameters
    ----------
    img : PIL.Image.Image
        An image in any mode Pillow decodes.

    Returns
    -------
    ndarray of float32, shape (H, W)
        Gray levels in [0, 1].

    Examples
    --------
    >>> to_unit_gray(Image.fromarray(np.array([[0, 32768, 65535]], np.uint16))).round(3).tolist()
    [[0.0, 0.5, 1.0]]
    >>> to_unit_gray(Image.new("RGBA", (2, 1), (255, 255, 255, 0))).tolist()  # transparent white: black
    [[0.0, 0.0]]
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(img, dtype=np.float32) / 65535.0
    if img.mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if arr.max() > 255 else 255.0 if arr.max() > 1 else 1.0
        return np.clip(arr / top, 0, 1)
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA"):  # composite on black: transparent pixels carry no density
        background = Image.new("RGBA", img.size, (0, 0, 0, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def fit_square(arr: np.ndarray, size: int, source: str) -> np.ndarray:
    """Centre-crop to a square, then area-resize to size × size.

    Parameters
    ----------
    arr : ndarray, shape (H, W)
        A grayscale image, both sides at least `size`.
    size : int
        The output side in pixels.
    source : str
        What the image is (a file name), for the error message.

    Returns
    -------
    ndarray of float32, shape (size, size)
        The square's box-filter (area) average on the new grid, so no pixel is dropped or invented.

    Raises
    ------
    UsageError
        Where the image's shorter side is below `size`: images are never upscaled.

    Examples
    --------
    >>> image = np.arange(24, dtype=np.float32).reshape(4, 6)  # a 4 × 6 image: columns 1-4 are kept
    >>> fit_square(image, 2, "example").tolist()
    [[4.5, 6.5], [16.5, 18.5]]
    """
    h, w = arr.shape
    if min(h, w) < size:
        raise UsageError(
            f"{source} is {w}×{h}, smaller than the requested {size}×{size}; "
            f"choose a size ≤ {min(h, w)} or use larger images"
        )
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.ascontiguousarray(arr[top : top + side, left : left + side]), mode="F")
    return np.asarray(square.resize((size, size), Image.Resampling.BOX), dtype=np.float32)


#: What Pillow says of an image that declares more pixels than it decodes without a warning (89 million) or
#: at all: a decompression bomb. Either is refused before a pixel is decoded, like any unreadable file.
TOO_LARGE = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def read_image(path: Path, size: int) -> np.ndarray:
    """One image file (PNG, JPEG, BMP, TIFF, ...) as a size × size float32 gray image in [0, 1].

    The file is decoded in full here, so a truncated one fails now rather than later; one that declares more
    pixels than Pillow decodes without warning (a decompression bomb) is refused before any is decoded.

    Parameters
    ----------
    path : pathlib.Path
        The image file.
    size : int
        The output side, as `fit_square` takes it.

    Returns
    -------
    ndarray of float32, shape (size, size)
        `to_unit_gray`, then `fit_square`.

    Raises
    ------
    UnreadableImage
        Where Pillow cannot open or decode the file (`decode_all` skips or reports it).
    UsageError
        Where the image is smaller than `size`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Image.new("L", (12, 8), 255).save(Path(tmp) / "white.png")
    ...     image = read_image(Path(tmp) / "white.png", 4)
    >>> image.shape, image.dtype, float(image.min())
    ((4, 4), dtype('float32'), 1.0)
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # raised by open, before decoding
            with Image.open(path) as img:
                img.load()  # force decoding now, so truncated files fail here
                arr = to_unit_gray(img)
    except (OSError, SyntaxError, ValueError, *TOO_LARGE) as exc:
        raise UnreadableImage(f"{path}: {exc}") from None
    return fit_square(arr, size, str(path))


class UnreadableImage(Exception):
    pass


def decode_all(
    paths: list[Path], size: int, reader=read_image, on_error: str = "skip"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode every path; return images, a mask of the ones kept, and the skipped files' messages.

    Parameters
    ----------
    paths : list of pathlib.Path
        The image files.
    size : int
        The output side, as `fit_square` takes it.
    reader : callable, optional
        ``reader(path, size)`` → one image, raising `UnreadableImage` for a file it cannot decode
        (`read_image`, or `read_dicom_image`).
    on_error : {"skip", "raise"}, optional
        "skip" leaves unreadable files out and warns once with `UnreadableImageWarning`; "raise" stops at the
        first.

    Returns
    -------
    images : ndarray of float32, shape (K, size, size)
        The K images decoded, in the order of `paths`.
    keep : ndarray of bool, shape (len(paths),)
        Which paths were decoded.
    skipped : list of str
        One message per file left out.

    Raises
    ------
    UsageError
        With "raise", at the first unreadable file; in either mode, when none could be decoded.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Image.new("L", (8, 8)).save(Path(tmp) / "good.png")
    ...     _ = (Path(tmp) / "bad.png").write_bytes(b"not a png")
    ...     images, keep, skipped = decode_all([Path(tmp) / "good.png", Path(tmp) / "bad.png"], 4)
    >>> images.shape, keep.tolist(), len(skipped), caught[0].category.__name__
    ((1, 4, 4), [True, False], 1, 'UnreadableImageWarning')
    """
    images = np.zeros((len(paths), size, size), np.float32)
    keep = np.ones(len(paths), bool)
    skipped: list[str] = []
    for i, path in enumerate(paths):
        try:
            images[i] = reader(path, size)
        except UnreadableImage as exc:
            if on_error == "raise":
                raise UsageError(f"cannot decode image {exc}") from None
            keep[i] = False
            skipped.append(str(exc))
    if skipped:
        shown = "; ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        warnings.warn(f"skipped {len(skipped)} unreadable image(s): {shown}", UnreadableImageWarning, stacklevel=2)
    if not keep.any():
        raise UsageError(f"none of the {len(paths)} images could be decoded: {skipped[0]}")
    return images[keep], keep, skipped


def image_side(path: Path) -> int | None:
    """The shorter side of an image file from its header (no pixels decoded); None if unreadable (decoding
    skips or reports it later).

    Parameters
    ----------
    path : pathlib.Path
        An image file Pillow opens, or a DICOM file (.dcm, read by pydicom without its pixels).

    Returns
    -------
    int or None
        min(height, width) in pixels; None for a missing or unreadable file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Image.new("L", (40, 30)).save(Path(tmp) / "wide.png")
    ...     side = image_side(Path(tmp) / "wide.png")
    >>> side, image_side(Path("no-such-file.png"))
    (30, None)
    """
    try:
        if path.suffix.lower() == ".dcm":
            import pydicom

            ds = pydicom.dcmread(path, stop_before_pixels=True)
            return min(int(ds.Rows), int(ds.Columns))
        with Image.open(path) as img:
            return min(img.size)
    except Exception:  # any unreadable header: the decoder names the file when it fails
        return None
