"""Train / validation / test splits: stratified, seeded, and patient-wise (no patient on two sides)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from aecrypt import UsageError
from aecrypt.data.dataset import Dataset


def split_indices(ds: Dataset, test_fraction: float, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Train / val / test indices: the source's own split if it has one, else stratified and
    patient-wise (no patient in two parts), seeded.

    Parameters
    ----------
    ds : Dataset
        The images, with labels and patient groups; `ds.splits` ("train", "val", "test" per image) is used
        where it holds at least train and test.
    test_fraction : float
        The test part's share of all images, in (0, 1); it is held out as one of about 1 / `test_fraction`
        stratified group folds, so the share is approximate. Unused where the source has its own split.
    val_fraction : float
        The validation part's share of all images, in (0, 1 - `test_fraction`); where the source has its own
        split but no validation images, their share of its training part instead.
    seed : int
        Seeds the test fold (`seed`) and the validation fold (`seed` + 1).

    Returns
    -------
    dict of str to ndarray
        Indices into `ds` under "train", "val" and "test", sorted within each part.

    Raises
    ------
    UsageError
        Where a class or the patients are too few for the folds (fewer than 1 / fraction of each).

    Examples
    --------
    >>> from aecrypt.data.dataset import Dataset
    >>> ds = Dataset(np.zeros((20, 2, 2), np.float32), np.array([0, 1] * 10),
    ...              np.array([f"p{i}" for i in range(20)]), "demo", 2)
    >>> parts = split_indices(ds, test_fraction=0.2, val_fraction=0.2, seed=0)
    >>> {part: len(index) for part, index in parts.items()}
    {'train': 12, 'val': 4, 'test': 4}
    >>> ds.labels[parts["test"]].tolist()
    [0, 1, 0, 1]
    """
    idx = np.arange(len(ds))
    if ds.splits is not None and set(np.unique(ds.splits)) >= {"train", "test"}:
        parts = {s: idx[ds.splits == s] for s in ("train", "val", "test")}
        if len(parts["val"]) == 0:
            parts["train"], parts["val"] = _grouped_split(ds, parts["train"], val_fraction, seed)
        return parts
    rest, test = _grouped_split(ds, idx, test_fraction, seed)
    train, val = _grouped_split(ds, rest, val_fraction / (1 - test_fraction), seed + 1)
    return {"train": train, "val": val, "test": test}


def split_by_counts(ds: Dataset, counts: dict[str, int | None], seed: int) -> dict[str, np.ndarray]:
    """Train / val / test of exactly the given sizes (test None: every other image), stratified and seeded.
    For sources with one image per patient (the phantoms): with repeated patients, `split_patients_by_counts`.

    Parameters
    ----------
    ds : Dataset
        The images, one per patient (`ds.groups` all different).
    counts : dict of str to int or None
        Images under "train", "val" and "test"; a "test" of None takes every image the other two leave. The
        sizes must add up to `len(ds)`, with at least 2 test images.
    seed : int
        Seeds the test draw (`seed`) and the validation draw (`seed` + 1).

    Returns
    -------
    dict of str to ndarray
        Indices into `ds` under "train", "val" and "test", sorted within each part; each part keeps the
        class ratio as closely as its size allows.

    Raises
    ------
    UsageError
        Where a patient has two images, or the sizes do not add up to the images there are.

    Examples
    --------
    >>> from aecrypt.data.dataset import Dataset
    >>> ds = Dataset(np.zeros((20, 2, 2), np.float32), np.array([0, 1] * 10),
    ...              np.array([f"p{i}" for i in range(20)]), "demo", 2)
    >>> parts = split_by_counts(ds, {"train": 12, "val": 4, "test": None}, seed=0)
    >>> {part: len(index) for part, index in parts.items()}
    {'train': 12, 'val': 4, 'test': 4}
    >>> ds.labels[parts["test"]].tolist()
    [0, 1, 0, 1]
    """
    if len(np.unique(ds.groups)) != len(ds):
        raise UsageError(f"{ds.spec}: split sizes need one image per patient; this source has repeats")
    if counts["test"] is None:
        counts = counts | {"test": len(ds) - counts["train"] - counts["val"]}
    if sum(counts.values()) != len(ds) or counts["test"] < 2:
        raise UsageError(f"split sizes {counts} add up to {sum(counts.values())}, but {ds.spec} has {len(ds)} images")
    idx = np.arange(len(ds))
    rest, test = next(StratifiedShuffleSplit(1, test_size=counts["test"], random_state=seed).split(idx, ds.labels))
    keep, val = next(
        StratifiedShuffleSplit(1, test_size=counts["val"], random_state=seed + 1).split(rest, ds.labels[rest])
    )
    return {"train": np.sort(rest[keep]), "val": np.sort(rest[val]), "test": np.sort(test)}


def _grouped_split(ds: Dataset, idx: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n_splits = max(2, round(1 / fraction))
    labels, groups = ds.labels[idx], ds.groups[idx]
    per_class = np.bincount(labels, minlength=2)
    if per_class.min() < n_splits or len(np.unique(groups)) < n_splits:
        raise UsageError(
            f"too few images to split ({per_class[0]} negative, {per_class[1]} positive, "
            f"{len(np.unique(groups))} patients): need at least {n_splits} of each; use more images"
        )
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    keep, held = next(folds.split(idx, labels, groups))
    return idx[keep], idx[held]


def split_patients_by_counts(ds: Dataset, counts: dict[str, int | None], seed: int) -> dict[str, np.ndarray]:
    """Train and validation of exactly counts["train"] and counts["val"] images, and a test split of every
    other image: patient-wise (no patient in two parts), seeded, and stratified by each patient's majority
    class. Patients are dealt to train, then to validation, each next one from the class whose share of the
    part is below the whole set's; where the last patient dealt brings more images than the part needs, its
    extra images are left out of every part (moving them would put one patient in two parts).

    Parameters
    ----------
    ds : Dataset
        The images, with labels and patient ids (`ds.groups`).
    counts : dict of str to int or None
        Images under "train" and "val"; "test", if given, must be None (the test split is what is left).
    seed : int
        Seeds the order in which each class's patients are dealt.

    Returns
    -------
    dict of str to ndarray
        Indices into `ds` under "train", "val" and "test", sorted within each part; no patient is in two
        parts, and a patient's images left over by a full part are in none.

    Raises
    ------
    UsageError
        Where "test" is given a size, the patients run out before train and val are full, or the test split
        left holds one class only.

    Examples
    --------
    Ten patients of two images each, half of them positive:

    >>> from aecrypt.data.dataset import Dataset
    >>> groups = np.repeat([f"p{i}" for i in range(10)], 2)
    >>> ds = Dataset(np.zeros((20, 2, 2), np.float32), np.repeat([0, 1] * 5, 2), groups, "demo", 2)
    >>> parts = split_patients_by_counts(ds, {"train": 10, "val": 4}, seed=0)
    >>> {part: len(index) for part, index in parts.items()}
    {'train': 10, 'val': 4, 'test': 6}
    >>> [sorted(set(groups[index].tolist())) for index in parts.values()]
    [['p0', 'p1', 'p2', 'p6', 'p7'], ['p5', 'p8'], ['p3', 'p4', 'p9']]
    """
    if counts.get("test") is not None:
        raise UsageError(f"{ds.spec}: a patient-wise split takes train and val sizes; the test split is the rest")
    patients, index = np.unique(ds.groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    majority = np.array([ds.labels[index == i].mean() >= 0.5 for i in range(len(patients))])
    queues = {c: list(rng.permutation(np.flatnonzero(majority == c))) for c in (False, True)}
    target = ds.labels.mean()
    sizes = np.bincount(index)
    parts: dict[str, list[int]] = {}
    for part in ("train", "val"):
        n, chosen = counts[part], []
        while len(chosen) < n:
            room = n - len(chosen)
            positives_wanted = round(target * n) - int(ds.labels[chosen].sum())
            klass = positives_wanted * 2 > room  # the class this part is short of: True, positives
            if not queues[klass]:
                klass = not klass
            if not queues[klass]:
                raise UsageError(
                    f"{ds.spec} has {len(ds)} images: too few for {counts['train']} train and {counts['val']} val "
                    "images with a test split left over; use a smaller profile or more images"
                )
            queue = queues[klass]  # the next patient of that class who fits the room left, else the next one
            fits = next((k for k in range(len(queue) - 1, -1, -1) if sizes[queue[k]] <= room), len(queue) - 1)
            images = np.flatnonzero(index == queue.pop(fits))
            # the last patient may not fit whole: keep first the images of the class the part still needs
            images = sorted(images, key=lambda i: ds.labels[i] != (positives_wanted > 0))
            chosen += images[:room]
        parts[part] = chosen
    rest = [i for c in (False, True) for p in queues[c] for i in np.flatnonzero(index == p)]
    if len(np.unique(ds.labels[rest])) < 2:
        raise UsageError(f"{ds.spec}: the test split left after train and val holds one class only; use more images")
    parts["test"] = rest
    return {part: np.sort(np.asarray(chosen, dtype=int)) for part, chosen in parts.items()}
