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


def split_by_counts(ds: Dataset, counts: dict[str, int], seed: int) -> dict[str, np.ndarray]:
    """Train / val / test of exactly the given sizes, stratified and seeded. For sources with one image
    per patient (the phantoms): with repeated patients, use `split_indices`."""
    if len(np.unique(ds.groups)) != len(ds):
        raise UsageError(f"{ds.spec}: split sizes need one image per patient; this source has repeats")
    if sum(counts.values()) != len(ds):
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
