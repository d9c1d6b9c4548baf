"""Train / validation / test splits: stratified, seeded, and patient-wise (no patient on two sides)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from aecrypt import UsageError
from aecrypt.data.dataset import Dataset


def split_indices(ds: Dataset, test_fraction: float, val_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Train / val / test indices: the source's own split if it has one, else stratified and
    patient-wise (no patient in two parts), seeded."""
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
    For sources with one image per patient (the phantoms): with repeated patients, `split_patients_by_counts`."""
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
    extra images are left out of every part (moving them would put one patient in two parts)."""
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
