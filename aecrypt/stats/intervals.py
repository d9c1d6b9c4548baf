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
    """Mean of independent values (e.g. one metric over training seeds) with its Student-t interval, clipped
    to `bounds` where the metric has a range (a t-interval over three values of 0 and 1 would leave it).
    Missing values (NaN) are left out of n."""
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


def _midranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, method="average", axis=-1)


def delong_components(labels, scores) -> tuple:
    """ROC-AUC and DeLong's structural components (DeLong, DeLong & Clarke-Pearson, Biometrics 44:837-845,
    1988): one value per positive (V10) and per negative (V01), whose means are the AUC; by the midrank
    algorithm of Sun & Xu (IEEE Signal Processing Letters 21:1389-1393, 2014). No kept library (scikit-learn,
    scipy, statsmodels) provides them. `scores` may be a matrix, one row per classifier of the same images:
    then the AUCs and components come per row."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[..., y], s[..., ~y]
    m, n = pos.shape[-1], neg.shape[-1]
    if m < 2 or n < 2:
        raise UsageError(f"DeLong's variance needs at least two positives and two negatives, got {m} and {n}")
    tx, ty, tz = _midranks(pos), _midranks(neg), _midranks(np.concatenate([pos, neg], axis=-1))
    auc = (tz[..., :m].sum(axis=-1) - m * (m + 1) / 2) / (m * n)
    v10 = (tz[..., :m] - tx) / n  # structural components of the positives
    v01 = 1 - (tz[..., m:] - ty) / m  # and of the negatives
    return (float(auc) if s.ndim == 1 else auc), v10, v01


def delong_auc(labels, scores) -> tuple[float, float]:
    """ROC-AUC and its DeLong variance (`delong_components`)."""
    auc, v10, v01 = delong_components(labels, scores)
    return auc, float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


def auc_interval(labels, scores, confidence: float = 0.95) -> Interval:
    """ROC-AUC with DeLong's normal interval on the test images, clipped to [0, 1]: how much the AUC would
    move on another test split of the same size."""
    auc, var = delong_auc(labels, scores)
    z = norm.ppf(0.5 + confidence / 2)
    half = z * math.sqrt(var)
    y = np.asarray(labels)
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half), int(len(y)))


def quantile_bound(values, q: float, side: str, confidence: float = 0.95) -> float:
    """A one-sided, distribution-free bound on the q-quantile of whatever distribution the values are drawn
    from (independently): the order statistic x_(k) with P(x_(k) ≥ ξ_q) ≥ `confidence` (side "upper") or
    P(x_(k) ≤ ξ_q) ≥ `confidence` (side "lower"), from the binomial count of values below ξ_q. NaN where there
    are too few values: an upper bound on the 99th percentile at 95 % needs at least 299 of them."""
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
    """The q-quantile with a two-sided distribution-free interval (each side at (1 + confidence) / 2)."""
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
    """The least-squares slope of y on x with its t-interval (scipy's linregress), for a trend over a stream."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3:
        return Interval(math.nan, math.nan, math.nan, len(x))
    fit = stats.linregress(x, y)
    half = stats.t.ppf((1 + confidence) / 2, len(x) - 2) * fit.stderr
    return Interval(float(fit.slope), float(fit.slope - half), float(fit.slope + half), len(x))
