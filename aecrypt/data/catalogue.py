"""The public chest X-ray sets `aecrypt fetch` downloads: where their publishers put them and the checksums
they publish. Data, copied from the publishers (MedMNIST's `medmnist/info.py`, NIH's
`batch_download_zips.py`); no code here touches the network."""

from __future__ import annotations

from dataclasses import dataclass

from aecrypt import UsageError
from aecrypt.data import nih_release

#: MedMNIST v2/v3 (MedMNIST+) on Zenodo; file names below are appended to it.
MEDMNIST_RECORD = "https://zenodo.org/records/10519652/files/"
MEDMNIST_SIZES = (28, 64, 128, 224)
MEDMNIST_CITATION = "Yang et al., MedMNIST v2, Scientific Data 10, 41 (2023); CC BY 4.0"


@dataclass(frozen=True)
class MedmnistSet:
    name: str
    md5: dict[int, str]  # image side -> the MD5 MedMNIST publishes
    classes: str  # how its labels become negative / positive in aecrypt

    def file_name(self, size: int) -> str:
        return f"{self.name}.npz" if size == 28 else f"{self.name}_{size}.npz"

    def url(self, size: int) -> str:
        return f"{MEDMNIST_RECORD}{self.file_name(size)}?download=1"


#: The MedMNIST chest X-ray sets whose labels make two classes.
MEDMNIST = {
    s.name: s
    for s in (
        MedmnistSet(
            "pneumoniamnist",
            {
                28: "28209eda62fecd6e6a2d98b1501bb15f",
                64: "8f4eceb4ccffa70c672198ea285246c6",
                128: "05b46931834c231683c68f40c47b2971",
                224: "d6a3c71de1b945ea11211b03746c1fe1",
            },
            "binary: 0 normal → negative, 1 pneumonia → positive (5,856 paediatric X-rays, Kermany et al. 2018)",
        ),
        MedmnistSet(
            "chestmnist",
            {
                28: "02c8a6516a18b556561a56cbdd36c4a8",
                64: "9de6cd0b934ebb5b7426cfba5efbae16",
                128: "db107e5590b27930b62dbaf558aebee3",
                224: "45bd33e6f06c3e8cdb481c74a89152aa",
            },
            "14 findings, multi-label: none → negative, any → positive (the NIH rule; 112,120 ChestX-ray14 images)",
        ),
    )
}

#: Why the other MedMNIST sets are not offered, and how one would load anyway.
MEDMNIST_OTHERS = (
    "the other MedMNIST sets are not chest X-rays with two classes. A file of one loads with medmnist:FILE.npz, "
    "label 0 → negative and every other label → positive, which means something only where label 0 is the normal "
    "class (not in BreastMNIST, whose 0 is malignant)"
)

#: NIH ChestX-ray14: the twelve image archives of NIH's batch_download_zips.py, in order (images_001 ... 012).
NIH_PARTS = tuple(
    f"https://nihcc.box.com/shared/static/{key}.gz"
    for key in (
        "vfk49d74nhbxq3nqjg0900w5nvkorp5c",
        "i28rlmbvmfjbl8p2n3ril0pptcmcu9d1",
        "f1t00wrtdk94satdfb9olcolqx20z2jp",
        "0aowwzs5lhjrceb3qp67ahp0rd1l1etg",
        "v5e3goj22zr6h8tzualxfsqlqaygfbsn",
        "asi7ikud9jwnkrnkj99jnpfkjdes7l6l",
        "jn1b4mw4n6lnh74ovmcjb8y48h8xj07n",
        "tvpxmn7qyrgl0w8wfh9kqfjskv6nmm1j",
        "upyy3ml7qdumlgk2rfcvlb9k6gvqq2pj",
        "l6nilvfa9cg3s28tqv1qc1olm3gnz54p",
        "hhq8fkdgvcari67vfhs7ppg2w6ni4jze",
        "ioqwiy20ihqwyr8pf4c24eazhh281pbu",
    )
)
#: The release's page: the labels file (Data_Entry_2017*.csv) is there, with no direct link of its own.
NIH_PAGE = nih_release.NIH_PAGE
NIH_CITATION = "Wang et al., ChestX-ray8, CVPR 2017; provided by the NIH Clinical Center"


def nih_part_name(part: int) -> str:
    """The file name of one NIH ChestX-ray14 image archive, as NIH's batch_download_zips.py names it.

    Parameters
    ----------
    part : int
        The archive's number, 1 to 12 (`NIH_PARTS`, in order).

    Returns
    -------
    str
        `images_NNN.tar.gz`, the number zero-padded to three digits.

    Examples
    --------
    >>> nih_part_name(3)
    'images_003.tar.gz'
    """
    return f"images_{part:03d}.tar.gz"


def medmnist_set(name: str, size: int) -> MedmnistSet:
    """The named set, checked with its size; errors list what is valid.

    Parameters
    ----------
    name : str
        A key of `MEDMNIST` (`pneumoniamnist` or `chestmnist`), in any case.
    size : int
        The image side, one of `MEDMNIST_SIZES` (28, 64, 128, 224).

    Returns
    -------
    MedmnistSet
        The set: its name, its published MD5 per size and how its labels become two classes.

    Raises
    ------
    UsageError
        For a set not offered or a size MedMNIST does not publish.

    Examples
    --------
    >>> s = medmnist_set("PneumoniaMNIST", 64)
    >>> s.name, s.file_name(64), s.md5[64]
    ('pneumoniamnist', 'pneumoniamnist_64.npz', '8f4eceb4ccffa70c672198ea285246c6')
    """
    key = str(name).lower()
    if key not in MEDMNIST:
        raise UsageError(f"unknown MedMNIST set {name!r}; valid: {', '.join(MEDMNIST)} ({MEDMNIST_OTHERS})")
    if size not in MEDMNIST_SIZES:
        raise UsageError(f"MedMNIST has no size {size!r}; valid sizes: {', '.join(map(str, MEDMNIST_SIZES))}")
    return MEDMNIST[key]


def parse_parts(text: str) -> list[int]:
    """`--parts`: `1,2`, `1-3`, or `all` (the twelve archives, about 45 GB).

    Parameters
    ----------
    text : str
        Comma-separated archive numbers and ranges (`1,3-5`), or `all`, in any case; each number in 1..12.

    Returns
    -------
    list of int
        The archive numbers, sorted, each once.

    Raises
    ------
    UsageError
        For text that is not such a list, names no archive, or names a number outside 1..12.

    Examples
    --------
    >>> parse_parts("5,1-3,2")
    [1, 2, 3, 5]
    >>> len(parse_parts("all"))
    12
    """
    n = len(NIH_PARTS)
    valid = f"numbers 1..{n} as a list (1,2), a range (1-3) or 'all'"
    text = str(text).strip().lower()
    if text == "all":
        return list(range(1, n + 1))
    parts: list[int] = []
    try:
        for item in filter(None, (t.strip() for t in text.split(","))):
            low, _, high = item.partition("-")
            parts += range(int(low), int(high or low) + 1)
    except ValueError:
        raise UsageError(f"--parts {text!r}: give {valid}") from None
    if not parts or any(not 1 <= p <= n for p in parts):
        raise UsageError(f"--parts {text!r}: give {valid}")
    return sorted(set(parts))
