"""The image-folder layout: one sub-folder per class (NORMAL/ PNEUMONIA/ ...), optionally under split
folders (train/ val/ test/). Folder names are matched by `folder_key`, the negative class is guessed from
`NEGATIVE_NAMES` unless the data spec names the folders, and an optional labels.csv gives patient ids
(`read_folder`). The same negative names decide the two classes of a DICOM labels.csv (`dicom_files`)."""

from __future__ import annotations

import re
from pathlib import Path

from aecrypt import UsageError
from aecrypt.data.nih_release import patient_from_name
from aecrypt.data.readers import IMAGE_SUFFIXES, Records, check_two_classes, images_in, require_dir

#: Names of a negative study's folder, compared by `folder_key` (any case, `_ - space` alike, a numeric prefix
#: such as `0_` or `1-` and a plural s ignored): "NORMAL", "0_normal", "Negatives", "no-finding", "0".
NEGATIVE_NAMES = ("normal", "negative", "no_finding", "nofinding", "no_disease", "healthy", "control", "benign", "0")
SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "test": "test"}
_NUMERIC_PREFIX = re.compile(r"^\d+[ _.\-]+(?=\D)")


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


def is_negative(name: str) -> bool:
    """The whole name or one of its words is a negative-study word ("Healthy-Controls"), unless a word
    negates it ("not_normal").

    Parameters
    ----------
    name : str
        A class folder's name or a class label, matched by `folder_key`.

    Returns
    -------
    bool
        True where the name reads as the negative class (`NEGATIVE_NAMES`).

    Examples
    --------
    >>> [is_negative(n) for n in ("0_NORMAL", "Healthy-Controls", "not_normal", "Pneumonia")]
    [True, True, False, False]
    """
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
    neg = [c for c in classes if is_negative(c.name)]
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
    >>> from PIL import Image
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
    require_dir(root, "image folder")
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
                found = images_in(c)
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
    check_two_classes(labels, f"image folder {root}")
    groups = [patient_from_name(p) for p in paths]
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
