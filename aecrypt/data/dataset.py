"""A data source loaded as arrays: float32 grayscale in [0, 1] at the requested size, with labels
(1 = positive finding) and patient groups for patient-wise splits; cached on disk by spec, size, count,
seed and the source files' stamp."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit

from aecrypt import UsageError, cachekeys, paths
from aecrypt.data import class_folders, dicom_files, embedded, medmnist_npz, nih_release, readers, synthetic
from aecrypt.data.specs import Spec, parse_spec

MIN_SIZE = 11  # the smallest image side a run accepts: the 11 × 11 window of SSIM as the literature computes it
CACHE_VERSION = 3  # bump when decoding changes, so cached arrays are rebuilt


@dataclass
class Dataset:
    images: np.ndarray  # (N, size, size) float32 in [0, 1]
    labels: np.ndarray  # (N,) int64, 1 = positive
    groups: np.ndarray  # (N,) patient ids (str); splits never put one patient on both sides
    spec: str
    size: int
    splits: np.ndarray | None = None  # predefined "train"/"val"/"test" per image, if the source has them
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (N,) str: which image each row is (a file name as released or as found, a phantom's number), so that the
    # per-image scores of two runs are paired only where they speak of the same images
    keys: np.ndarray | None = None

    def __post_init__(self):
        if self.keys is None:
            self.keys = np.array([f"image{i}" for i in range(len(self.labels))])

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def fingerprint(self) -> str:
        """Content hash of the arrays: a run id changes exactly when the data does."""
        h = hashlib.sha256()
        for arr in (self.images, self.labels, self.groups.astype(str)):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict:
        return {
            "spec": self.spec,
            "images": len(self),
            "size": self.size,
            "classes": {"negative": int((self.labels == 0).sum()), "positive": int((self.labels == 1).sum())},
            "patients": int(len(np.unique(self.groups))),
            "skipped": len(self.skipped),
            "notes": self.notes,
        }


def _subsample(ds: Dataset, n_images: int, seed: int) -> Dataset:
    """Stratified subsample (keeps the class ratio) when the source has more images than asked."""
    if n_images >= len(ds):
        return ds
    keep = next(StratifiedShuffleSplit(1, train_size=n_images, random_state=seed).split(ds.labels, ds.labels))[0]
    keep = np.sort(keep)
    pick = lambda a: None if a is None else a[keep]  # noqa: E731
    return Dataset(
        ds.images[keep],
        ds.labels[keep],
        ds.groups[keep],
        ds.spec,
        ds.size,
        pick(ds.splits),
        ds.skipped,
        ds.notes + [f"stratified subsample of {n_images} images"],
        ds.keys[keep],
    )


def _check_memory(n: int, size: int, what: str) -> None:
    """Refuse, before allocating, an array of images that would not fit in the memory available now."""
    import psutil

    need, free = n * size * size * 4, psutil.virtual_memory().available
    if need > free:
        raise UsageError(
            f"{n} images of {size}×{size} ({what}) need {need / 2**30:.1f} GiB as float32, but {free / 2**30:.1f} GiB "
            "is available; use fewer images (--n-images) or a smaller size (--size)"
        )


def _read(spec: Spec, size: int, n_images: int | None, seed: int, on_error: str) -> Dataset:
    if spec.kind == "synthetic":
        n = n_images or 900
        _check_memory(n, size, "phantoms")
        images, labels = synthetic.generate(n, size, seed)
        groups = np.array([f"phantom{i}" for i in range(n)])
        return Dataset(images, labels, groups, str(spec), size, keys=groups)
    if spec.kind == "nih-embedded":
        found = embedded.load()
        images = np.stack(
            [readers.fit_square(x.astype(np.float32) / 255, size, embedded.FILE.name) for x in found.images]
        )
        note = f"the embedded NIH ChestX-ray14 set ({embedded.IMAGES} images at {embedded.SIDE}×{embedded.SIDE})"
        return Dataset(images, found.labels, found.patients, str(spec), size, notes=[note], keys=found.files)
    if spec.kind == "medmnist":
        raw, labels, splits = medmnist_npz.read_medmnist(spec.path)
        if raw.ndim == 4:
            raw = raw.mean(axis=-1)
        scale = 255.0 if raw.max() > 1 else 1.0
        images = np.stack(
            [readers.fit_square(x.astype(np.float32) / scale, size, f"{spec.path}[{i}]") for i, x in enumerate(raw)]
        )
        groups = np.array([f"img{i}" for i in range(len(raw))])
        parts = {s: splits.count(s) for s in dict.fromkeys(splits)}
        note = "the file's own split: " + ", ".join(f"{s} {n}" for s, n in parts.items())
        keys = np.array([f"{s}/{i}" for i, s in enumerate(splits)])
        return Dataset(
            images, labels.astype(np.int64), groups, str(spec), size, np.array(splits), notes=[note], keys=keys
        )
    records = _records(spec)
    _check_memory(len(records.paths), size, str(spec))
    reader = dicom_files.read_dicom_image if spec.kind == "dicom" else readers.read_image
    images, keep, skipped = readers.decode_all(records.paths, size, reader, on_error)
    labels = np.asarray(records.labels, np.int64)[keep]
    readers.check_two_classes(labels.tolist(), f"{spec} after skipping unreadable images")
    splits = None if records.splits is None else np.asarray(records.splits)[keep]
    keys = np.array([_relative(path, spec.path) for path in records.paths])[keep]
    groups = np.asarray(records.groups, str)[keep]
    return Dataset(images, labels, groups, str(spec), size, splits, skipped, records.notes, keys)


def _relative(path: Path, root: Path) -> str:
    """An image's key: its path inside the source's folder."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def _records(spec: Spec) -> readers.Records:
    """The image files of a folder, NIH or DICOM source, with labels, groups and splits."""
    if spec.kind == "nih":
        return nih_release.read_nih(spec.path, spec.options.get("finding"))
    if spec.kind == "folder":
        names = {
            k: [n for n in spec.options[k].split(",") if n.strip()]
            for k in ("negative", "positive")
            if k in spec.options
        }
        return class_folders.read_folder(spec.path, names.get("negative"), names.get("positive"))
    return dicom_files.read_dicom(spec.path)


def smallest_side(spec: str) -> tuple[int, str] | None:
    """The shortest image side behind a spec and a file that has it, from headers only (no decoding);
    None for the phantoms, which are drawn at any size.

    Parameters
    ----------
    spec : str
        A data spec (`data.specs.parse_spec`): synthetic, nih-embedded, nih:DIR, folder:DIR, dicom:DIR or
        medmnist:FILE.

    Returns
    -------
    (int, str) or None
        The smallest side in pixels and where it was found (a file, or the embedded set); None for the
        phantoms, or when no image header could be read (decoding then names the files).

    Examples
    --------
    >>> smallest_side("synthetic") is None
    True
    >>> smallest_side("nih-embedded")
    (64, 'the embedded set nih-cxr-2k-64.npz')
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name, shape in (("NORMAL/n1.png", (40, 30)), ("PNEUMONIA/p1.png", (50, 48))):
    ...         (Path(tmp) / name).parent.mkdir()
    ...         Image.new("L", shape).save(Path(tmp) / name)
    ...     side, where = smallest_side(f"folder:{tmp}")
    >>> side, Path(where).name
    (30, 'n1.png')
    """
    parsed = parse_spec(spec)
    if parsed.kind == "synthetic":
        return None
    if parsed.kind == "nih-embedded":
        return embedded.SIDE, f"the embedded set {embedded.FILE.name}"
    if parsed.kind == "medmnist":
        return medmnist_npz.medmnist_side(parsed.path), str(parsed.path)
    sides = [(side, str(p)) for p in _records(parsed).paths if (side := readers.image_side(p)) is not None]
    return min(sides) if sides else None


def fit_size(profile_size: int, spec: str) -> tuple[int, str]:
    """The image size a build runs at, and a note when it is not the profile's: images smaller than the
    profile's size run at the largest size they all allow, for every combination of the build (one size,
    so depth comparisons stay fair; depths that size cannot hold are skipped by the sweep).

    Parameters
    ----------
    profile_size : int
        The profile's image side in pixels.
    spec : str
        The data spec, as `smallest_side` takes it.

    Returns
    -------
    size : int
        `profile_size`, or the source's smallest side where that is smaller.
    note : str
        Empty at the profile's size; else which images forced the smaller size.

    Raises
    ------
    UsageError
        Where the smallest image is under `MIN_SIZE` (11) pixels on a side.

    Examples
    --------
    >>> fit_size(64, "synthetic")
    (64, '')
    >>> size, note = fit_size(128, "nih-embedded")
    >>> size
    64
    >>> print(note)
    images as small as 64×64 (the embedded set nih-cxr-2k-64.npz), smaller than the profile's 128×128:
    every run of this build is at 64×64
    """
    found = smallest_side(spec)
    if found is None or found[0] >= profile_size:
        return profile_size, ""
    side, where = found
    if side < MIN_SIZE:
        raise UsageError(
            f"{where} is {side} pixels on its shorter side; aecrypt needs images of at least {MIN_SIZE}×{MIN_SIZE}"
        )
    return side, (
        f"images as small as {side}×{side} ({where}), smaller than the profile's {profile_size}×{profile_size}: "
        f"every run of this build is at {side}×{side}"
    )


def _source_stamp(spec: Spec) -> str:
    """Cheap identity of the files behind a spec (names, sizes, mtimes) for the array cache key."""
    if spec.kind == "nih-embedded":
        return embedded.SHA256
    if spec.path is None:
        return ""
    if spec.path.is_file():
        files = [spec.path]
    elif spec.path.is_dir():
        files = sorted(p for p in spec.path.rglob("*") if p.is_file())
    else:
        return "missing"
    return cachekeys.key([[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files])


def load_dataset(
    spec: str, size: int, n_images: int | None = None, seed: int = 0, on_error: str = "skip", cache: bool = True
) -> Dataset:
    """Load a data source at size × size; `n_images` caps it (stratified). Cached on disk by
    spec + size + count + seed + the source files' stamp.

    Parameters
    ----------
    spec : str
        A data spec (`data.specs.parse_spec`), e.g. "synthetic", "nih-embedded" or "folder:/data/xrays".
    size : int
        The side every image is centre-cropped and area-resized to, at least `MIN_SIZE` (11).
    n_images : int or None, optional
        At least 2: for the phantoms, how many are drawn; for other sources, a stratified subsample (class
        ratio kept) when the source holds more. None: every image (900 phantoms).
    seed : int, optional
        At least 0: the phantoms' generator, else the subsample's draw.
    on_error : {"skip", "raise"}, optional
        For an image that cannot be decoded: "skip" leaves it out, warns (`readers.UnreadableImageWarning`)
        and lists it in `Dataset.skipped`; "raise" stops with a UsageError.
    cache : bool, optional
        Read and write the arrays in `paths.data_cache()` (AECRYPT_CACHE overrides where). Phantoms are
        never cached: drawing them is faster than reading them back.

    Returns
    -------
    Dataset
        float32 images in [0, 1], labels (1 = positive), patient groups, keys naming each image, the
        source's own splits if it has them, and notes on how it was read.

    Raises
    ------
    UsageError
        For an invalid argument or spec, a source that cannot be read, or one class only.

    Examples
    --------
    >>> ds = load_dataset("nih-embedded", 32, n_images=100, cache=False)
    >>> ds.images.shape, ds.images.dtype
    ((100, 32, 32), dtype('float32'))
    >>> ds.summary()["classes"], ds.summary()["patients"]
    ({'negative': 52, 'positive': 48}, 80)
    >>> ds.notes[-1]
    'stratified subsample of 100 images'
    >>> load_dataset("synthetic", 16, n_images=4).keys.tolist()
    ['phantom0', 'phantom1', 'phantom2', 'phantom3']
    """
    if on_error not in ("skip", "raise"):
        raise UsageError(f"on_error={on_error!r}; valid: 'skip' (warn and count) or 'raise'")
    if not isinstance(size, int) or size < MIN_SIZE:
        raise UsageError(f"size must be a whole number ≥ {MIN_SIZE}, got {size!r}")
    if n_images is not None and (not isinstance(n_images, int) or n_images < 2):
        raise UsageError(f"the number of images must be a whole number ≥ 2 (or none: every image), got {n_images!r}")
    if not isinstance(seed, int) or seed < 0:
        raise UsageError(f"the data seed must be a whole number ≥ 0, got {seed!r}")
    parsed = parse_spec(spec)
    key = cachekeys.key([CACHE_VERSION, str(parsed), size, n_images, seed, _source_stamp(parsed)], length=24)
    cached = paths.data_cache() / f"{key}.npz"
    if cache and parsed.kind != "synthetic" and cached.is_file():
        with np.load(cached, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return Dataset(
                z["images"],
                z["labels"],
                z["groups"],
                meta["spec"],
                size,
                z["splits"] if "splits" in z else None,
                meta["skipped"],
                meta["notes"],
                z["keys"],
            )
    ds = _read(parsed, size, n_images, seed, on_error)
    if parsed.kind != "synthetic" and n_images:
        ds = _subsample(ds, n_images, seed)
    if cache and parsed.kind != "synthetic":  # phantoms are faster to regenerate than to read back
        cached.parent.mkdir(parents=True, exist_ok=True)
        extra = {} if ds.splits is None else {"splits": ds.splits.astype(str)}
        tmp = cached.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            images=ds.images,
            labels=ds.labels,
            groups=ds.groups.astype(str),
            keys=ds.keys.astype(str),
            meta=json.dumps({"spec": ds.spec, "skipped": ds.skipped, "notes": ds.notes}),
            **extra,
        )
        tmp.replace(cached)
    return ds
