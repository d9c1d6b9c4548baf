"""`aecrypt fetch`: download public chest X-ray sets into the layout a data spec reads — the only part of
aecrypt that uses the network, and only when a user runs it.

Each file comes through `download` (aecrypt.data.download), which resumes an interrupted download and checks
the file against its publisher's MD5 or the SHA-256 recorded on its first download; NIH's image archives are
then unpacked into TO/images/ and deleted."""

from __future__ import annotations

import json
import logging
import shutil
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

from aecrypt import AecryptError, UsageError
from aecrypt.data import catalogue, nih_release
from aecrypt.data.download import download

log = logging.getLogger(__name__)

UNPACKED = ".aecrypt-unpacked.json"  # archives already unpacked (and deleted) here


def _unpacked(path: Path) -> set[str]:
    """The archives already unpacked (and deleted) in a folder, from its record; a damaged record is one line."""
    if not path.is_file():
        return set()
    try:
        names = json.loads(path.read_text())
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("not a list of archive names")
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path} is damaged ({exc}); it lists the archives already unpacked here: delete it and every archive is "
            'downloaded and unpacked again, or write the names back, e.g. ["images_001.tar.gz"]'
        ) from None
    return set(names)


def _source(url: str, name: str, mirror: str | None) -> str:
    """The publisher's URL, or the same file name under a mirror (an institutional copy; the tests' server)."""
    return f"{mirror.rstrip('/')}/{name}" if mirror else url


def _folder(to: Path) -> Path:
    if to.exists() and not to.is_dir():
        raise UsageError(f"--to {to} is a file; give a folder to download into (it is created if missing)")
    return to


def fetch_medmnist(name: str, size: int, to: Path, mirror: str | None = None, quiet: bool = False) -> str:
    """Download one MedMNIST file; returns the data spec that reads it.

    Parameters
    ----------
    name : str
        A chest X-ray set of `catalogue.MEDMNIST`: "pneumoniamnist" or "chestmnist" (any case).
    size : int
        The image side: 28, 64, 128 or 224.
    to : pathlib.Path or str
        The folder to download into (created if missing; not a file).
    mirror : str, optional
        A base URL that serves the same file name instead of Zenodo (an institutional copy).
    quiet : bool, optional
        No progress bar and no info lines in the log (warnings are still logged).

    Returns
    -------
    str
        ``medmnist:ABSOLUTE_PATH`` of the file.

    Raises
    ------
    UsageError
        For an unknown set or size, or a `to` that is a file.
    AecryptError
        When the download fails, or the file fails MedMNIST's published MD5 (it is deleted).

    Examples
    --------
    A file already in `to` is checked against MedMNIST's MD5, never downloaded again; this one fails and is
    deleted:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     damaged = Path(tmp) / "pneumoniamnist.npz"
    ...     _ = damaged.write_bytes(b"not the file")
    ...     try:
    ...         fetch_medmnist("pneumoniamnist", 28, tmp, quiet=True)
    ...     except AecryptError as exc:
    ...         print(str(exc).split(":")[0], "- still there:", damaged.exists())
    pneumoniamnist.npz is corrupt or changed - still there: False
    >>> try:
    ...     fetch_medmnist("pneumoniamnist", 32, "unused")
    ... except UsageError as exc:
    ...     print(exc)
    MedMNIST has no size 32; valid sizes: 28, 64, 128, 224
    """
    found = catalogue.medmnist_set(name, size)
    to = _folder(Path(to))
    file_name = found.file_name(size)
    path = download(_source(found.url(size), file_name, mirror), Path(to) / file_name, found.md5[size], quiet)
    return f"medmnist:{path.resolve()}"


def fetch_nih(
    parts: list[int], to: Path, labels: str | None = None, mirror: str | None = None, quiet: bool = False
) -> tuple[str, str | None]:
    """Download NIH ChestX-ray14 image archives and unpack them into TO/images/ (each archive is deleted once
    unpacked); the labels file from `labels` (a path or URL) when given. Returns the data spec and, when the
    labels file is still missing, what to do about it.

    Archives unpacked before (listed in TO/.aecrypt-unpacked.json) are skipped, so a fetch that stopped
    resumes where it was. Only images/*.png members are extracted, never a path outside `to`.

    Parameters
    ----------
    parts : list of int
        Archive numbers, 1 to 12 (`catalogue.parse_parts` reads ``--parts``); empty: none.
    to : pathlib.Path or str
        The folder to download into (created if missing; not a file).
    labels : str, optional
        Data_Entry_2017*.csv as a local path (copied) or an http(s) URL (downloaded), saved as
        TO/Data_Entry_2017.csv. A missing local file is refused before any download.
    mirror : str, optional
        A base URL that serves the archives under their names (images_001.tar.gz, ...) instead of NIH's.
    quiet : bool, optional
        No progress bars and no info lines in the log (warnings are still logged).

    Returns
    -------
    spec : str
        ``nih:ABSOLUTE_FOLDER``.
    missing : str or None
        What to do when no labels file is in `to` yet; None when one is.

    Raises
    ------
    UsageError
        For a `to` that is a file, or a local `labels` that does not exist.
    AecryptError
        When a download fails or an archive cannot be unpacked (it is deleted).

    Examples
    --------
    No archives, and a local labels file (nothing is downloaded):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     labels = Path(tmp) / "Data_Entry_2017_v2020.csv"
    ...     _ = labels.write_text("Image Index,Finding Labels,Patient ID\\n")
    ...     spec, missing = fetch_nih([], Path(tmp) / "nih", labels=str(labels), quiet=True)
    ...     copied = (Path(tmp) / "nih" / "Data_Entry_2017.csv").is_file()
    ...     _, still_missing = fetch_nih([], Path(tmp) / "empty", quiet=True)
    >>> spec.startswith("nih:/"), spec.endswith("/nih"), missing, copied
    (True, True, None, True)
    >>> still_missing.split(":")[0]
    'the labels file is not here yet'
    """
    to = _folder(Path(to))
    local_labels = labels and urlsplit(labels).scheme not in ("http", "https")
    if local_labels and not Path(labels).is_file():  # before any download, not after an hour of them
        raise UsageError(f"--labels {labels}: no such file (give the path or URL of Data_Entry_2017*.csv)")
    to.mkdir(parents=True, exist_ok=True)
    unpacked_path = to / UNPACKED
    unpacked = _unpacked(unpacked_path)
    for part in parts:
        name = catalogue.nih_part_name(part)
        if name in unpacked:
            continue
        archive = download(_source(catalogue.NIH_PARTS[part - 1], name, mirror), to / name, None, quiet)
        _unpack(archive, to)
        unpacked.add(name)
        unpacked_path.write_text(json.dumps(sorted(unpacked)))
        archive.unlink()
    if labels:
        target = to / "Data_Entry_2017.csv"
        if local_labels:
            shutil.copyfile(labels, target)
        else:
            download(labels, target, None, quiet)
    missing = None
    if not any((to / n).is_file() for n in nih_release.NIH_LABEL_FILES):
        missing = (
            "the labels file is not here yet: NIH publishes no direct link to it, so download "
            f"Data_Entry_2017_v2020.csv from {catalogue.NIH_PAGE} into {to} (or run again with --labels FILE|URL)"
        )
    return f"nih:{to.resolve()}", missing


def _is_image_member(name: str) -> bool:
    """A release archive's image: images/NAME.png, one level down (never the folder's bookkeeping)."""
    parts = Path(name).parts
    return len(parts) == 2 and parts[0] == "images" and parts[1].lower().endswith(".png")


def _unpack(archive: Path, to: Path) -> None:
    """Unpack a release archive (its members are images/NNNNNNNN_NNN.png), refusing anything that would land
    outside `to` or is not a plain file or folder (tarfile's "data" filter)."""
    try:
        with tarfile.open(archive) as tar:
            images = [m for m in tar.getmembers() if m.isfile() and _is_image_member(m.name)]
            skipped = len([m for m in tar.getmembers() if m.isfile()]) - len(images)
            if skipped:
                log.warning(f"{archive.name}: {skipped} member(s) that are not images/*.png were not extracted")
            tar.extractall(to, members=images, filter="data")
    except (tarfile.TarError, OSError) as exc:
        archive.unlink(missing_ok=True)
        raise AecryptError(f"{archive.name} cannot be unpacked ({exc}); it was deleted, run the fetch again") from None
