"""Simulated builds whose truth is known, for calibrating the claim tests (`stats.calibration`): each
combination at its seeds scores one shared test split, with the noise the default build measured — unequal
seed-to-seed spreads per combination, and per-image score variation that is partly common to every run (an
image is hard for all), partly common to one combination's runs (the term more seeds cannot shrink), partly a
run's own. The same for reconstruction errors. A `NoiseModel` holds those parameters; `NoiseModel.measured`
reads them off a build's results.

Scores are binormal: a positive image scores μ more than a negative one, with unit residual variance, so a
run's AUC is Φ(μ/√2); a run's μ follows its combination's AUC plus its seed's deviation.

A combination's seed SD is what a build *observes* over its seeds, and that already holds each run's own share
of the test split's noise; the simulator draws the seed deviation net of it (`own_split_sd`), so that a
simulated build's seeds scatter as the measured ones did, not wider. Beyond normal noise a model can hold
what real builds show: runs that do not train (`collapse`: such a run outputs the mean image, its classifier
guesses; the claim tests' gate leaves it out, as on a real build), heavy-tailed seed and image noise
(`tail_df`), and the build's convergence gate (`projected`, `unbounded`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special

from aecrypt.stats.components import Build, Run
from aecrypt.stats.intervals import delong_components
from aecrypt.stats.training import Gate, collapsed_runs, not_trained

#: The default build of 2026-12-01 (the embedded NIH set at 32², 3 seeds; `NoiseModel.measured` reads a build):
#: each combination's mean AUC and its observed seed SD, its mean log10 MSE and its observed seed SD.
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
    # per combination, the share of its runs that do not train (a real build's: `measured`; a stress: `collapsing`)
    collapse: dict[str, float] = field(default_factory=dict)
    # Student-t degrees of freedom of the seed deviations and of a run's own image noise (inf: normal)
    tail_df: float = math.inf
    # SD over seeds of a run's log10 loss at a checkpoint (the default build of 2026-12-06: median over
    # combinations and checkpoints)
    epoch_spread: float = 0.012
    # log10 of the mean image's test MSE, the bar a run must beat to count as trained (the default build's median)
    mean_image_log_mse: float = -1.47
    # the build's convergence gate: per combination the projected further fall of log10 loss, and whether the
    # projections are unbounded (`stats.training.Gate`); empty and False: as at the paper's step budget
    projected: dict[str, float] = field(default_factory=dict)
    unbounded: bool = False

    @classmethod
    def default(cls, **changes) -> NoiseModel:
        return replace(cls(dict(MEASURED_DEFAULT)), **changes)

    def with_design(self, **changes) -> NoiseModel:
        """The same noise at another design (n_test, seeds)."""
        return replace(self, **changes)

    def only(self, labels) -> NoiseModel:
        """The same noise on a sub-grid: the combinations in `labels` alone (a user's smaller sweep)."""
        return replace(self, combinations={k: self.combinations[k] for k in labels})

    def collapsing(self, share: float, optimizers=("adagrad", "sgd")) -> NoiseModel:
        """The same noise with `share` of the runs of every combination of `optimizers` not training (the
        audit's V3: 15 % of Adagrad and SGD runs; their true means, those of the runs that train, unchanged)."""
        hit = {k: share for k in self.combinations if _parts(k)["optimizer"] in optimizers}
        return replace(self, collapse=hit)

    def gate(self, build: Build) -> Gate:
        """The gate the claim tests apply to a simulated build of this model, as to a real build's: its runs that
        did not train, and the model's convergence projections."""
        return Gate(None, dict(self.projected), collapsed_runs(build), self.unbounded)

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
        """The noise of a finished build: each combination's seed spreads and means over the runs that trained
        (all its runs where fewer than two did), the share of its runs that did not train, the spread of its
        logged losses over seeds, its test split's size and positive share, and, where the runs saved their
        per-image values, how the image-level variation splits (`image_shares`) and how widely per-image errors
        spread. Seed tails are left normal: three seeds cannot measure a tail."""
        frame = pd.DataFrame([r.values | {"label": r.label} for r in build.runs])
        bad = dict(enumerate(not_trained(frame))) if len(frame) else {}
        combos, collapse = {}, {}
        for label in build.labels:
            index = build.index[label]
            trained = [i for i in index if not bad.get(i, False)]
            use = Build([build.runs[i] for i in (trained if len(trained) >= 2 else index)])
            auc, log_mse = use.values(label, "auc"), use.values(label, "log_mse")
            combos[label] = (auc.mean(), auc.std(ddof=1), log_mse.mean(), log_mse.std(ddof=1))
            if len(trained) < len(index):
                collapse[label] = 1 - len(trained) / len(index)
        changes = {"collapse": collapse}
        if (spread := _epoch_spread(build)) is not None:
            changes["epoch_spread"] = spread
        if "mse_mean_image" in frame and frame["mse_mean_image"].notna().any():
            changes["mean_image_log_mse"] = float(np.log10(frame["mse_mean_image"].dropna()).median())
        if (aligned := build.aligned()) is not None:
            changes["n_test"] = aligned["label"].shape[1]
            changes["positive_share"] = float(aligned["label"][0].mean())
            changes["shared"], changes["combination"] = image_shares(build)
            if "se" in aligned:
                changes["error_spread"] = float(np.nanmedian(np.log(np.maximum(aligned["se"], 1e-12)).std(axis=1)))
        seeds = min(len(build.of(label)) for label in build.labels)
        return replace(cls(combos, seeds=seeds), **changes)


def _epoch_spread(build: Build) -> float | None:
    """The median, over combinations and logged checkpoints, of the SD over seeds of log10 training loss."""
    keys = sorted({k for r in build.runs for k in r.values if k.startswith("loss_at_")})
    sds = []
    for label in build.labels:
        for key in keys:
            logged = [r.values.get(key) for r in build.of(label)]
            logged = np.log10([v for v in logged if v is not None and np.isfinite(v) and v > 0])
            if len(logged) >= 2:
                sds.append(logged.std(ddof=1))
    return float(np.median(sds)) if sds else None


def image_shares(build: Build) -> tuple[float, float]:
    """How the per-image variation of the runs' scores splits: the mean correlation of two runs' residuals
    (each score less its class's mean) between combinations (the part every run shares: an image hard for
    all), and what two runs of the same combination share beyond it (the part more seeds cannot shrink).

    Parameters
    ----------
    build : Build
        Runs of at least two combinations, at least two runs of one, with aligned per-image scores and labels
        (`Build.aligned()` not None: runs that scored the same test images). Runs with one score for every
        image are left out.

    Returns
    -------
    between : float
        The mean residual correlation of two runs of different combinations.
    within : float
        The mean correlation of two runs of one combination less `between`, at least 0.

    Examples
    --------
    On a simulated build, the shares the model drew it with (0.40 and 0.21) come back:

    >>> model = NoiseModel.default().only(["MSE+Adam+ReLU+2", "MSE+Adam+ReLU+3"]).with_design(n_test=200)
    >>> [round(share, 2) for share in image_shares(simulate(model, np.random.default_rng(0)))]
    [0.39, 0.23]
    """
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


#: What a run that did not train looks like to the not-trained rule (`stats.training`): its MSE this far (log10)
#: above the mean image's, and its SSIM against the mean image's (the default build's collapsed runs: 1.6-1.9×
#: and 0.17-0.22 against 0.56); a run that trained beats the mean image on SSIM.
COLLAPSED_LOG_MSE, COLLAPSED_SSIM, TRAINED_SSIM, MEAN_IMAGE_SSIM = math.log10(1.75), 0.2, 0.7, 0.56


def _parts(label: str) -> dict:
    loss, optimizer, activation, depth = label.split("+")
    return {"loss": loss.lower(), "optimizer": optimizer.lower(), "activation": activation.lower(), "depth": int(depth)}


def simulate(
    model: NoiseModel, rng: np.random.Generator, seeds: int | None = None, images: bool = True, frames: bool = True
) -> Build:
    """One simulated build: every combination at `seeds` (the model's) training seeds on one test split. Its
    per-image values are held as the build's aligned matrices (`images`) and, with `frames`, also as each run's
    table like scores.csv (the calibration skips those: they cost half its time).

    Parameters
    ----------
    model : NoiseModel
        The combinations' true means and spreads, the noise and the test split.
    rng : numpy.random.Generator
        Draws everything: the same generator state gives the same build.
    seeds : int, optional
        Training seeds per combination; the model's `seeds` where None (or 0).
    images : bool, optional
        Keep the aligned per-image matrices (score, se, ae, label) and each run's DeLong components, which
        the claim tests' test-split variance needs; False: the runs' values only.
    frames : bool, optional
        With `images`, also give each run a per-image table (image, label, score, se, ae).

    Returns
    -------
    Build
        The runs, combination by combination in the model's order, seeds 0, 1, ...; each run's values hold
        its combination's parts (loss, optimizer, activation, depth), mse, mae, accuracy, auc and the
        not-trained bars (mse_mean_image, ssim, ssim_mean_image).

    Examples
    --------
    >>> model = NoiseModel.default().only(["MSE+Adam+ReLU+2", "MSE+Adam+ReLU+3"]).with_design(n_test=200)
    >>> build = simulate(model, np.random.default_rng(0))
    >>> build.labels, len(build.runs), build.aligned()["score"].shape
    (['MSE+Adam+ReLU+2', 'MSE+Adam+ReLU+3'], 6, (6, 200))
    >>> round(build.mean("MSE+Adam+ReLU+2", "auc"), 3)
    0.65
    """
    seeds = seeds or model.seeds
    n, labels = model.n_test, list(model.combinations)
    positives = round(n * model.positive_share)
    y = np.r_[np.ones(positives, int), np.zeros(n - positives, int)]
    keys = np.array([f"img{i:05d}" for i in range(n)])
    shared_score, shared_error = rng.standard_normal(n), rng.standard_normal(n)
    reference = 10**model.mean_image_log_mse
    runs, columns = [], {"score": [], "se": [], "ae": []}
    for label in labels:
        auc, auc_sd, log_mse, mse_sd = model.combinations[label]
        combo_score, combo_error = rng.standard_normal(n), rng.standard_normal(n)
        auc_sd, mse_sd = (
            math.sqrt(max(sd**2 - own**2, 0.0))
            for sd, own in zip((auc_sd, mse_sd), own_split_sd(model, auc), strict=True)
        )
        fails = rng.random((seeds, 1)) < model.collapse.get(label, 0.0)  # outputs the mean image; guesses
        run_auc = np.clip(auc + auc_sd * _deviates(rng, (seeds, 1), model.tail_df), 0.02, 0.98)
        mu = np.where(fails, 0.0, math.sqrt(2) * special.ndtri(run_auc))  # norm.ppf, without its per-call overhead
        own = _deviates(rng, (seeds, n), model.tail_df)
        noise = _image_noise(model, shared_score, combo_score, own)
        score = special.ndtr(mu * y + noise - mu / 2)  # norm.cdf
        run_mse = log_mse + mse_sd * _deviates(rng, (seeds, 1), model.tail_df)
        run_mse = np.where(fails, model.mean_image_log_mse + COLLAPSED_LOG_MSE, run_mse)
        spread = model.error_spread * _image_noise(model, shared_error, combo_error, rng.standard_normal((seeds, n)))
        se = 10 ** (run_mse + spread / math.log(10) - model.error_spread**2 / (2 * math.log(10)))
        ae = np.sqrt(se) * 0.8
        for seed in range(seeds):
            values = _parts(label) | {
                "mse": float(se[seed].mean()),
                "mae": float(ae[seed].mean()),
                "accuracy": float(((score[seed] >= 0.5).astype(int) == y).mean()),
                # the not-trained bars (`stats.training`): a collapsed run beats the mean image on neither
                "mse_mean_image": reference,
                "ssim": COLLAPSED_SSIM if fails[seed, 0] else TRAINED_SSIM,
                "ssim_mean_image": MEAN_IMAGE_SSIM,
            }
            frame = (
                pd.DataFrame({"image": keys, "label": y, "score": score[seed], "se": se[seed], "ae": ae[seed]})
                if images and frames
                else None
            )
            runs.append(Run(label, seed, values, frame))
        for name, value in (("score", score), ("se", se), ("ae", ae)):
            columns[name].append(value)
    aligned = {name: np.concatenate(value) for name, value in columns.items()}
    # every run's Mann-Whitney AUC (as scikit-learn's) and DeLong components in one call, kept for the tests
    aucs, v10, v01 = delong_components(y, aligned["score"])
    for run, auc in zip(runs, aucs, strict=True):
        run.values["auc"] = float(auc)
    if not images:
        return Build(runs)
    labels_matrix = np.broadcast_to(y.astype(float), aligned["score"].shape)
    build = Build.aligned_already(runs, aligned | {"label": labels_matrix})
    build.keep_pseudo("auc", [v10, v01])
    return build


def _image_noise(model: NoiseModel, shared: np.ndarray, combination: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Unit-variance per-image noise: the part every run shares, the part one combination's runs share, a
    run's own."""
    rest = 1 - model.shared - model.combination
    return math.sqrt(model.shared) * shared + math.sqrt(model.combination) * combination + math.sqrt(rest) * own


def _deviates(rng: np.random.Generator, shape, df: float) -> np.ndarray:
    """Unit-variance deviates: normal, or Student-t with `df` (> 2) degrees of freedom scaled to unit variance."""
    if not math.isfinite(df):
        return rng.standard_normal(shape)
    return rng.standard_t(df, shape) / math.sqrt(df / (df - 2))


def own_split_sd(model: NoiseModel, auc: float) -> tuple[float, float]:
    """The SD that a run's own share of the test split's noise gives its AUC and its log10 MSE: what a build's
    seed SD already holds beside the training seed's part. For the AUC, DeLong's variance of a binormal AUC
    (each structural component Φ of a normal: variance Φ₂(h, h; ½) − A², with h = μ/√2 and A = Φ(h), by Owen's
    T) times the run's own share of the image-level variance; for log10 MSE, the delta method on log-normal
    per-image errors.

    Parameters
    ----------
    model : NoiseModel
        Its test split (`n_test`, `positive_share`), its image-level shares (`shared`, `combination`) and the
        spread of per-image errors (`error_spread`).
    auc : float
        The run's true AUC; clipped to [0.02, 0.98], as `simulate` clips it.

    Returns
    -------
    tuple of float
        (SD of the run's AUC, SD of its log10 MSE) from its own share of the test images' noise.

    Examples
    --------
    >>> [round(sd, 4) for sd in own_split_sd(NoiseModel.default(), 0.6)]
    [0.0086, 0.0023]
    """
    n1 = round(model.n_test * model.positive_share)
    n0 = model.n_test - n1
    own = 1 - model.shared - model.combination
    h = special.ndtri(min(max(auc, 0.02), 0.98))  # μ/√2
    a = special.ndtr(h)
    component = a - 2 * special.owens_t(h, math.sqrt(1 / 3)) - a**2  # Φ₂(h, h; ½) − A²
    auc_var = own * component * (1 / n1 + 1 / n0)
    mse_var = own * math.expm1(model.error_spread**2) / (model.n_test * math.log(10) ** 2)
    return math.sqrt(max(auc_var, 0.0)), math.sqrt(mse_var)


def with_epochs(
    build: Build,
    rng: np.random.Generator,
    falls: dict[str, float],
    checkpoints=(2, 5, 10),
    val_falls: float | None = None,
    spread: float = NoiseModel.epoch_spread,
) -> Build:
    """The build's runs with training and validation losses at the checkpoints: each step multiplies a
    combination's training loss by 10^falls[label] (0: no change), its validation loss by 10^val_falls (None: as
    the training loss), each with its seed's noise (SD `spread` in log10: a build's `epoch_spread`).

    Parameters
    ----------
    build : Build
        The runs to give losses; changed in place.
    rng : numpy.random.Generator
        Draws the noise.
    falls : dict of str to float
        Per combination label, the change of log10 training loss per checkpoint step (negative: a fall);
        combinations not named do not change.
    checkpoints : sequence of int, optional
        The epochs the losses are logged at; at the first, each loss is about 0.1 (log10 −1).
    val_falls : float or None, optional
        One change of log10 validation loss per step for every combination; None: each its training loss's.
    spread : float, optional
        SD in log10 of each logged loss about its level.

    Returns
    -------
    Build
        `build` itself, each run's values now holding loss_at_C and val_loss_at_C for every checkpoint C.

    Examples
    --------
    >>> model = NoiseModel.default().only(["MSE+Adam+ReLU+2", "MSE+Adam+ReLU+3"]).with_design(n_test=200)
    >>> build = with_epochs(simulate(model, np.random.default_rng(0)), np.random.default_rng(1),
    ...                     {"MSE+Adam+ReLU+2": -0.3})
    >>> falls = [r.values["loss_at_5"] / r.values["loss_at_2"] for r in build.runs]
    >>> [round(f, 2) for f in falls[::3]]  # the first seed of each combination
    [0.51, 1.01]
    """
    for run in build.runs:
        for kind in ("loss", "val_loss"):
            step = falls.get(run.label, 0.0) if kind == "loss" or val_falls is None else val_falls
            level = -1.0
            for checkpoint in checkpoints:
                run.values[f"{kind}_at_{checkpoint}"] = 10 ** (level + spread * rng.standard_normal())
                level += step
    return build
