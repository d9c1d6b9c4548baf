"""Readers for real image layouts. Each returns file-level records; decoding to arrays is shared."""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from aecrypt import UsageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
#: Names of a negative study's folder, compared by `folder_key` (any case, `_ - space` alike, a numeric prefix
#: such as `0_` or `1-` and a plural s ignored): "NORMAL", "0_normal", "Negatives", "no-finding", "0".
NEGATIVE_NAMES = ("normal", "negative", "no_finding", "nofinding", "no_disease", "healthy", "control", "benign", "0")
SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "test": "test"}
_NUMERIC_PREFIX = re.compile(r"^\d+[ _.\-]+(?=\D)")
NIH_NAME = re.compile(r"^(\d{8})_\d{3}\.png$")
NIH_LABEL_FILES = ("Data_Entry_2017.csv", "Data_Entry_2017_v2020.csv")  # the release's labels, either version
NIH_PAGE = "https://nihcc.app.box.com/v/ChestXray-NIHCC"


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


def _require_dir(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{what} {path} does not exist")
    if not path.is_dir():
        raise UsageError(f"{what} {path} is not a directory")
    return path


def _patient_from_name(path: Path) -> str:
    m = NIH_NAME.match(path.name)
    return m.group(1) if m else path.stem


def _check_two_classes(labels: list[int], source: str) -> None:
    present = set(labels)
    if present != {0, 1}:
        only = "negative" if present == {0} else "positive" if present == {1} else "no"
        raise UsageError(f"{source} has {only} images only; a classifier needs both classes (negative and positive)")


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


# --- layouts ----------------------------------------------------------------------------------


def folder_key(name: str) -> str:
    """A folder name as layouts are matched: lower case, `_ - space` alike, without a numeric prefix
    (`0_normal`, `1-Pneumonia`) or a plural s (`normals`, `negatives`).

    Parameters
    ----------
    name : str
        A folder or class name.

    Returns
    -------
    str
        Its key; a final s is kept after "ss" and in names of three letters or fewer.

    Examples
    --------
    >>> [folder_key(n) for n in ("0_Normal", "1-Pneumonia", "Negatives", "no finding", "glass")]
    ['normal', 'pneumonia', 'negative', 'no_finding', 'glass']
    """
    key = _NUMERIC_PREFIX.sub("", name.strip().lower())
    key = re.sub(r"[ _\-]+", "_", key)
    return key[:-1] if len(key) > 3 and key.endswith("s") and not key.endswith("ss") else key


_NEGATIVE_KEYS = {folder_key(n) for n in NEGATIVE_NAMES}


def _is_negative(name: str) -> bool:
    """The whole name or one of its words is a negative-study word ("Healthy-Controls"), unless a word
    negates it ("not_normal")."""
    key = folder_key(name)
    words = set(key.split("_"))
    return key in _NEGATIVE_KEYS or (bool(words & _NEGATIVE_KEYS) and not words & {"not", "non", "no"})


def _pick(classes: list[Path], names: list[str], base: Path, which: str) -> list[Path]:
    """The class folders a spec names (matched like folder_key); an unknown name lists the folders there."""
    keys = {folder_key(c.name): c for c in classes}
    unknown = [n for n in names if folder_key(n) not in keys]
    if unknown:
        raise UsageError(
            f"{which}={','.join(unknown)}: no such class folder in {base}; folders there: {[c.name for c in classes]}"
        )
    return [keys[folder_key(n)] for n in names]


def _classes(base: Path, root: Path, negative: list[str] | None, positive: list[str] | None):
    """(negative folders, positive folders, folders left out) of one level of class folders."""
    classes = _class_folders(base)
    names = [c.name for c in classes]
    if negative or positive:
        neg = _pick(classes, negative, base, "negative") if negative else []
        pos = _pick(classes, positive, base, "positive") if positive else []
        neg = neg or [c for c in classes if c not in pos]
        pos = pos or [c for c in classes if c not in neg]
        if set(neg) & set(pos):
            raise UsageError(f"{base}: {sorted(c.name for c in set(neg) & set(pos))} named both negative and positive")
        return neg, pos, [c for c in classes if c not in neg and c not in pos]
    neg = [c for c in classes if _is_negative(c.name)]
    if len(classes) == 1 and len(inner := _class_folders(classes[0])) >= 2:  # the class folders a level deeper
        raise UsageError(
            f"{base} holds one folder, {classes[0].name}/, and the class folders {[c.name for c in inner]} are inside "
            f"it: give that folder, folder:{classes[0]}"
        )
    if len(neg) != 1 or len(classes) < 2:
        example = names[0] if not neg else neg[0].name
        rest = ",".join(n for n in names if n != example) or "POSITIVE_FOLDER"
        raise UsageError(
            f"{base} has class folders {names}: cannot tell which one is the negative class (expected exactly one "
            f"named like {', '.join(NEGATIVE_NAMES)}, in any case, with `_ - space`, a numeric prefix or a plural, and "
            f"at least one other). Say it in the data spec, e.g. folder:{root}?negative={example}&positive={rest}"
        )
    return neg, [c for c in classes if c not in neg], []


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_folder(root: Path, negative: list[str] | None = None, positive: list[str] | None = None) -> Records:
    """One sub-folder per class, optionally under split folders (train / val / valid / validation / dev /
    test). Which folder is negative is guessed from its name (NEGATIVE_NAMES) unless `negative` and/or
    `positive` name the folders (the other class is then every folder not named; with both, folders named in
    neither are left out). The notes say which folder went to which class and split. An optional labels.csv
    with a `file` column (relative path) and `patient_id` gives patient ids.

    Parameters
    ----------
    root : pathlib.Path
        The folder: class folders, or split folders each holding the class folders. Images (`IMAGE_SUFFIXES`)
        may sit at any depth inside a class folder.
    negative, positive : list of str, optional
        Class folder names, matched as `folder_key` matches them. None: guessed (exactly one folder must
        look negative).

    Returns
    -------
    Records
        Paths, labels (1 = positive), groups (the NIH patient number of a name like 00000001_000.png, else
        the file's stem, unless labels.csv gives one), splits (None without split folders) and notes.

    Raises
    ------
    UsageError
        Where the layout, the class folders or labels.csv cannot be read as said above, or one class is empty.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("train/NORMAL/00000001_000.png", "train/PNEUMONIA/00000002_000.png",
    ...                  "test/NORMAL/00000003_000.png", "test/PNEUMONIA/00000003_001.png"):
    ...         (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
    ...         Image.new("L", (8, 8)).save(Path(tmp) / name)
    ...     found = read_folder(Path(tmp))
    >>> found.labels, found.groups, found.splits
    ([0, 1, 0, 1], ['00000003', '00000003', '00000001', '00000002'], ['test', 'test', 'train', 'train'])
    >>> print(*found.notes, sep="\\n")
    test/NORMAL/ → negative, split test (1 images)
    test/PNEUMONIA/ → positive, split test (1 images)
    train/NORMAL/ → negative, split train (1 images)
    train/PNEUMONIA/ → positive, split train (1 images)
    """
    _require_dir(root, "image folder")
    top = _class_folders(root)
    if not top:
        raise UsageError(
            f"image folder {root} has no sub-folders; expected one folder per class, e.g. NORMAL/ PNEUMONIA/"
        )
    split_level = all(folder_key(p.name) in SPLIT_NAMES or p.name.lower() in SPLIT_NAMES for p in top)
    parts = [(SPLIT_NAMES.get(p.name.lower(), SPLIT_NAMES.get(folder_key(p.name))), p) for p in top]
    parts = parts if split_level else [(None, root)]
    paths, labels, splits, notes = [], [], [], []
    for split, base in parts:
        neg, pos, left_out = _classes(base, root, negative, positive)
        for label, folders in ((0, neg), (1, pos)):
            for c in folders:
                found = _images_in(c)
                paths += found
                labels += [label] * len(found)
                splits += [split] * len(found)
                where = f", split {split}" if split else ""
                notes.append(
                    f"{c.relative_to(root).as_posix()}/ → {'negative' if label == 0 else 'positive'}{where} "
                    f"({len(found)} images)"
                )
        if left_out:
            notes.append(
                f"left out (named in neither class): {', '.join(c.relative_to(root).as_posix() for c in left_out)}"
            )
    if not paths:
        raise UsageError(f"image folder {root} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    _check_two_classes(labels, f"image folder {root}")
    groups = [_patient_from_name(p) for p in paths]
    labels_csv = root / "labels.csv"
    if labels_csv.is_file():
        import pandas as pd  # here, not at the top: reading image files needs no pandas (the link's PNG path)

        table = pd.read_csv(labels_csv, dtype=str)
        column = next((c for c in ("file", "filename", "path") if c in table.columns), None)
        if column is None:
            raise UsageError(f"{labels_csv} needs a 'file' column with image paths relative to {root}")
        known = {p.relative_to(root).as_posix(): i for i, p in enumerate(paths)}
        unknown = sorted(set(table[column]) - set(known))
        if unknown:
            raise UsageError(f"{labels_csv} names {len(unknown)} image(s) not found under {root}: {unknown[:5]}")
        if "patient_id" in table.columns:
            for name, pid in zip(table[column], table["patient_id"], strict=True):
                groups[known[name]] = str(pid)
    return Records(paths, labels, groups, splits if split_level else None, notes)


def read_nih(root: Path, finding: str | None = None) -> Records:
    """NIH ChestX-ray14 release: Data_Entry_2017.csv + PNGs in images*/ folders.
    Negative = 'No Finding'; positive = any finding, or the named one (other rows are left out).

    A partial download is normal: rows whose image is not here are dropped, but an image the label file does
    not list is an error.

    Parameters
    ----------
    root : pathlib.Path
        The release's folder: Data_Entry_2017.csv or Data_Entry_2017_v2020.csv, and images*/ folders.
    finding : str, optional
        One NIH finding (e.g. "Mass", "Effusion"), matched exactly; None: any finding is positive.

    Returns
    -------
    Records
        Paths, labels (1 = positive), groups (the CSV's Patient ID), no splits, and a note of how many
        images another finding left out.

    Raises
    ------
    UsageError
        For a missing label file or column, no images, an unlisted image, an absent finding, or one class.

    Examples
    --------
    >>> import tempfile
    >>> rows = [("00000001_000.png", "No Finding", 1), ("00000001_001.png", "Effusion|Mass", 1),
    ...         ("00000002_000.png", "Mass", 2), ("00000003_000.png", "Hernia", 3)]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "images_001" / "images").mkdir(parents=True)
    ...     for file, _, _ in rows:
    ...         Image.new("L", (8, 8)).save(Path(tmp) / "images_001" / "images" / file)
    ...     csv = "Image Index,Finding Labels,Patient ID\\n" + "".join(f"{f},{x},{p}\\n" for f, x, p in rows)
    ...     _ = (Path(tmp) / "Data_Entry_2017.csv").write_text(csv)
    ...     anything, mass = read_nih(Path(tmp)), read_nih(Path(tmp), "Mass")
    >>> anything.labels, anything.groups
    ([0, 1, 1, 1], ['1', '1', '2', '3'])
    >>> mass.labels, mass.notes
    ([0, 1, 1], ['1 image(s) with other findings left out'])
    """
    _require_dir(root, "NIH folder")
    csv = next((root / n for n in NIH_LABEL_FILES if (root / n).is_file()), None)
    if csv is None:
        raise UsageError(
            f"NIH folder {root} has no {' or '.join(NIH_LABEL_FILES)} (the release's label file, on {NIH_PAGE})"
        )
    import pandas as pd  # here, not at the top: reading image files needs no pandas (the link's PNG path)

    table = pd.read_csv(csv, dtype=str)
    needed = {"Image Index", "Finding Labels", "Patient ID"}
    if missing := needed - set(table.columns):
        raise UsageError(f"{csv} lacks column(s) {sorted(missing)}; found {list(table.columns)}")
    files = {p.name: p for d in sorted(root.glob("images*")) if d.is_dir() for p in _images_in(d)}
    if not files:
        raise UsageError(f"NIH folder {root} has no PNGs in images*/ folders")
    unknown = sorted(set(files) - set(table["Image Index"]))
    if unknown:
        raise UsageError(f"{len(unknown)} image(s) under {root} are not in {csv.name}: {unknown[:5]}")
    table = table[table["Image Index"].isin(files)]  # a partial download is normal: keep what is here
    findings = table["Finding Labels"].str.split("|")
    negative = table["Finding Labels"].eq("No Finding")
    positive = ~negative if finding is None else findings.apply(lambda f: finding in f)
    if finding is not None and not positive.any():
        known = sorted({f for fs in findings for f in fs} - {"No Finding"})
        raise UsageError(f"no image has finding {finding!r}; findings present: {known}")
    table = table[negative | positive]
    labels = positive[table.index].astype(int).tolist()
    _check_two_classes(labels, f"NIH folder {root}")
    paths = [files[name] for name in table["Image Index"]]
    notes = [f"{len(files) - len(paths)} image(s) with other findings left out"] if len(paths) < len(files) else []
    return Records(paths, labels, table["Patient ID"].tolist(), notes=notes)


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


def _binary_labels(values: list[str], where: Path) -> list[int]:
    """0/1 from a labels column: the numbers 0 and 1 (0.0 and 1.0 too), or two class names of which one is a
    negative name (NEGATIVE_NAMES); anything else — a third class, a misspelt negative, another number — is an
    error that lists the labels found, never a silent positive."""
    distinct = sorted(set(values))

    def number(v: str) -> float | None:
        try:
            return float(v)
        except ValueError:
            return None

    numbers = {v: number(v) for v in distinct}
    if all(n is not None for n in numbers.values()):
        if set(numbers.values()) <= {0.0, 1.0}:
            return [int(numbers[v]) for v in values]
        problem = "numbers other than 0 and 1"
    else:
        classes = sorted({folder_key(v) for v in distinct})  # "Normal" and "normal" are one class
        negatives = [c for c in classes if _is_negative(c)]
        if len(classes) == 2 and len(negatives) == 1:
            return [0 if folder_key(v) == negatives[0] else 1 for v in values]
        problem = "not two class names of which one is negative" if len(classes) != 2 else "no negative name"
    raise UsageError(
        f"{where}: its labels ({', '.join(repr(v) for v in distinct[:8])}) are {problem}; write 0 (negative) and 1 "
        f"(positive), or two names of which one is negative ({', '.join(NEGATIVE_NAMES[:4])}, ...)"
    )


def read_dicom(root: Path) -> Records:
    """DICOM files (*.dcm) under root, with labels.csv: `file` (relative path), `label` (0/1 or class
    name) and optionally `patient_id` (else each file is its own group).

    Only labels.csv is read here; the files must exist but are decoded later (`read_dicom_image`).

    Parameters
    ----------
    root : pathlib.Path
        The folder holding labels.csv and the files it names.

    Returns
    -------
    Records
        Paths in labels.csv's order, labels (1 = positive), groups, no splits.

    Raises
    ------
    UsageError
        For a missing labels.csv, column or file, labels that are neither 0/1 nor two class names of which
        one is negative (`NEGATIVE_NAMES`), or one class only.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("a.dcm", "b.dcm", "c.dcm"):
    ...         (Path(tmp) / name).touch()
    ...     csv = "file,label,patient_id\\na.dcm,Normal,p1\\nb.dcm,Pneumonia,p1\\nc.dcm,normal,p2\\n"
    ...     _ = (Path(tmp) / "labels.csv").write_text(csv)
    ...     found = read_dicom(Path(tmp))
    >>> [p.name for p in found.paths], found.labels, found.groups
    (['a.dcm', 'b.dcm', 'c.dcm'], [0, 1, 0], ['p1', 'p1', 'p2'])
    """
    _require_dir(root, "DICOM folder")
    labels_csv = root / "labels.csv"
    if not labels_csv.is_file():
        raise UsageError(f"DICOM folder {root} needs a labels.csv with columns file,label[,patient_id]")
    import pandas as pd  # here, not at the top: reading image files needs no pandas (the link's PNG path)

    table = pd.read_csv(labels_csv, dtype=str)
    if not {"file", "label"} <= set(table.columns):
        raise UsageError(f"{labels_csv} needs columns 'file' and 'label'; found {list(table.columns)}")
    paths = [root / f for f in table["file"]]
    unknown = [f for f, p in zip(table["file"], paths, strict=True) if not p.is_file()]
    if unknown:
        raise UsageError(f"{labels_csv} names {len(unknown)} file(s) not found under {root}: {unknown[:5]}")
    labels = _binary_labels(table["label"].fillna("").str.strip().tolist(), labels_csv)
    _check_two_classes(labels, f"DICOM folder {root}")
    groups = table["patient_id"].tolist() if "patient_id" in table.columns else [Path(f).stem for f in table["file"]]
    return Records(paths, labels, groups)


def read_dicom_image(path: Path, size: int) -> np.ndarray:
    """One DICOM file as a size × size float32 gray image in [0, 1].

    Colour is averaged to gray (a multi-frame file: its frames averaged), the modality rescale applied,
    values stretched min–max to [0, 1] (a flat image is all 0) and MONOCHROME1 inverted so that 1 is always
    white; then `fit_square`.

    Parameters
    ----------
    path : pathlib.Path
        The DICOM file.
    size : int
        The output side, as `fit_square` takes it.

    Returns
    -------
    ndarray of float32, shape (size, size)
        The image.

    Raises
    ------
    UnreadableImage
        Where pydicom cannot read the file or its pixels.
    UsageError
        Where the image is smaller than `size`.

    Examples
    --------
    >>> import tempfile
    >>> import pydicom
    >>> ds = pydicom.Dataset()
    >>> ds.SOPClassUID, ds.SOPInstanceUID = pydicom.uid.SecondaryCaptureImageStorage, "1.2.3.4"
    >>> ds.set_pixel_data(np.array([[0, 100], [200, 400]], np.uint16), "MONOCHROME2", 12)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds.save_as(Path(tmp) / "a.dcm", enforce_file_format=True)
    ...     image = read_dicom_image(Path(tmp) / "a.dcm", 2)
    >>> image.tolist()
    [[0.0, 0.25], [0.5, 1.0]]
    """
    import pydicom  # only DICOM users pay its import

    try:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array.astype(np.float32)
    except Exception as exc:  # pydicom raises many types for broken files
        raise UnreadableImage(f"{path}: {exc}") from None
    if arr.ndim == 3:  # colour or multi-frame: average to one gray frame
        arr = arr.mean(axis=-1 if arr.shape[-1] in (3, 4) else 0)
    arr = arr * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
    lo, hi = float(arr.min()), float(arr.max())
    arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
    if getattr(ds, "PhotometricInterpretation", "") == "MONOCHROME1":  # 0 = white: invert
        arr = 1.0 - arr
    return fit_square(arr, size, str(path))
