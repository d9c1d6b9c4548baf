"""How many test images a paired comparison of two combinations' ROC-AUCs needs (the `default` profile's
test split is sized with it). The variance of one AUC is Hanley & McNeil's (Radiology 143:29-36, 1982); two
classifiers scored on the same test images give correlated AUCs, so the variance of their difference is
Var₁ + Var₂ − 2·r·√(Var₁·Var₂) (Hanley & McNeil, Radiology 148:839-843, 1983)."""

from __future__ import annotations

import math

from scipy.stats import norm

from aecrypt import UsageError

#: Assumed correlation of two combinations' AUCs on the same test images. Hanley & McNeil (1983)
#: tabulate 0.3-0.7 for two readings of the same cases; 0.5 is the middle of that range.
PAIRED_AUC_CORRELATION = 0.5


def auc_variance(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley-McNeil variance of an empirical ROC-AUC (Hanley & McNeil, Radiology 143:29-36, 1982).

    Parameters
    ----------
    auc : float
        The AUC, in [0.5, 1).
    n_positive, n_negative : int
        Positive and negative test images, at least one of each.

    Returns
    -------
    float
        The variance of the AUC over test splits of these sizes.

    Examples
    --------
    >>> round(auc_variance(0.85, 200, 200), 6)
    0.000377
    """
    if not 0.5 <= auc < 1:
        raise UsageError(f"auc must be in [0.5, 1), got {auc}")
    if n_positive < 1 or n_negative < 1:
        raise UsageError(f"need at least one positive and one negative, got {n_positive} and {n_negative}")
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
    """Power of a two-sided z test for AUC₁ − AUC₂ = `difference` on `n_test` shared test images.

    Parameters
    ----------
    n_test : int
        Test images, shared by the two classifiers.
    auc : float, optional
        The lower AUC.
    difference : float, optional
        The true difference the test should find.
    alpha : float, optional
        The test's two-sided level.
    positive_share : float, optional
        The share of positive images (the paper's 3200 of 9000 by default).
    correlation : float, optional
        Between the two AUCs on the same images (`PAIRED_AUC_CORRELATION`).

    Returns
    -------
    float
        The probability that the test rejects equality.

    Examples
    --------
    >>> round(paired_auc_power(400), 3)
    0.692
    """
    n_pos = max(1, round(n_test * positive_share))
    n_neg = max(1, n_test - n_pos)
    v1 = auc_variance(auc, n_pos, n_neg)
    v2 = auc_variance(min(auc + difference, 0.999), n_pos, n_neg)
    sd = math.sqrt(v1 + v2 - 2 * correlation * math.sqrt(v1 * v2))
    z = norm.ppf(1 - alpha / 2)
    return float(norm.cdf(abs(difference) / sd - z) + norm.cdf(-abs(difference) / sd - z))


def paired_auc_test_size(power: float = 0.8, **kwargs) -> int:
    """Smallest test split whose `paired_auc_power` reaches `power`.

    Parameters
    ----------
    power : float, optional
        The power to reach, in (0, 1).
    **kwargs
        `paired_auc_power`'s other parameters.

    Returns
    -------
    int
        The number of test images.

    Raises
    ------
    UsageError
        Where no split under 10 million images reaches it.

    Examples
    --------
    >>> paired_auc_test_size(0.8)
    517
    """
    if not 0 < power < 1:
        raise UsageError(f"power must be in (0, 1), got {power}")
    lo, hi = 2, 2
    while paired_auc_power(hi, **kwargs) < power:
        lo, hi = hi, hi * 2
        if hi > 10**7:
            raise UsageError("no test split under 10 million images reaches that power")
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if paired_auc_power(mid, **kwargs) < power else (lo, mid)
    return hi
