"""The NIH ChestX-ray14 release as its publisher lays it out: a label file (Data_Entry_2017.csv, either
version) and PNGs named like 00000001_000.png (patient, then follow-up) in images*/ folders; a partial
download reads as what is there (`read_nih`). The patient number in such a name also groups the images of
an image folder (`class_folders`)."""

from __future__ import annotations

import re
from pathlib import Path

from aecrypt import UsageError
from aecrypt.data.readers import Records, check_two_classes, images_in, require_dir

NIH_NAME = re.compile(r"^(\d{8})_\d{3}\.png$")
NIH_LABEL_FILES = ("Data_Entry_2017.csv", "Data_Entry_2017_v2020.csv")  # the release's labels, either version
NIH_PAGE = "https://nihcc.app.box.com/v/ChestXray-NIHCC"


def patient_from_name(path: Path) -> str:
    """The patient of an image file: the 8-digit patient number of an NIH name (00000001_000.png), else the
    file's stem.

    Parameters
    ----------
    path : pathlib.Path
        An image file.

    Returns
    -------
    str
        The patient number, or the name without its suffix: each such image is a patient of its own.

    Examples
    --------
    >>> patient_from_name(Path("images_001/00000001_002.png")), patient_from_name(Path("NORMAL/IM-0115.jpeg"))
    ('00000001', 'IM-0115')
    """
    m = NIH_NAME.match(path.name)
    return m.group(1) if m else path.stem


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
    >>> from PIL import Image
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
    require_dir(root, "NIH folder")
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
    files = {p.name: p for d in sorted(root.glob("images*")) if d.is_dir() for p in images_in(d)}
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
    check_two_classes(labels, f"NIH folder {root}")
    paths = [files[name] for name in table["Image Index"]]
    notes = [f"{len(files) - len(paths)} image(s) with other findings left out"] if len(paths) < len(files) else []
    return Records(paths, labels, table["Patient ID"].tolist(), notes=notes)
