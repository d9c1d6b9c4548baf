"""One linear model for comparisons between groups of runs: metric ~ group + blocks (statsmodels OLS),
contrasts with the pooled residual variance, the F test of the group term; and Holm's adjustment."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def _ols(y: np.ndarray, x: np.ndarray):
    """statsmodels OLS, imported here: loading statsmodels takes about a second, which every book page that
    imports the claim tests would pay otherwise."""
    import statsmodels.api as sm

    return sm.OLS(y, x).fit()


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (Holm, Scand. J. Statist. 6:65-70, 1979), equal to statsmodels'
    `multipletests(method="holm")` (the tests check it). Written out because that function calls
    gc.collect() on every call, which takes about half a second in a process that has loaded TensorFlow."""
    p = np.asarray(list(p_values), dtype=float)
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    out = np.empty_like(p)
    out[order] = adjusted
    return out


@dataclass(frozen=True)
class Contrast:
    """A linear combination of group means from the fitted model: estimate, standard error, residual df."""

    estimate: float
    se: float
    df: float

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        t = stats.t.ppf(0.5 + confidence / 2, self.df)
        return self.estimate - t * self.se, self.estimate + t * self.se

    def p_greater(self) -> float:
        """One-sided p-value for 'the contrast is above 0'."""
        return float(stats.t.sf(self.estimate / self.se, self.df)) if self.se > 0 else float(self.estimate <= 0)


class GroupModel:
    """y ~ group + seed, fitted by OLS: group means adjusted for seed, and contrasts between groups with
    the pooled residual variance. `noise` is False where the table cannot estimate the seed-to-seed noise
    (one seed, or one run per group)."""

    def __init__(self, frame: pd.DataFrame, y: str, group: str = "label", blocks: tuple[str, ...] = ("seed",)):
        self.groups = list(dict.fromkeys(frame[group]))
        design = [pd.Series(1.0, index=frame.index, name="const")]
        for col, levels in [(group, self.groups)] + [(b, sorted(frame[b].unique())) for b in blocks]:
            for level in levels[1:]:
                design.append((frame[col] == level).astype(float).rename(f"{col}={level}"))
        x = pd.concat(design, axis=1)
        with warnings.catch_warnings():  # a rank-deficient design is handled per contrast (estimability)
            warnings.simplefilter("ignore")
            self.fit = _ols(frame[y].to_numpy(float), x.to_numpy(float))
        self.columns = list(x.columns)
        exog = self.fit.model.exog
        self._row_space = np.linalg.pinv(exog) @ exog  # projection: a contrast is estimable iff it is fixed by it
        self.group = group
        self.df = float(self.fit.df_resid)
        self.noise = self.df >= 1 and self.fit.scale > 0
        self._cov = self.fit.cov_params() if self.noise else None
        self.n = frame.groupby(group, sort=False).size().reindex(self.groups).to_dict()
        self.means = frame.groupby(group, sort=False)[y].mean().reindex(self.groups)

    def _vector(self, weights: dict) -> np.ndarray:
        v = np.zeros(len(self.columns))
        for g, w in weights.items():
            name = f"{self.group}={g}"
            if name in self.columns:  # the first group is the reference level: its effect is 0
                v[self.columns.index(name)] += w
        return v

    def contrast(self, weights: dict) -> Contrast:
        """Σ w_g·effect_g for weights that sum to 0 (differences of means); NaN where the design cannot
        separate it (e.g. a depth that ran only with one loss/optimizer that no other depth ran with)."""
        v = self._vector(weights)
        if not np.allclose(v @ self._row_space, v, atol=1e-8):  # not in the design's row space
            return Contrast(math.nan, math.nan, self.df)
        est = float(v @ self.fit.params)
        se = float(np.sqrt(v @ self._cov @ v)) if self.noise else math.nan
        return Contrast(est, se, self.df)

    def difference(self, a, b) -> Contrast:
        return self.contrast({a: 1.0, b: -1.0})

    def f_test(self) -> tuple[float, float, float]:
        """F statistic, p-value and η² of the group term (against the model with seeds only)."""
        return _group_f(self)


def _group_f(model: GroupModel) -> tuple[float, float, float]:
    exog = model.fit.model.exog
    keep = [i for i, c in enumerate(model.columns) if not c.startswith(f"{model.group}=")]
    reduced = _ols(model.fit.model.endog, exog[:, keep])
    f, p, _ = model.fit.compare_f_test(reduced)
    ss_total = float(np.sum((model.fit.model.endog - model.fit.model.endog.mean()) ** 2))
    eta = (reduced.ssr - model.fit.ssr) / ss_total if ss_total > 0 else math.nan
    return float(f), float(p), float(eta)
