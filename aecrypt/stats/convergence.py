"""Did training finish? From each run's autoencoder history: how fast its training loss still fell at the
end, and how much further it would fall by the paper's step budget (`aecrypt.budget.PAPER_STEPS`, counted in
optimizer steps, not epochs: an epoch of 192 images is 6 steps, one of the paper's 183), projected from the
curve's tail.

The projection: the per-epoch fall of log10 loss over the tail of training (its second half) is fitted as a
geometric sequence; where it decays, the remaining falls are summed to the epoch at which the run would reach
the paper's steps; where it does not, the last falls continue at their mean rate (an upper bound on any
decelerating curve). A ranking between two combinations can flip before then only where one's projected fall
exceeds the other's by more than the gap between them: that is the gate the claim tests apply, in both
directions. `projection_errors` checks the projection against long runs (`make bench-convergence`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from aecrypt.budget import PAPER_EPOCHS, PAPER_STEPS


def tail_rate(losses: np.ndarray) -> float:
    """The relative fall per epoch over the last fifth of training (at least one epoch).

    Parameters
    ----------
    losses : ndarray
        The training loss per epoch, in order, positive.

    Returns
    -------
    float
        1 − (L_last / L_{last − k})^(1/k) with k = max(1, round(epochs / 5)): 0.05 is a 5 % fall per epoch,
        negative a rise; NaN where there are no more than k epochs.

    Examples
    --------
    >>> round(tail_rate(np.array([0.1, 0.05, 0.04, 0.036, 0.035])), 4)
    0.0278
    >>> tail_rate(np.array([0.1]))
    nan
    """
    k = max(1, round(len(losses) / 5))
    if len(losses) <= k:
        return math.nan
    return float(1 - (losses[-1] / losses[-1 - k]) ** (1 / k))


def projected_fall(losses: np.ndarray, epochs: int = PAPER_EPOCHS) -> float:
    """How much further log10 of the training loss would fall from the last epoch trained to `epochs`.

    Parameters
    ----------
    losses : array_like
        The training loss per epoch, in order.
    epochs : int, optional
        The epoch to project to; the paper's (`PAPER_EPOCHS`) by default.

    Returns
    -------
    float
        The projected fall in decades of loss, ≥ 0: 0.0 where `epochs` is already reached, fewer than three epochs
        were trained, a loss is not positive, or the tail is flat or rising.

    Examples
    --------
    >>> losses = np.array([0.1, 0.05, 0.04, 0.036, 0.035])
    >>> round(projected_fall(losses, epochs=50), 4)
    0.0045
    >>> projected_fall(losses, epochs=5)
    0.0
    """
    losses = np.asarray(losses, float)
    remaining = epochs - len(losses)
    if remaining <= 0 or len(losses) < 3 or not np.all(losses > 0):
        return 0.0
    falls = -np.diff(np.log10(losses))
    tail = falls[-max(2, len(falls) // 2) :]
    if tail.mean() <= 0:
        return 0.0  # flat or rising at the end: nothing to project
    positive = np.maximum(tail, 1e-9)
    slope = np.polyfit(np.arange(len(tail)), np.log10(positive), 1)[0]
    ratio = 10**slope
    last = max(float(tail[-1]), 0.0) or float(tail.mean())
    if ratio < 1:
        return float(last * ratio * (1 - ratio**remaining) / (1 - ratio))
    return float(tail.mean() * remaining)


def projected_fall_to_steps(losses: np.ndarray, steps_per_epoch: float, steps: int = PAPER_STEPS) -> float:
    """How much further log10 of the training loss would fall from the last epoch trained to `steps` optimizer
    steps, the epochs being `steps_per_epoch` steps each.

    Parameters
    ----------
    losses : array_like
        The training loss per epoch, in order.
    steps_per_epoch : float
        Optimizer steps per epoch; 0 or less (not recorded) projects nothing.
    steps : int, optional
        The step to project to; the paper's budget (`PAPER_STEPS`) by default.

    Returns
    -------
    float
        `projected_fall` to epoch ceil(steps / steps_per_epoch), in decades; 0.0 without a step count.

    Examples
    --------
    >>> losses = np.array([0.1, 0.05, 0.04, 0.036, 0.035])
    >>> round(projected_fall_to_steps(losses, 6.0, steps=300), 4)
    0.0045
    >>> projected_fall_to_steps(losses, 0.0)
    0.0
    """
    if not steps_per_epoch > 0:
        return 0.0
    return projected_fall(losses, epochs=math.ceil(steps / steps_per_epoch))


PROJECTED = "projected log10 fall to the paper's steps"
#: Projected falls beyond this many decades are shown as "more than": a steady fall continued over a hundred
#: times the steps trained gives factors that mean only "far from converged".
SHOWN_DECADES = 3


def factor_text(fall: float) -> str:
    """A projected log10 fall as the factor a page shows ('1.4×', or 'more than 1,000×').

    Parameters
    ----------
    fall : float
        The projected fall, in decades of loss.

    Returns
    -------
    str
        10^fall to two significant figures, or "more than 1,000×" beyond `SHOWN_DECADES`.

    Examples
    --------
    >>> factor_text(0.146), factor_text(0.0), factor_text(4.0)
    ('1.4×', '1×', 'more than 1,000×')
    """
    if fall > SHOWN_DECADES:
        return f"more than {10**SHOWN_DECADES:,}×"
    return f"{10**fall:.2g}×"


def table(histories: dict[str, pd.DataFrame], labels: dict[str, str], steps: dict[str, float]) -> pd.DataFrame:
    """Per combination, mean over its seeds: the fall per epoch at the end, and the projected further fall of
    the training loss (log10) to the paper's step budget; `steps` gives each run's autoencoder steps.

    Parameters
    ----------
    histories : dict of str to pandas.DataFrame
        Per run id, its training history: columns model and loss, one row per epoch and model (only the
        "autoencoder" rows are read).
    labels : dict of str to str
        Per run id, its combination.
    steps : dict of str to float
        Per run id, the optimizer steps its autoencoder took.

    Returns
    -------
    pandas.DataFrame
        One row per combination, in first-seen order: combination, "fall per epoch at the end" (`tail_rate`),
        `PROJECTED` (`projected_fall_to_steps`), seeds (the runs averaged).

    Examples
    --------
    >>> ae = lambda *loss: pd.DataFrame({"model": "autoencoder", "loss": loss})
    >>> histories = {"r1": ae(0.1, 0.05, 0.04, 0.036, 0.035), "r2": ae(0.1, 0.06, 0.05, 0.046, 0.045),
    ...              "r3": ae(0.2, 0.1, 0.08)}
    >>> labels, steps = {"r1": "A", "r2": "A", "r3": "B"}, {"r1": 30.0, "r2": 30.0, "r3": 18.0}
    >>> print(table(histories, labels, steps).round(3).to_string())
      combination  fall per epoch at the end  projected log10 fall to the paper's steps  seeds
    0           A                      0.025                                      0.004      2
    1           B                      0.200                                      0.046      1
    """
    rows = []
    for run_id, history in histories.items():
        ae = history[history["model"] == "autoencoder"]["loss"].to_numpy(float)
        per_epoch = steps[run_id] / max(1, len(ae))
        rows.append(
            {
                "combination": labels[run_id],
                "rate": tail_rate(ae),
                "projected": projected_fall_to_steps(ae, per_epoch),
                "seed": 1,
            }
        )
    frame = pd.DataFrame(rows, columns=["combination", "rate", "projected", "seed"])
    out = frame.groupby("combination", sort=False).agg(
        rate=("rate", "mean"), projected=("projected", "mean"), seeds=("seed", "size")
    )
    return out.reset_index().rename(columns={"rate": "fall per epoch at the end", "projected": PROJECTED})


def projections(
    histories: dict[str, pd.DataFrame], labels: dict[str, str], steps: dict[str, float]
) -> dict[str, float]:
    """{combination: projected log10 fall of its training loss to the paper's steps} (what the gate reads).

    Parameters
    ----------
    histories : dict of str to pandas.DataFrame
        Per run id, its training history (columns model and loss).
    labels : dict of str to str
        Per run id, its combination.
    steps : dict of str to float
        Per run id, the optimizer steps its autoencoder took.

    Returns
    -------
    dict of str to float
        `table`'s `PROJECTED` column by combination: the mean over its runs, in decades.

    Examples
    --------
    >>> ae = lambda *loss: pd.DataFrame({"model": "autoencoder", "loss": loss})
    >>> histories = {"r1": ae(0.1, 0.05, 0.04, 0.036, 0.035), "r2": ae(0.1, 0.06, 0.05, 0.046, 0.045),
    ...              "r3": ae(0.2, 0.1, 0.08)}
    >>> labels, steps = {"r1": "A", "r2": "A", "r3": "B"}, {"r1": 30.0, "r2": 30.0, "r3": 18.0}
    >>> {label: round(fall, 4) for label, fall in projections(histories, labels, steps).items()}
    {'A': 0.0039, 'B': 0.046}
    """
    frame = table(histories, labels, steps)
    return dict(zip(frame["combination"], frame[PROJECTED], strict=True))


def _default_steps() -> int:
    from aecrypt.profiles import get_profile

    default = get_profile("default")
    return default.budget(default.n_train).steps


#: Where a long run's projection is checked from: the `default` profile's whole length in steps, and five times it.
CHECKED_FROM = tuple(k * _default_steps() for k in (1, 5))


def projection_errors(curve: pd.DataFrame, prefixes: tuple[int, ...] = CHECKED_FROM) -> pd.DataFrame:
    """A long run's check of the projection. `curve` has columns step and loss: the training loss averaged over
    blocks of steps as short as the default's epochs. From the first `prefix` steps of it, the projection to the
    curve's last step is compared with where the loss really ended: `under` > 0 where the projection predicted
    less fall than happened (log10), the error the gate must cover.

    Parameters
    ----------
    curve : pandas.DataFrame
        The long run's loss by step (columns step and loss), its blocks evenly spaced.
    prefixes : tuple of int, optional
        The step counts to project from (`CHECKED_FROM`: the default profile's length and five times it); one
        with fewer than three blocks, or not before the curve's last step, is skipped.

    Returns
    -------
    pandas.DataFrame
        One row per prefix checked: from steps, to steps, projected and actual fall (log10), and under (actual −
        projected).

    Examples
    --------
    >>> loss = [1, 0.6, 0.45, 0.38, 0.34, 0.31, 0.29, 0.28, 0.27, 0.265, 0.26, 0.257]
    >>> curve = pd.DataFrame({"step": np.arange(10, 130, 10), "loss": loss})
    >>> print(projection_errors(curve, prefixes=(60, 90, 200)).round(3).to_string())
       from steps  to steps  projected  actual  under
    0          60       120      0.132   0.081 -0.051
    1          90       120      0.025   0.021 -0.003
    """
    curve = curve.sort_values("step")
    block = float(curve["step"].diff().median()) if len(curve) > 1 else math.nan
    last_step, last_loss = int(curve["step"].iloc[-1]), float(curve["loss"].iloc[-1])
    rows = []
    for prefix in prefixes:
        head = curve[curve["step"] <= prefix]
        if len(head) < 3 or last_step <= prefix:
            continue
        predicted = projected_fall_to_steps(head["loss"].to_numpy(float), block, last_step)
        actual = math.log10(float(head["loss"].iloc[-1]) / last_loss)
        rows.append({"from steps": prefix, "to steps": last_step, "projected": predicted, "actual": actual})
    frame = pd.DataFrame(rows, columns=["from steps", "to steps", "projected", "actual"])
    return frame.assign(under=frame["actual"] - frame["projected"])
