"""Statistics behind the book's comparisons: how many test images a paired comparison of two combinations'
ROC-AUCs needs (the `default` profile's test split is sized with it); intervals over training seeds
(Student t); and an AUC's interval over test images (DeLong). The claim tests built on them are in
`aecrypt.verdicts`.

The variance of one AUC is Hanley & McNeil's (Radiology 143:29-36, 1982); two classifiers scored on the
same test images give correlated AUCs, so the variance of their difference is
Var₁ + Var₂ − 2·r·√(Var₁·Var₂) (Hanley & McNeil, Radiology 148:839-843, 1983).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import norm

from . import AecryptError

#: Assumed correlation of two combinations' AUCs on the same test images. Hanley & McNeil (1983)
#: tabulate 0.3-0.7 for two readings of the same cases; 0.5 is the middle of that range.
PAIRED_AUC_CORRELATION = 0.5


def auc_variance(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley-McNeil variance of an empirical ROC-AUC."""
    if not 0.5 <= auc < 1:
        raise AecryptError(f"auc must be in [0.5, 1), got {auc}")
    if n_positive < 1 or n_negative < 1:
        raise AecryptError(f"need at least one positive and one negative, got {n_positive} and {n_negative}")
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    a2 = auc**2
    return (auc * (1 - auc) + (n_positive - 1) * (q1 - a2) + (n_negative - 1) * (q2 - a2)) / (n_positive * n_negative)


def paired_auc_power(
    n_test: int,
    auc: float = 0.85,
    difference: float = 0.05,
    alpha: float = 0.05,
    positive_share: float = 3200 / 9000,
    correlation: float = PAIRED_AUC_CORRELATION,
) -> float:
    """Power of a two-sided z test for AUC₁ − AUC₂ = `difference` on `n_test` shared test images."""
    n_pos = max(1, round(n_test * positive_share))
    n_neg = max(1, n_test - n_pos)
    v1 = auc_variance(auc, n_pos, n_neg)
    v2 = auc_variance(min(auc + difference, 0.999), n_pos, n_neg)
    sd = math.sqrt(v1 + v2 - 2 * correlation * math.sqrt(v1 * v2))
    z = norm.ppf(1 - alpha / 2)
    return float(norm.cdf(abs(difference) / sd - z) + norm.cdf(-abs(difference) / sd - z))


def paired_auc_test_size(power: float = 0.8, **kwargs) -> int:
    """Smallest test split whose `paired_auc_power` reaches `power` (keywords as there)."""
    if not 0 < power < 1:
        raise AecryptError(f"power must be in (0, 1), got {power}")
    lo, hi = 2, 2
    while paired_auc_power(hi, **kwargs) < power:
        lo, hi = hi, hi * 2
        if hi > 10**7:
            raise AecryptError("no test split under 10 million images reaches that power")
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if paired_auc_power(mid, **kwargs) < power else (lo, mid)
    return hi


# --- intervals -------------------------------------------------------------------------------------------


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
    return stats.rankdata(x, method="average")


def delong_auc(labels, scores) -> tuple[float, float]:
    """ROC-AUC and its DeLong variance (DeLong, DeLong & Clarke-Pearson, Biometrics 44:837-845, 1988), by the
    midrank algorithm of Sun & Xu (IEEE Signal Processing Letters 21:1389-1393, 2014). No kept library
    (scikit-learn, scipy, statsmodels) provides it."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise AecryptError(f"DeLong's variance needs at least two positives and two negatives, got {m} and {n}")
    tx, ty, tz = _midranks(pos), _midranks(neg), _midranks(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n  # structural components of the positives
    v01 = 1 - (tz[m:] - ty) / m  # and of the negatives
    return float(auc), float(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)


def auc_interval(labels, scores, confidence: float = 0.95) -> Interval:
    """ROC-AUC with DeLong's normal interval on the test images, clipped to [0, 1]: how much the AUC would
    move on another test split of the same size."""
    auc, var = delong_auc(labels, scores)
    z = norm.ppf(0.5 + confidence / 2)
    half = z * math.sqrt(var)
    y = np.asarray(labels)
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half), int(len(y)))


# --- quantiles of latencies: distribution-free bounds from order statistics ----------------------------------


def quantile_bound(values, q: float, side: str, confidence: float = 0.95) -> float:
    """A one-sided, distribution-free bound on the q-quantile of whatever distribution the values are drawn
    from (independently): the order statistic x_(k) with P(x_(k) ≥ ξ_q) ≥ `confidence` (side "upper") or
    P(x_(k) ≤ ξ_q) ≥ `confidence` (side "lower"), from the binomial count of values below ξ_q. NaN where there
    are too few values: an upper bound on the 99th percentile at 95 % needs at least 299 of them."""
    if side not in ("upper", "lower"):
        raise AecryptError(f"side={side!r}; valid: 'upper', 'lower'")
    if not 0 < q < 1 or not 0 < confidence < 1:
        raise AecryptError(f"q and confidence must be in (0, 1), got {q}, {confidence}")
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
