"""Simulated builds whose truth is known, for calibrating the claim tests (`stats.calibration`): each
combination at its seeds scores one shared test split, with the noise the default build measured — unequal
seed-to-seed spreads per combination, and per-image score variation that is partly common to every run (an
image is hard for all), partly common to one combination's runs (the term more seeds cannot shrink), partly a
run's own. The same for reconstruction errors. A `NoiseModel` holds those parameters; `NoiseModel.measured`
reads them off a build's results.

Scores are binormal: a positive image scores μ more than a negative one, with unit residual variance, so a
run's AUC is Φ(μ/√2); a run's μ follows its combination's AUC plus its seed's deviation."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from aecrypt.stats.components import Build, Run
from aecrypt.stats.intervals import delong_components

#: The default build of 2026-12-01 (the embedded NIH set at 32², 3 seeds; `NoiseModel.measured` reads a build):
#: each combination's mean AUC and its seed SD, its mean log10 MSE and its seed SD.
MEASURED_DEFAULT = {
    "MSE+Adam+ReLU+2": (0.6126, 0.0018, -2.2675, 0.0501),
    "MSE+Adam+ReLU+3": (0.6185, 0.0068, -2.1532, 0.0488),
    "MSE+Adagrad+ReLU+2": (0.4974, 0.0712, -1.2232, 0.0088),
    "MSE+Adagrad+ReLU+3": (0.5457, 0.0388, -1.2223, 0.0054),
    "MSE+RMSprop+ReLU+2": (0.6098, 0.0063, -1.9411, 0.0448),
    "MSE+RMSprop+ReLU+3": (0.6340, 0.0086, -1.4982, 0.0845),
    "MSE+SGD+ReLU+2": (0.5888, 0.0050, -1.2464, 0.0080),
    "MSE+SGD+ReLU+3": (0.5832, 0.0298, -1.2330, 0.0062),
    "MSLE+Adam+ReLU+2": (0.6085, 0.0030, -2.3011, 0.0499),
    "MSLE+Adam+ReLU+3": (0.6210, 0.0029, -2.1966, 0.0180),
    "MSLE+Adagrad+ReLU+2": (0.4880, 0.0738, -1.2144, 0.0111),
    "MSLE+Adagrad+ReLU+3": (0.5091, 0.0620, -1.2185, 0.0063),
    "MSLE+RMSprop+ReLU+2": (0.6132, 0.0071, -1.7782, 0.3262),
    "MSLE+RMSprop+ReLU+3": (0.6398, 0.0069, -1.5558, 0.0107),
    "MSLE+SGD+ReLU+2": (0.5309, 0.0686, -1.2261, 0.0081),
    "MSLE+SGD+ReLU+3": (0.5635, 0.0451, -1.2232, 0.0052),
    "MSLE+Adam+ReLU+5": (0.5806, 0.0662, -1.5147, 0.0264),
    "MSE+Adam+ReLU+5": (0.6275, 0.0089, -1.4858, 0.0760),
    "MSE+Adam+Tanh+3": (0.6238, 0.0110, -2.1152, 0.0806),
}


@dataclass(frozen=True)
class NoiseModel:
    """What a simulated build looks like: per combination (by label, in grid order) its true AUC and seed SD and
    its true log10 MSE and seed SD; how the per-image variation splits (shared by every run, by one
    combination's runs, a run's own); the test split's size and positive share; the seeds."""

    combinations: dict[str, tuple[float, float, float, float]]
    # how a score's image-level variation splits, as `image_shares` measured it on the default build of 2026-12-01
    # (over all 19 combinations; among Adam and RMSprop alone the runs share more: 0.77 and 0.11)
    shared: float = 0.40  # common to every run: an image hard for all
    combination: float = 0.21  # common to one combination's seeds beyond that: what more seeds cannot shrink
    n_test: int = 1663
    positive_share: float = 0.475
    seeds: int = 3
    error_spread: float = 0.34  # SD of ln(per-image squared error) within a run (the default build's median)

    @classmethod
    def default(cls, **changes) -> NoiseModel:
        return replace(cls(dict(MEASURED_DEFAULT)), **changes)

    def with_design(self, **changes) -> NoiseModel:
        """The same noise at another design (n_test, seeds)."""
        return replace(self, **changes)

    def with_truth(self, auc: dict[str, float] | None = None, log_mse: dict[str, float] | None = None) -> NoiseModel:
        """The same noise with other true means (a null, an effect at a margin)."""
        combos = {}
        for label, (a, a_sd, m, m_sd) in self.combinations.items():
            combos[label] = ((auc or {}).get(label, a), a_sd, (log_mse or {}).get(label, m), m_sd)
        return replace(self, combinations=combos)

    def equal(self) -> NoiseModel:
        """Every combination equally good (the mean AUC and log MSE over combinations), each with its own spread."""
        values = np.array(list(self.combinations.values()))
        return self.with_truth(
            dict.fromkeys(self.combinations, values[:, 0].mean()), dict.fromkeys(self.combinations, values[:, 2].mean())
        )

    @classmethod
    def measured(cls, build: Build) -> NoiseModel:
        """The noise of a finished build: each combination's seed spreads (and means), its test split's size
        and positive share, and, where the runs saved their per-image values, how the image-level variation
        splits (`image_shares`) and how widely per-image errors spread."""
        combos = {}
        for label in build.labels:
            auc, log_mse = build.values(label, "auc"), build.values(label, "log_mse")
            combos[label] = (auc.mean(), auc.std(ddof=1), log_mse.mean(), log_mse.std(ddof=1))
        changes = {}
        if (aligned := build.aligned()) is not None:
            changes["n_test"] = aligned["label"].shape[1]
            changes["positive_share"] = float(aligned["label"][0].mean())
            changes["shared"], changes["combination"] = image_shares(build)
            if "se" in aligned:
                changes["error_spread"] = float(np.nanmedian(np.log(np.maximum(aligned["se"], 1e-12)).std(axis=1)))
        seeds = min(len(build.of(label)) for label in build.labels)
        return replace(cls(combos, seeds=seeds), **changes)


def image_shares(build: Build) -> tuple[float, float]:
    """How the per-image variation of the runs' scores splits: the mean correlation of two runs' residuals
    (each score less its class's mean) between combinations (the part every run shares: an image hard for
    all), and what two runs of the same combination share beyond it (the part more seeds cannot shrink)."""
    aligned = build.aligned()
    y, scores = aligned["label"][0].astype(bool), aligned["score"].copy()
    for group in (y, ~y):
        scores[:, group] -= scores[:, group].mean(axis=1, keepdims=True)
    spread = scores.std(axis=1)
    keep = spread > 0  # a blank classifier (one score for every image) shares nothing
    with np.errstate(invalid="ignore"):
        r = np.corrcoef(scores[keep])
    labels = np.array([run.label for run in build.runs])[keep]
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    between, within = np.nanmean(r[off & ~same]), np.nanmean(r[off & same])
    return float(between), float(max(within - between, 0.0))


def _parts(label: str) -> dict:
    loss, optimizer, activation, depth = label.split("+")
    return {"loss": loss.lower(), "optimizer": optimizer.lower(), "activation": activation.lower(), "depth": int(depth)}


def simulate(
    model: NoiseModel, rng: np.random.Generator, seeds: int | None = None, images: bool = True, frames: bool = True
) -> Build:
    """One simulated build: every combination at `seeds` (the model's) training seeds on one test split. Its
    per-image values are held as the build's aligned matrices (`images`) and, with `frames`, also as each run's
    table like scores.csv (the calibration skips those: they cost half its time)."""
    seeds = seeds or model.seeds
    n, labels = model.n_test, list(model.combinations)
    positives = round(n * model.positive_share)
    y = np.r_[np.ones(positives, int), np.zeros(n - positives, int)]
    keys = np.array([f"img{i:05d}" for i in range(n)])
    shared_score, shared_error = rng.standard_normal(n), rng.standard_normal(n)
    runs, columns = [], {"score": [], "se": [], "ae": []}
    for label in labels:
        auc, auc_sd, log_mse, mse_sd = model.combinations[label]
        combo_score, combo_error = rng.standard_normal(n), rng.standard_normal(n)
        run_auc = np.clip(auc + auc_sd * rng.standard_normal((seeds, 1)), 0.02, 0.98)
        mu = math.sqrt(2) * special.ndtri(run_auc)  # norm.ppf, without its per-call overhead
        noise = _image_noise(model, shared_score, combo_score, rng.standard_normal((seeds, n)))
        score = special.ndtr(mu * y + noise - mu / 2)  # norm.cdf
        run_mse = log_mse + mse_sd * rng.standard_normal((seeds, 1))
        spread = model.error_spread * _image_noise(model, shared_error, combo_error, rng.standard_normal((seeds, n)))
        se = 10 ** (run_mse + spread / math.log(10) - model.error_spread**2 / (2 * math.log(10)))
        ae = np.sqrt(se) * 0.8
        aucs = delong_components(y, score)[0]  # the Mann-Whitney AUC, as scikit-learn's (but for every row)
        for seed in range(seeds):
            values = _parts(label) | {
                "auc": float(aucs[seed]),
                "mse": float(se[seed].mean()),
                "mae": float(ae[seed].mean()),
                "accuracy": float(((score[seed] >= 0.5).astype(int) == y).mean()),
            }
            frame = (
                pd.DataFrame({"image": keys, "label": y, "score": score[seed], "se": se[seed], "ae": ae[seed]})
                if images and frames
                else None
            )
            runs.append(Run(label, seed, values, frame))
        for name, value in (("score", score), ("se", se), ("ae", ae)):
            columns[name].append(value)
    if not images:
        return Build(runs)
    aligned = {name: np.concatenate(value) for name, value in columns.items()}
    return Build.aligned_already(runs, aligned | {"label": np.broadcast_to(y.astype(float), aligned["score"].shape)})


def _image_noise(model: NoiseModel, shared: np.ndarray, combination: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Unit-variance per-image noise: the part every run shares, the part one combination's runs share, a
    run's own."""
    rest = 1 - model.shared - model.combination
    return math.sqrt(model.shared) * shared + math.sqrt(model.combination) * combination + math.sqrt(rest) * own


def with_epochs(
    build: Build,
    rng: np.random.Generator,
    falls: dict[str, float],
    checkpoints=(2, 5, 10),
    val_falls: float | None = None,
) -> Build:
    """The build's runs with training and validation losses at the checkpoints: each step multiplies a
    combination's training loss by 10^falls[label] (0: no change), its validation loss by 10^val_falls (None: as
    the training loss), each with its seed's noise (SD 0.03 in log10)."""
    for run in build.runs:
        for kind in ("loss", "val_loss"):
            step = falls.get(run.label, 0.0) if kind == "loss" or val_falls is None else val_falls
            level = -1.0
            for checkpoint in checkpoints:
                run.values[f"{kind}_at_{checkpoint}"] = 10 ** (level + 0.03 * rng.standard_normal())
                level += step
    return build
