"""The randomness tests the image-encryption literature applies to a cipher, on 8-bit views of ciphertexts.

Formulas (the book's "Is it secure?" page cites them):
- histogram entropy H = −Σ p_i log₂ p_i over the 256 levels of an 8-bit view (ideal 8 bits);
- χ² of that histogram against the uniform one, 255 degrees of freedom (scipy.stats.chisquare);
- adjacent-element correlation: Pearson's r of horizontally adjacent values (ideal 0);
- NPCR = share of positions whose 8-bit value changes, UACI = mean |C₁ − C₂| / 255, for ciphertexts of two
  inputs that differ in one pixel; judged against the critical values of Wu, Noonan & Agaian, "NPCR and UACI
  randomness tests for image encryption", Cyber Journals JSAT (2011): with F = 255 and L values,
  N*_α = (F − Φ⁻¹(1−α)·√(F/L)) / (F + 1), and U*_α = μ ± Φ⁻¹(1−α/2)·σ with μ = (F + 2) / (3F + 3) and
  σ² = (F + 2)(F² + 2F + 3) / (18 (F + 1)² L F).

8-bit views: the paper's ciphertext E is float32; it is mapped to 0…255 by min–max over each image's E (the
same map for the two inputs of an NPCR pair, taken from the first). AES-GCM's ciphertext is bytes already."""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHAS = (0.05, 0.01, 0.001)


def to_uint8(values: np.ndarray, low: float | None = None, high: float | None = None) -> np.ndarray:
    v = np.asarray(values, np.float64)
    low = float(v.min()) if low is None else low
    high = float(v.max()) if high is None else high
    scaled = (v - low) / (high - low) if high > low else np.zeros_like(v)
    return np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)


def level_counts(views: np.ndarray) -> np.ndarray:
    """(n, 256): how often each 8-bit level occurs in each of the n views along the first axis (one bincount for
    all of them: a view's levels are offset by 256 × its index)."""
    v = np.asarray(views, np.uint8).reshape(len(views), -1).astype(np.int64)
    v += 256 * np.arange(len(v))[:, None]
    return np.bincount(v.ravel(), minlength=256 * len(v)).reshape(len(v), 256)


def entropies(views: np.ndarray) -> np.ndarray:
    """Each view's histogram entropy in bits (the first axis indexes the views)."""
    counts = level_counts(views)
    p = counts / counts.sum(axis=1, keepdims=True)
    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)


def chi_squares(views: np.ndarray) -> np.ndarray:
    """Each view's χ² against the uniform histogram (the first axis indexes the views)."""
    return stats.chisquare(level_counts(views), axis=1).statistic


def entropy(u8: np.ndarray) -> float:
    return float(entropies(np.asarray(u8).reshape(1, -1))[0])


def chi_square(u8: np.ndarray) -> float:
    return float(chi_squares(np.asarray(u8).reshape(1, -1))[0])


def chi_square_critical(alpha: float = 0.05) -> float:
    return float(stats.chi2.ppf(1 - alpha, 255))


def adjacent_correlation(rows: np.ndarray) -> float:
    """Pearson's r of horizontally adjacent values (last axis) of an (…, width) array."""
    a = np.asarray(rows, np.float64)
    x, y = a[..., :-1].ravel(), a[..., 1:].ravel()
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    # numpy's Pearson r: the same value as scipy.stats.pearsonr without its checks, a fifth of the audit's time
    return float(np.corrcoef(x, y)[0, 1])


def npcr_uaci(c1: np.ndarray, c2: np.ndarray) -> tuple[float, float]:
    """Per cent of positions that differ, and the mean absolute difference as a per cent of 255."""
    a, b = np.asarray(c1, np.int16), np.asarray(c2, np.int16)
    return float((a != b).mean() * 100), float(np.abs(a - b).mean() / 255 * 100)


def npcr_critical(n_values: int, alpha: float, levels: int = 256) -> float:
    f = levels - 1
    return float((f - stats.norm.ppf(1 - alpha) * np.sqrt(f / n_values)) / (f + 1) * 100)


def uaci_critical(n_values: int, alpha: float, levels: int = 256) -> tuple[float, float]:
    f = levels - 1
    mu = (f + 2) / (3 * f + 3)
    sigma = np.sqrt((f + 2) * (f**2 + 2 * f + 3) / (18 * (f + 1) ** 2 * n_values * f))
    z = stats.norm.ppf(1 - alpha / 2)
    return float((mu - z * sigma) * 100), float((mu + z * sigma) * 100)


def passes(runs: list[dict], cipher: str, alpha: float = 0.05) -> tuple[int, int]:
    """In how many audited runs a cipher ("paper" or "aes") passes NPCR and UACI at α, each run judged
    against the critical values for its own number of values L."""
    npcr = uaci = 0
    for r in runs:
        n = int(r["npcr_values"][cipher])
        low, high = uaci_critical(n, alpha)
        npcr += r[f"{cipher}_npcr"] > npcr_critical(n, alpha)
        uaci += low <= r[f"{cipher}_uaci"] <= high
    return npcr, uaci
