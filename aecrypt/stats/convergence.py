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
    """The relative fall per epoch over the last fifth of training (at least one epoch)."""
    k = max(1, round(len(losses) / 5))
    if len(losses) <= k:
        return math.nan
    return float(1 - (losses[-1] / losses[-1 - k]) ** (1 / k))


def projected_fall(losses: np.ndarray, epochs: int = PAPER_EPOCHS) -> float:
    """How much further log10 of the training loss would fall from the last epoch trained to `epochs`."""
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
    steps, the epochs being `steps_per_epoch` steps each."""
    if not steps_per_epoch > 0:
        return 0.0
    return projected_fall(losses, epochs=math.ceil(steps / steps_per_epoch))


PROJECTED = "projected log10 fall to the paper's steps"
#: Projected falls beyond this many decades are shown as "more than": a steady fall continued over a hundred
#: times the steps trained gives factors that mean only "far from converged".
SHOWN_DECADES = 3


def factor_text(fall: float) -> str:
    """A projected log10 fall as the factor a page shows ('1.4×', or 'more than 1,000×')."""
    if fall > SHOWN_DECADES:
        return f"more than {10**SHOWN_DECADES:,}×"
    return f"{10**fall:.2g}×"


def table(histories: dict[str, pd.DataFrame], labels: dict[str, str], steps: dict[str, float]) -> pd.DataFrame:
    """Per combination, mean over its seeds: the fall per epoch at the end, and the projected further fall of
    the training loss (log10) to the paper's step budget; `steps` gives each run's autoencoder steps."""
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
    """{combination: projected log10 fall of its training loss to the paper's steps} (what the gate reads)."""
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
    less fall than happened (log10), the error the gate must cover."""
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
