"""MedMNIST's .npz files: images already as arrays ({train,val,test}_{images,labels}), read with the file's
own splits and with labels made binary (`read_medmnist`), and the images' side read from the .npy headers
alone, without the pixels (`medmnist_side`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from aecrypt import UsageError


def read_medmnist(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """MedMNIST .npz: {train,val,test}_{images,labels}. Label 0 = negative, anything else positive; with
    several label columns (multi-label, as ChestMNIST's 14 findings) positive = any finding, as for NIH.

    Parameters
    ----------
    path : pathlib.Path
        The .npz file; any of its train, val and test parts may be missing, not all.

    Returns
    -------
    images : ndarray, shape (N, H, W) or (N, H, W, C)
        The file's images as stored (uint8 in MedMNIST), train then val then test.
    labels : ndarray of int, shape (N,)
        1 = positive.
    splits : list of str
        "train", "val" or "test" per image: the file's own split.

    Raises
    ------
    UsageError
        For a missing, unreadable or damaged file, or one with no image arrays.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.savez(Path(tmp) / "tiny.npz",
    ...              train_images=np.zeros((3, 28, 28), np.uint8), train_labels=np.array([[0], [1], [2]]),
    ...              test_images=np.zeros((2, 28, 28), np.uint8), test_labels=np.array([[1], [0]]))
    ...     images, labels, splits = read_medmnist(Path(tmp) / "tiny.npz")
    >>> images.shape, labels.tolist(), splits
    ((5, 28, 28), [0, 1, 1, 1, 0], ['train', 'train', 'train', 'test', 'test'])
    """
    if not path.is_file():
        raise UsageError(
            f"MedMNIST file {path} {'is a folder' if path.is_dir() else 'does not exist'}; give an .npz file"
        )
    try:
        arrays = np.load(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"MedMNIST file {path} cannot be read as .npz: {exc}") from None
    images, labels, splits = [], [], []
    try:  # each array is read (and its CRC checked) only here
        for split in ("train", "val", "test"):
            if f"{split}_images" not in arrays:
                continue
            x = arrays[f"{split}_images"]
            y = np.asarray(arrays[f"{split}_labels"]).reshape(len(x), -1)
            images.append(x)
            labels.append((y != 0).any(axis=1).astype(int))
            splits += [split] * len(x)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(
            f"MedMNIST file {path} is damaged ({exc}); download it again (aecrypt fetch medmnist NAME)"
        ) from None
    if not images:
        raise UsageError(f"{path} has none of train_images/val_images/test_images; keys: {list(arrays.keys())}")
    return np.concatenate(images), np.concatenate(labels), splits


def medmnist_side(path: Path) -> int:
    """The side of a MedMNIST file's images, from the .npy headers inside the .npz (no pixels read).

    Parameters
    ----------
    path : pathlib.Path
        The .npz file, as `read_medmnist` reads it.

    Returns
    -------
    int
        The shorter side of its smallest images, over all of its *_images arrays.

    Raises
    ------
    UsageError
        For a file that is not a readable .npz, or one with no image arrays.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.savez(Path(tmp) / "tiny.npz", train_images=np.zeros((2, 64, 64)), test_images=np.zeros((1, 64, 64)))
    ...     side = medmnist_side(Path(tmp) / "tiny.npz")
    >>> side
    64
    """
    try:
        with zipfile.ZipFile(path) as z:
            sides = []
            for name in z.namelist():
                if name.endswith("_images.npy"):
                    with z.open(name) as f:
                        fmt = np.lib.format
                        read = fmt.read_array_header_1_0 if fmt.read_magic(f) == (1, 0) else fmt.read_array_header_2_0
                        shape = read(f)[0]
                    sides.append(min(shape[1:3]))
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise UsageError(f"MedMNIST file {path} cannot be read as .npz: {exc}") from None
    if not sides:
        raise UsageError(f"{path} has none of train_images/val_images/test_images")
    return min(sides)
