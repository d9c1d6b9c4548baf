"""Image files and folders named on a command line (`aecrypt encrypt` and `send`): found, read at a size,
and named by where they came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aecrypt import UsageError
from aecrypt.data import readers


def image_files(given: list[str]) -> list[Path]:
    """The image files named, and every image under the folders named (sorted), in the order given."""
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
    """(where each image came from, N × size × size float32 in [0, 1])."""
    files = image_files(given)
    try:
        return [str(f) for f in files], np.stack([readers.read_image(f, size) for f in files])
    except readers.UnreadableImage as exc:
        raise UsageError(f"cannot read image {exc}") from None
