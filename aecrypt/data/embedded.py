"""The embedded real data set: 1903 frontal chest X-rays of 875 patients from the NIH Clinical Center's
ChestX-ray14 release at 64 × 64 (999 *No Finding*, 904 with any finding), in one file beside this module,
nih-cxr-2k-64.npz, checked against its SHA-256 on every load. The data spec `nih-embedded` names it; it needs
no download and no folder beside the checkout. Its attribution is nih-cxr-2k-64.ATTRIBUTION.md, beside it.

The file holds the images as uint8 and, per image, its label (1 = any finding), patient id, file name as
released, NIH's finding labels and view position. `python -m aecrypt.data.embedded SOURCE` rebuilds it from
the shared folder it came from (../shared/data/nih-cxr-2k-64: one folder per class and a labels.csv)."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aecrypt import AecryptError

SPEC = "nih-embedded"
FILE = Path(__file__).with_name("nih-cxr-2k-64.npz")
ATTRIBUTION_FILE = FILE.with_suffix(".ATTRIBUTION.md")
SHA256 = "1c5e663a9c2860e8938d86ae21f401b223adc4c99ff25c7b749e6dfadbfcb1e5"
SIDE = 64
IMAGES = 1903


@dataclass(frozen=True)
class EmbeddedSet:
    images: np.ndarray  # (N, 64, 64) uint8
    labels: np.ndarray  # (N,) int64, 1 = any NIH finding
    patients: np.ndarray  # (N,) str
    files: np.ndarray  # (N,) str, e.g. ABNORMAL/00000001_000.png
    findings: np.ndarray  # (N,) str, NIH's labels joined by |
    views: np.ndarray  # (N,) str, PA or AP


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path | None = None) -> EmbeddedSet:
    """The embedded set (FILE, unless another copy is given), after its checksum: a changed or missing file is
    a one-line error naming it.

    Parameters
    ----------
    path : Path, optional
        A copy of the file; `FILE`, beside this module, where None. It must match `SHA256`.

    Returns
    -------
    EmbeddedSet
        The images (N × 64 × 64 uint8), the labels (int64, 1 = any NIH finding) and, per image, its patient id,
        file name as released, NIH's finding labels and view position.

    Raises
    ------
    AecryptError
        Where the file is missing or its SHA-256 is not `SHA256`.

    Examples
    --------
    >>> data = load()
    >>> data.images.shape, data.images.dtype, int(data.labels.sum()), len(np.unique(data.patients))
    ((1903, 64, 64), dtype('uint8'), 904, 875)
    >>> str(data.files[0]), str(data.views[0])
    ('ABNORMAL/00000001_000.png', 'PA')
    """
    path = Path(path or FILE)
    if not path.is_file():
        raise AecryptError(f"the embedded NIH set {path} is missing; reinstall aecrypt (or git checkout {path.name})")
    if (digest := _sha256(path)) != SHA256:
        raise AecryptError(
            f"the embedded NIH set {path} does not match its checksum (SHA-256 {digest[:12]}…, expected "
            f"{SHA256[:12]}…): the file is damaged; reinstall aecrypt (or git checkout {path.name})"
        )
    with np.load(path, allow_pickle=False) as z:
        return EmbeddedSet(
            z["images"], z["labels"].astype(np.int64), z["patients"], z["files"], z["findings"], z["views"]
        )


def build(source: Path, out: Path = FILE) -> str:
    """Write the embedded file from the shared folder (labels.csv and one PNG per row); return its SHA-256.

    Parameters
    ----------
    source : Path
        The folder: a labels.csv with columns file (a PNG's path relative to the folder), label (1 = any
        finding), patient_id, nih_finding_labels and view_position, and the PNGs it names.
    out : Path, optional
        Where to write the compressed .npz; `FILE` by default, which replaces the embedded set.

    Returns
    -------
    str
        The written file's SHA-256, in hex: what `SHA256` must be for `load` to accept it.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     source = Path(tmp)
    ...     (source / "NORMAL").mkdir()
    ...     Image.fromarray(np.zeros((64, 64), np.uint8)).save(source / "NORMAL" / "00000001_000.png")
    ...     pd.DataFrame({"file": ["NORMAL/00000001_000.png"], "label": [0], "patient_id": ["00000001"],
    ...                   "nih_finding_labels": ["No Finding"], "view_position": ["PA"]}).to_csv(
    ...         source / "labels.csv", index=False)
    ...     digest = build(source, source / "tiny.npz")
    ...     with np.load(source / "tiny.npz") as z:
    ...         shapes = {k: z[k].shape for k in ("images", "labels")}
    >>> len(digest), shapes
    (64, {'images': (1, 64, 64), 'labels': (1,)})
    """
    import pandas as pd
    from PIL import Image

    table = pd.read_csv(source / "labels.csv", dtype={"patient_id": str}, keep_default_na=False)
    images = np.stack([np.asarray(Image.open(source / f).convert("L"), np.uint8) for f in table["file"]])
    np.savez_compressed(
        out,
        images=images,
        labels=table["label"].to_numpy(np.int8),
        patients=table["patient_id"].to_numpy(str),
        files=table["file"].to_numpy(str),
        findings=table["nih_finding_labels"].to_numpy(str),
        views=table["view_position"].to_numpy(str),
    )
    return _sha256(out)


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
