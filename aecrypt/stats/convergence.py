"""Did training finish? From each run's autoencoder history: how fast its training loss still fell at the
end, and how much further it would fall by the paper's 50 epochs, projected from the curve's tail.

The projection: the per-epoch fall of log10 loss over the tail of training (its second half) is fitted as a
geometric sequence; where it decays, the remaining falls are summed to the paper's last epoch; where it does
not, the last falls continue at their mean rate (an upper bound on any decelerating curve). A ranking between
two combinations can flip before 50 epochs only where one's projected fall exceeds the other's by more than
the gap between them: that is the gate the claim tests apply, in both directions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from aecrypt.profiles import PAPER_CHECKPOINTS

PAPER_EPOCHS = PAPER_CHECKPOINTS[-1]


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


def table(histories: dict[str, pd.DataFrame], labels: dict[str, str]) -> pd.DataFrame:
    """Per combination, mean over its seeds: the fall per epoch at the end, and the projected further fall of
    the training loss to the paper's 50 epochs (as a factor)."""
    rows = []
    for run_id, history in histories.items():
        ae = history[history["model"] == "autoencoder"]["loss"].to_numpy(float)
        rows.append({"combination": labels[run_id], "rate": tail_rate(ae), "projected": projected_fall(ae), "seed": 1})
    frame = pd.DataFrame(rows, columns=["combination", "rate", "projected", "seed"])
    out = frame.groupby("combination", sort=False).agg(
        rate=("rate", "mean"), projected=("projected", "mean"), seeds=("seed", "size")
    )
    return out.reset_index().rename(
        columns={"rate": "fall per epoch at the end", "projected": "projected log10 fall to 50 epochs"}
    )


def projections(histories: dict[str, pd.DataFrame], labels: dict[str, str]) -> dict[str, float]:
    """{combination: projected log10 fall of its training loss to 50 epochs} (what the claim tests' gate reads)."""
    frame = table(histories, labels)
    return dict(zip(frame["combination"], frame["projected log10 fall to 50 epochs"], strict=True))
