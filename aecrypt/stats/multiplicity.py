"""Holm's step-down adjustment (Holm, Scand. J. Statist. 6:65-70, 1979): a family of tests at one level,
whatever their dependence. Written out because statsmodels' `multipletests`, which it equals (the tests
check it), calls gc.collect() on every call: about half a second in a process that has loaded TensorFlow."""

from __future__ import annotations

import numpy as np


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values.

    Parameters
    ----------
    p_values : iterable of float
        One family's p-values.

    Returns
    -------
    ndarray
        The adjusted p-values, in the order given: reject at level α where one is ≤ α.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(list(p_values), dtype=float)
    if p.size == 0:
        return p
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    out = np.empty_like(p)
    out[order] = adjusted
    return out
