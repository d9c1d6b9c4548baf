"""Image files and folders named on a command line (`aecrypt encrypt` and `send`): found, read at a size,
and named by where they came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aecrypt import UsageError
from aecrypt.data import readers


def image_files(given: list[str]) -> list[Path]:
    """The image files named, and every image under the folders named (sorted), in the order given.

    Parameters
    ----------
    given : list of str
        Paths of image files and of folders. A file is taken whatever its suffix; under a folder, at any depth,
        only names ending in `readers.IMAGE_SUFFIXES` (PNG, JPEG, BMP, TIFF; any case).

    Returns
    -------
    list of Path
        The files, folder by folder and file by file in the order given, each folder's sorted by path.

    Raises
    ------
    UsageError
        Where a path does not exist, or no image is found.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("b.png", "a.PNG", "notes.txt"):
    ...         _ = (Path(tmp) / name).write_bytes(b"")
    ...     [p.name for p in image_files([tmp])]
    ['a.PNG', 'b.png']
    """
    files = []
    for path in map(Path, given):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in readers.IMAGE_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such image file or folder")
    if not files:
        raise UsageError("no images given (files or folders of PNG, JPEG, BMP or TIFF, or --data SPEC)")
    return files


def read_images(given: list[str], size: int) -> tuple[list[str], np.ndarray]:
    """(where each image came from, N × size × size float32 in [0, 1]).

    Parameters
    ----------
    given : list of str
        Image files and folders, as `image_files` takes them.
    size : int
        The side, in pixels, every image is read at: grayscale, centre-cropped to a square, then area-resized
        (`readers.read_image`). No image may be smaller.

    Returns
    -------
    names : list of str
        Each image's path, in the order of `image_files`.
    images : ndarray of float32, shape (N, size, size)
        The images, in [0, 1].

    Raises
    ------
    UsageError
        Where a path does not exist, no image is found, or an image cannot be decoded or is smaller than `size`
        (the message names it).

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Image.fromarray(np.full((8, 8), 255, np.uint8)).save(Path(tmp) / "white.png")
    ...     Image.fromarray(np.zeros((8, 8), np.uint8)).save(Path(tmp) / "black.png")
    ...     names, images = read_images([tmp], size=4)
    >>> [Path(name).name for name in names], images.shape, images.max(axis=(1, 2)).tolist()
    (['black.png', 'white.png'], (2, 4, 4), [0.0, 1.0])
    """
    files = image_files(given)
    try:
        return [str(f) for f in files], np.stack([readers.read_image(f, size) for f in files])
    except readers.UnreadableImage as exc:
        raise UsageError(f"cannot read image {exc}") from None
