"""Every comparison's uncertainty, in its two parts: what another test split would change, and what another
training seed would change.

All runs of a build share one test split, so a combination's error on it does not average out over seeds:
more seeds shrink only the seed part. The test part comes from each run's per-image scores (scores.csv: one
row per test image, by its key): for an AUC, DeLong's structural components (one per positive and per
negative image, whose means are the AUC); for a mean over images (MSE, MAE, accuracy), the per-image values;
for a log of a mean, their delta-method linearisation. A contrast of combinations' seed-averaged metrics
(Σ w_c · mean_s m_cs) gets the variance of the same contrast of those per-image values, over images — paired
wherever the runs scored the same images, independent where they did not. The seed part is each combination's
own spread over its training seeds, added as in Welch's test (a seed number trains a different model in every
combination: nothing is paired by seed). The two add; the degrees of freedom follow Satterthwaite.

A run's metric moves with its seed and with its own luck on the test images; the spread over seeds holds both.
So the test part counts only what the runs of a combination share on the test images (what every run shares,
and what one combination's runs share): each run's own image-level part, measured from how its per-image
values scatter about its combination's mean run, is taken out of it rather than counted twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import combinations
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats

from aecrypt import UsageError
from aecrypt.stats.findings import ALPHA
from aecrypt.stats.intervals import delong_components

#: What a contrast can be taken of: a run's metric, and how its per-image values make it.
METRICS = ("auc", "mse", "log_mse", "mae", "log_mae", "accuracy")
#: The seed variance enters the degrees of freedom at this lower chi-square quantile (its 90 % upper bound).
SEED_DF_QUANTILE = 0.10
_PER_IMAGE = {"mse": "se", "log_mse": "se", "mae": "ae", "log_mae": "ae"}


@dataclass
class Run:
    """One run: its combination, training seed, metrics, and (where saved) its test images' scores and errors
    (columns image, label, score, and for a combination se and ae)."""

    label: str
    seed: int
    values: dict[str, float]
    images: pd.DataFrame | None = None

    def value(self, metric: str) -> float:
        if metric.startswith("log_"):
            return math.log10(self.values[metric[4:]])
        return float(self.values[metric])


@dataclass(frozen=True)
class Estimate:
    """A contrast's estimate with its two variances; `df_seed` is NaN where no seed noise can be measured (one
    seed per combination), and then so are the interval and the p-values."""

    estimate: float
    var_test: float
    var_seed: float
    df_seed: float
    n_test: int

    @property
    def variance(self) -> float:
        return self.var_test + self.var_seed

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if np.isfinite(self.variance) else math.nan

    @cached_property
    def df(self) -> float:
        """Satterthwaite's degrees of freedom of the sum of the two variances, with the seed variance taken at
        its one-sided 90 % upper bound: from three seeds that variance is known to two degrees of freedom, and a
        small estimate by chance would otherwise give large degrees of freedom exactly where they are least
        warranted (the calibration measured p < 0.003 five times as often as it should)."""
        if not np.isfinite(self.var_seed):
            return math.nan
        df_test = max(self.n_test - 1, 1)
        bounded = self.var_seed > 0 and 0 < self.df_seed < math.inf
        seed = self.var_seed * self.df_seed / _chi2_low(self.df_seed) if bounded else self.var_seed
        denominator = self.var_test**2 / df_test + (seed**2 / self.df_seed if seed > 0 else 0.0)
        return (self.var_test + seed) ** 2 / denominator if denominator > 0 else math.inf

    @property
    def measured(self) -> bool:
        return np.isfinite(self.se) and self.se > 0

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        if not self.measured:
            return math.nan, math.nan
        half = special.stdtrit(self.df, 0.5 + confidence / 2) * self.se  # Student's t quantile, as stats.t.ppf
        return self.estimate - half, self.estimate + half

    def p_above(self, threshold: float = 0.0) -> float:
        """One-sided p-value for 'the contrast is above `threshold`'."""
        if not self.measured:
            return math.nan
        return float(special.stdtr(self.df, -(self.estimate - threshold) / self.se))

    def p_below(self, threshold: float = 0.0) -> float:
        """One-sided p-value for 'the contrast is below `threshold`'."""
        if not self.measured:
            return math.nan
        return float(special.stdtr(self.df, (self.estimate - threshold) / self.se))


@lru_cache(maxsize=256)
def _chi2_low(df: float) -> float:
    """chi2.ppf(SEED_DF_QUANTILE, df), by the special function it calls (without its per-call overhead:
    the calibration asks for it hundreds of thousands of times)."""
    return float(special.chdtri(df, 1 - SEED_DF_QUANTILE))


@dataclass
class Build:
    """The runs of a build (finished runs only), grouped by combination, with their per-image values aligned
    once: the object every claim test reads."""

    runs: list[Run]
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.labels = list(dict.fromkeys(r.label for r in self.runs))
        self.index = {label: [i for i, r in enumerate(self.runs) if r.label == label] for label in self.labels}

    def of(self, label: str) -> list[Run]:
        return [self.runs[i] for i in self.index.get(label, [])]

    def seeds(self, label: str) -> list[int]:
        return sorted(r.seed for r in self.of(label))

    def values(self, label: str, metric: str) -> np.ndarray:
        return np.array([r.value(metric) for r in self.of(label)])

    def mean(self, label: str, metric: str) -> float:
        return float(self.values(label, metric).mean())

    def has(self, metric: str) -> bool:
        """Whether every run has the metric (a baseline has no MSE)."""
        base = metric[4:] if metric.startswith("log_") else metric
        return bool(self.runs) and all(np.isfinite(r.values.get(base, np.nan)) for r in self.runs)

    # --- the test-split part ------------------------------------------------------------------------------

    @property
    def paired_images(self) -> bool:
        """True where every run saved the same test images (by key, with the same labels): their per-image
        values pair."""
        return self.aligned() is not None

    def aligned(self) -> dict[str, np.ndarray] | None:
        """Every run's per-image columns as runs × images matrices, the images in one key order (None where the
        runs did not all score the same images)."""
        if "aligned" in self._cache:
            return self._cache["aligned"]
        aligned = None
        if self.runs and all(r.images is not None for r in self.runs):
            orders = [np.argsort(r.images["image"].to_numpy(str), kind="stable") for r in self.runs]
            keys = [r.images["image"].to_numpy(str)[o] for r, o in zip(self.runs, orders, strict=True)]
            if all(len(k) == len(keys[0]) and (k == keys[0]).all() for k in keys):
                columns = [c for c in ("label", "score", "se", "ae") if all(c in r.images for r in self.runs)]
                aligned = {
                    c: np.array([r.images[c].to_numpy(float)[o] for r, o in zip(self.runs, orders, strict=True)])
                    for c in columns
                }
                if not (aligned["label"] == aligned["label"][0]).all():
                    aligned = None
        self._cache["aligned"] = aligned
        return aligned

    def _pseudo(self, metric: str) -> list[np.ndarray]:
        """Per group of images (AUC: positives, negatives; else all), a runs × images matrix of per-image values
        whose mean over images is each run's metric (or its linearisation), the images in one key order."""
        if metric not in self._cache:
            self._cache[metric] = _pseudo_values(self.aligned(), metric)
        return self._cache[metric]

    def _var_test_unpaired(self, coefficients: np.ndarray, metric: str) -> tuple[float, int]:
        """The test-split variance of Σ_r c_r m_r where the runs did not score the same images (`estimates` does
        the paired case for all contrasts at once), and the number of test images it rests on (0: none saved)."""
        if any(r.images is None for r, c in zip(self.runs, coefficients, strict=True) if c):
            return 0.0, 0
        total, n = 0.0, 0
        for i in np.flatnonzero(coefficients):  # different images: the runs' test errors are independent
            single = Build([self.runs[i]])._pseudo(metric)
            total += coefficients[i] ** 2 * sum(np.var(g[0], ddof=1) / g.shape[1] for g in single)
            n = max(n, len(self.runs[i].images))
        return total, n

    def _own(self, metric: str) -> np.ndarray:
        """Per run, the variance its own image-level part gives its metric: from the scatter of the per-image
        values of its combination's runs about their mean run (Σ_r Var_i(g_ri − ḡ_i) / (n (s − 1)), per group of
        images); 0 for a combination of one run, whose seed part is unknown and so holds nothing twice."""
        key = f"own {metric}"
        if key not in self._cache:
            own = np.zeros(len(self.runs))
            for index in self.index.values():
                if len(index) < 2:
                    continue
                total = 0.0
                for g in self._pseudo(metric):
                    rows = g[index]
                    total += np.var(rows - rows.mean(axis=0), axis=1, ddof=1).sum() / (g.shape[1] * (len(index) - 1))
                own[index] = total
            self._cache[key] = own
        return self._cache[key]

    # --- the seed part ------------------------------------------------------------------------------------

    def _seed_parts(
        self, weights: np.ndarray, values: np.ndarray, per_run: np.ndarray, size: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per contrast (a row of combination weights), the variance over training seeds of Σ w_c · mean_s m_cs,
        each combination with its own spread, and its Welch–Satterthwaite degrees of freedom; NaN where a
        combination in it ran one seed. Seeds are independent across combinations: the same seed number in
        another combination trains another model (`seed_correlation` measures what pairing by seed would share)."""
        means = np.bincount(per_run, values, len(size)) / size
        spread = np.bincount(per_run, (values - means[per_run]) ** 2, len(size)) / np.maximum(size - 1, 1)
        parts = weights**2 * spread / size
        used = weights != 0
        variance = parts.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            denominator = np.where(parts > 0, parts**2 / np.maximum(size - 1, 1), 0.0).sum(axis=1)
            df = np.where(denominator > 0, variance**2 / denominator, np.inf)
        single = (used & (size < 2)).any(axis=1)
        return np.where(single, np.nan, variance), np.where(single, np.nan, df)

    def seed_correlation(self, metric: str) -> float:
        """The mean correlation, over pairs of combinations that ran the same seeds, of their runs' deviations
        from their own means by seed: how much a training seed is shared across combinations (0: nothing)."""
        deviations = {}
        for label in self.labels:
            by_seed = {r.seed: r.value(metric) for r in self.of(label)}
            if len(by_seed) > 2:
                mean = np.mean(list(by_seed.values()))
                deviations[label] = {s: v - mean for s, v in by_seed.items()}
        correlations = []
        for a, b in combinations(list(deviations), 2):
            common = sorted(set(deviations[a]) & set(deviations[b]))
            x, y = (np.array([deviations[g][s] for s in common]) for g in (a, b))
            if len(common) > 2 and x.std() > 0 and y.std() > 0:
                correlations.append(float(np.corrcoef(x, y)[0, 1]))
        return float(np.mean(correlations)) if correlations else math.nan

    # --- contrasts -----------------------------------------------------------------------------------------

    def estimate(self, weights: dict[str, float], metric: str) -> Estimate:
        """Σ_c w_c · (the mean over c's seeds of `metric`), with its test-split and seed variances."""
        return self.estimates([weights], metric)[0]

    def estimates(self, contrasts: list[dict[str, float]], metric: str) -> list[Estimate]:
        """`estimate` for many contrasts at once: one matrix product per group of images (the claim tests ask for
        up to k(k − 1)/2 contrasts of one build, and the calibration for those of thousands of builds)."""
        if metric not in METRICS:
            raise UsageError(f"unknown metric {metric!r} for a contrast; valid: {', '.join(METRICS)}")
        if unknown := sorted({label for w in contrasts for label in w if label not in self.index}):
            raise UsageError(f"no finished run of {unknown}; combinations here: {', '.join(self.labels)}")
        column = {label: j for j, label in enumerate(self.labels)}
        weights = np.zeros((len(contrasts), len(self.labels)))
        for i, w in enumerate(contrasts):
            for label, x in w.items():
                weights[i, column[label]] += x
        per_run = np.array([column[r.label] for r in self.runs])
        size = np.array([len(self.index[label]) for label in self.labels], dtype=float)
        coefficients = weights[:, per_run] / size[per_run]
        values = np.array([r.value(metric) for r in self.runs])
        if self.paired_images:
            groups = self._pseudo(metric)
            var_test = sum(np.var(coefficients @ g, axis=1, ddof=1) / g.shape[1] for g in groups)
            var_test = np.maximum(var_test - coefficients**2 @ self._own(metric), 0.0)  # own part: in the seed part
            n_tests = [sum(g.shape[1] for g in groups)] * len(contrasts)
        else:
            var_test, n_tests = zip(*(self._var_test_unpaired(c, metric) for c in coefficients), strict=True)
        var_seed, df_seed = self._seed_parts(weights, values, per_run, size)
        return [
            Estimate(float(e), float(t), float(v), float(d), int(n))
            for e, t, v, d, n in zip(coefficients @ values, var_test, var_seed, df_seed, n_tests, strict=True)
        ]

    def difference(self, a: str, b: str, metric: str) -> Estimate:
        return self.estimate({a: 1.0, b: -1.0}, metric)

    # --- from a build's results -----------------------------------------------------------------------------

    def keep_pseudo(self, metric: str, groups: list[np.ndarray]) -> None:
        """Hold per-image values of `metric` already computed for the aligned runs (`_pseudo_values`' result)."""
        self._cache[metric] = groups

    def subset(self, keep: list[int]) -> Build:
        """The build of the runs at `keep` (indices into `runs`), their aligned per-image values sliced, not
        aligned again (a simulated build's runs carry no tables to align from)."""
        aligned = self._cache.get("aligned")
        if aligned is None:
            return Build([self.runs[i] for i in keep])
        out = Build.aligned_already([self.runs[i] for i in keep], {k: v[keep] for k, v in aligned.items()})
        for metric in METRICS:
            if metric in self._cache:
                out.keep_pseudo(metric, [g[keep] for g in self._cache[metric]])
        return out

    @classmethod
    def aligned_already(cls, runs: list[Run], aligned: dict[str, np.ndarray]) -> Build:
        """A build whose per-image values are already runs × images matrices in one image order (a
        simulation's), so that `aligned` need not sort them again."""
        build = cls(runs)
        build._cache["aligned"] = aligned
        return build

    @classmethod
    def from_results(cls, results) -> Build:
        """The finished combination runs of a `runs.results.Results`, with their scores.csv."""
        runs = []
        for row in results.ok.to_dict("records"):
            scores = results.scores(row["run_id"])
            runs.append(Run(row["label"], int(row["seed"]), row, scores if "image" in scores else None))
        return cls(runs)

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Build:
        """The finished runs of a results table alone (no per-image values: the seed part only)."""
        ok = table[table["status"] == "ok"]
        return cls([Run(r["label"], int(r["seed"]), r) for r in ok.to_dict("records")])


def _pseudo_values(aligned: dict[str, np.ndarray], metric: str) -> list[np.ndarray]:
    """Per-image values whose means over images are the runs' metrics (or their linearisation): DeLong's
    components for an AUC (positives, negatives), correctness for accuracy, squared or absolute errors for
    MSE or MAE, and for log10 of those their delta-method linearisation."""
    y = aligned["label"][0]
    if metric == "auc":
        _, v10, v01 = delong_components(y, aligned["score"])
        return [v10, v01]
    if metric == "accuracy":
        return [((aligned["score"] >= 0.5) == (y == 1)).astype(float)]
    x = aligned[_PER_IMAGE[metric]]
    if metric.startswith("log_"):
        x = x / (x.mean(axis=1, keepdims=True) * math.log(10))
    return [x]


#: The advice: what detects a difference of one margin with this power.
POWER = 0.8


class Advice(NamedTuple):
    """What would decide: the reasoning in full, and the scorecard's one line."""

    full: str
    short: str

    def fields(self) -> dict[str, str]:
        """As a Finding's `decide` and `decide_short`."""
        return {"decide": self.full, "decide_short": self.short}


def advice(est: Estimate, margin: float, tests: int, seeds: int, shown: str | None = None) -> Advice:
    """What would decide, from the comparison's variance components against the pre-set margin (never from the
    observed gap): the variance that detects a difference of one margin with 80 % power at α/tests, and whether
    seeds can reach it or only more test images can. `shown`: the margin as the reader knows it (1.25× for
    log10 1.25).

    Parameters
    ----------
    est : Estimate
        The comparison, with its test-split and seed variances.
    margin : float
        The claim's margin on the contrast's scale (0.03 AUC; log10 1.25 for MSE).
    tests : int
        Comparisons the claim makes: the level is α / tests (at least 1).
    seeds : int
        Seeds per combination now.
    shown : str, optional
        The margin as the text names it (None: `margin` itself).

    Returns
    -------
    Advice
        The reasoning in full and the scorecard's line: run 3 or more seeds where the seed noise is unknown;
        nothing more where the variance is already small enough; more test images where the test split's part
        alone is at least half the target (more seeds cannot shrink it); else how many seeds would do.

    Examples
    --------
    An `Estimate` is (estimate, var_test, var_seed, df_seed, n_test); a margin of 0.03 AUC:

    >>> advice(Estimate(0.01, 1e-5, 4e-4, 4.0, 1000), 0.03, tests=1, seeds=3).short
    'about 9 seeds per combination'
    >>> advice(Estimate(0.01, 4e-4, 1e-4, 4.0, 1000), 0.03, tests=1, seeds=3).short
    'about 5496 test images and 5 seeds'
    >>> advice(Estimate(0.01, 1e-5, 1e-5, 4.0, 1000), 0.03, tests=1, seeds=3).short
    'nothing more: the effect sits near the margin'
    >>> advice(Estimate(0.01, 1e-5, math.nan, math.nan, 1000), 0.03, tests=1, seeds=1).short
    '3 or more seeds'
    """
    shown = shown or f"{margin:.3g}"
    if not np.isfinite(est.var_seed):
        return Advice(
            "one run per combination measures no seed-to-seed noise: run at least 3 seeds (--seeds 3)",
            "3 or more seeds",
        )
    z = stats.norm.ppf(1 - ALPHA / max(1, tests)) + stats.norm.ppf(POWER)
    target = (margin / z) ** 2
    if est.variance <= target:
        return Advice(
            "the intervals are already as narrow as a difference of one margin needs; the effect sits near it",
            "nothing more: the effect sits near the margin",
        )
    if est.var_test >= target / 2 and est.n_test:
        images = math.ceil(est.n_test * est.var_test / (target / 2))
        more_seeds = max(seeds, math.ceil(seeds * est.var_seed / (target / 2)))
        return Advice(
            f"the test split's part alone (± {1.96 * math.sqrt(est.var_test):.3g}) is too wide for a margin of "
            f"{shown}, and more seeds cannot shrink it: about {images} test images and {more_seeds} seeds per "
            "combination would",
            f"about {images} test images and {more_seeds} seeds",
        )
    needed = math.ceil(seeds * est.var_seed / (target - est.var_test))
    return Advice(
        f"about {needed} seeds per combination would detect a difference of one margin ({shown}) with 80 % power",
        f"about {needed} seeds per combination",
    )
