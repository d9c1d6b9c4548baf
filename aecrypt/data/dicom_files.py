"""DICOM files (*.dcm) under a folder whose labels.csv names each file with its label and, optionally, its
patient (`read_dicom`; labels are 0/1 or two class names, one of them negative), and one DICOM file decoded
to a size × size float32 gray image in [0, 1] (`read_dicom_image`). pydicom is imported only when a DICOM
file is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aecrypt import UsageError
from aecrypt.data.class_folders import NEGATIVE_NAMES, folder_key, is_negative
from aecrypt.data.readers import Records, UnreadableImage, check_two_classes, fit_square, require_dir


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
        negatives = [c for c in classes if is_negative(c)]
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
    require_dir(root, "DICOM folder")
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
    check_two_classes(labels, f"DICOM folder {root}")
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
