"""Intervals: a mean over independent values (Student t), a ROC-AUC over test images (DeLong), quantiles of
latencies (distribution-free bounds from order statistics) and a trend over a stream (least-squares slope)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import norm

from aecrypt import UsageError


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided interval; low and high are NaN where n is too small for one."""

    estimate: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return format(self, ".3g")

    def __format__(self, spec: str) -> str:
        spec = spec or ".3g"
        if math.isnan(self.low):
            return f"{self.estimate:{spec}} (n = {self.n}, no interval)"
        return f"{self.estimate:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


#: The range of every classification score (recall, precision, F1, AUC, accuracy): intervals are clipped to it.
SCORE_RANGE = (0.0, 1.0)


def t_interval(values, confidence: float = 0.95, bounds: tuple[float, float] | None = None) -> Interval:
    """Mean of independent values (e.g. one metric over training seeds) with its Student-t interval.

    Parameters
    ----------
    values : array_like
        The values; missing ones (NaN) are left out of n.
    confidence : float, optional
        The interval's two-sided confidence.
    bounds : (float, float), optional
        The metric's range, to which the interval is clipped (a t-interval over three values of 0 and 1 would
        leave it); `SCORE_RANGE` for classification scores.

    Returns
    -------
    Interval
        The mean and its interval; no interval (NaN) below two values, a zero-width one where all are equal.

    Examples
    --------
    >>> print(t_interval([0.61, 0.64, 0.60]))
    0.617 [0.565, 0.668]
    >>> print(t_interval([0.1, 0.95, 0.99], bounds=SCORE_RANGE))
    0.68 [0, 1]
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    sem = float(stats.sem(x))
    if sem == 0:  # identical values (e.g. a classifier that learned nothing): a zero-width interval
        return Interval(mean, mean, mean, n)
    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(mean, float(low), float(high), n)


def _below(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, for each positive how many negatives lie below it, and for each negative how many positives do,
    ties counted one half (Mann-Whitney's ψ summed). Each class is sorted once and queried in sorted order, so
    that every binary search starts where the last ended: fewer passes over memory than three midrankings."""
    orders = np.argsort(pos, axis=-1), np.argsort(neg, axis=-1)
    ranked = np.take_along_axis(pos, orders[0], axis=-1), np.take_along_axis(neg, orders[1], axis=-1)
    below = np.empty(pos.shape), np.empty(neg.shape)
    for row in range(len(pos)):
        for k, (queries, table) in enumerate(((ranked[0][row], ranked[1][row]), (ranked[1][row], ranked[0][row]))):
            halves = np.searchsorted(table, queries, "left") + np.searchsorted(table, queries, "right")
            below[k][row, orders[k][row]] = halves / 2
    return below


def delong_components(labels, scores) -> tuple:
    """ROC-AUC and DeLong's structural components (DeLong, DeLong & Clarke-Pearson, Biometrics 44:837-845,
    1988), counted as defined: a positive's component is the share of negatives scored below it, a negative's the
    share of positives scored above it, ties one half; the same numbers as the midrank algorithm of Sun & Xu
    (IEEE Signal Processing Letters 21:1389-1393, 2014). No kept library (scikit-learn, scipy, statsmodels)
    provides them.

    Parameters
    ----------
    labels : array_like of bool or {0, 1}, shape (n_images,)
        The true classes; at least two of each.
    scores : array_like, shape (n_images,) or (n_classifiers, n_images)
        Scores of one classifier, or one row per classifier of the same images.

    Returns
    -------
    auc : float or ndarray
        The AUC (one per row for a matrix).
    v10, v01 : ndarray
        One component per positive and per negative image, whose means are the AUC.

    Raises
    ------
    UsageError
        With fewer than two positives or two negatives.

    Examples
    --------
    >>> auc, v10, v01 = delong_components([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(auc, 4), v10.round(3).tolist(), v01.round(3).tolist()
    (0.8889, [0.667, 1.0, 1.0], [1.0, 0.667, 1.0])
    """
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[..., y], s[..., ~y]
    m, n = pos.shape[-1], neg.shape[-1]
    if m < 2 or n < 2:
        raise UsageError(f"DeLong's variance needs at least two positives and two negatives, got {m} and {n}")
    below_pos, below_neg = _below(pos.reshape(-1, m), neg.reshape(-1, n))
    below_pos, below_neg = below_pos.reshape(pos.shape), below_neg.reshape(neg.shape)
    auc = below_pos.sum(axis=-1) / (m * n)
    v10 = below_pos / n  # structural components of the positives
    v01 = 1 - below_neg / m  # and of the negatives
    return (float(auc) if s.ndim == 1 else auc), v10, v01


def delong_auc(labels, scores) -> tuple[float, float]:
    """ROC-AUC and its DeLong variance.

    Parameters
    ----------
    labels, scores : array_like, shape (n_images,)
        As in `delong_components`, for one classifier.

    Returns
    -------
    auc, variance : float
        The AUC and the variance of its estimate over test splits of this size.

    Examples
    --------
    >>> auc, var = delong_auc([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> round(auc, 4), round(var, 4)
    (0.8889, 0.0247)
    """
    auc, v10, v01 = delong_components(labels, scores)
    return auc, float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


def auc_interval(labels, scores, confidence: float = 0.95) -> Interval:
    """ROC-AUC with DeLong's normal interval on the test images, clipped to [0, 1]: how much the AUC would
    move on another test split of the same size.

    Parameters
    ----------
    labels, scores : array_like, shape (n_images,)
        As in `delong_components`, for one classifier.
    confidence : float, optional
        The interval's two-sided confidence.

    Returns
    -------
    Interval
        The AUC, its interval and the number of images.

    Examples
    --------
    >>> print(auc_interval([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]))
    0.889 [0.581, 1]
    """
    auc, var = delong_auc(labels, scores)
    z = norm.ppf(0.5 + confidence / 2)
    half = z * math.sqrt(var)
    y = np.asarray(labels)
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half), int(len(y)))


def quantile_bound(values, q: float, side: str, confidence: float = 0.95) -> float:
    """A one-sided, distribution-free bound on the q-quantile of whatever distribution the values are drawn
    from (independently): the order statistic x_(k) with P(x_(k) ≥ ξ_q) ≥ `confidence` (side "upper") or
    P(x_(k) ≤ ξ_q) ≥ `confidence` (side "lower"), from the binomial count of values below ξ_q.

    Parameters
    ----------
    values : array_like
        Independent draws (e.g. latencies).
    q : float
        The quantile, in (0, 1).
    side : {"upper", "lower"}
        Which bound.
    confidence : float, optional
        The bound's one-sided confidence.

    Returns
    -------
    float
        The bound, one of the values; NaN where there are too few values: an upper bound on the 99th
        percentile at 95 % needs at least 299 of them.

    Examples
    --------
    >>> quantile_bound(range(1, 301), 0.99, "upper")
    300.0
    >>> quantile_bound(range(1, 101), 0.99, "upper")
    nan
    """
    if side not in ("upper", "lower"):
        raise UsageError(f"side={side!r}; valid: 'upper', 'lower'")
    if not 0 < q < 1 or not 0 < confidence < 1:
        raise UsageError(f"q and confidence must be in (0, 1), got {q}, {confidence}")
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan
    if side == "upper":  # smallest k with P(B ≤ k − 1) ≥ confidence, B ~ Bin(n, q) the values below ξ_q
        k = int(stats.binom.ppf(confidence, n, q)) + 1
        return float(x[k - 1]) if k <= n else math.nan
    k = int(stats.binom.ppf(1 - confidence, n, q))  # largest k with P(B ≤ k − 1) ≤ 1 − confidence
    if k >= 1 and stats.binom.cdf(k - 1, n, q) > 1 - confidence:
        k -= 1
    return float(x[k - 1]) if k >= 1 else math.nan


def quantile_interval(values, q: float, confidence: float = 0.95) -> Interval:
    """The q-quantile with a two-sided distribution-free interval.

    Parameters
    ----------
    values : array_like
        Independent draws; NaN left out.
    q : float
        The quantile, in (0, 1).
    confidence : float, optional
        Two-sided: each side is a `quantile_bound` at (1 + confidence) / 2.

    Returns
    -------
    Interval
        The sample quantile and its interval (NaN where the values are too few for either side).

    Examples
    --------
    >>> print(quantile_interval(range(1, 101), 0.5))
    50.5 [40, 61]
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    one_sided = (1 + confidence) / 2
    low, high = quantile_bound(x, q, "lower", one_sided), quantile_bound(x, q, "upper", one_sided)
    if math.isnan(low) or math.isnan(high):
        low = high = math.nan
    return Interval(float(np.quantile(x, q)), low, high, len(x))


def slope_interval(x, y, confidence: float = 0.95) -> Interval:
    """The least-squares slope of y on x with its t-interval (scipy's linregress), for a trend over a stream.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        The points; at least three for an interval.
    confidence : float, optional
        The interval's two-sided confidence.

    Returns
    -------
    Interval
        The slope and its interval (NaN below three points).

    Examples
    --------
    >>> print(slope_interval([0, 1, 2, 3, 4], [0.0, 1.1, 1.9, 3.2, 3.9]))
    0.99 [0.84, 1.14]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        return Interval(math.nan, math.nan, math.nan, len(x))
    fit = stats.linregress(x, y)
    half = stats.t.ppf((1 + confidence) / 2, len(x) - 2) * fit.stderr
    return Interval(float(fit.slope), float(fit.slope - half), float(fit.slope + half), len(x))
