"""How far each run trained, and whether it learned at all: what every trained-model verdict is relative to.

Two facts per build, both read by the claim tests through one `Gate`:

- **the budget**: the optimizer steps each autoencoder took (recorded by the run, `ae_steps`), as a share of
  the paper's (`aecrypt.budget`);
- **not trained**: a run whose autoencoder beats, on neither measure, the training set's pixel-wise mean image
  predicted for every test image — its test MSE not below the mean image's (`mse_mean_image`, recorded by the
  run) and its SSIM not above it (`ssim_mean_image`) — has learned nothing an image-independent output would
  not give. Such a run is a collapse, not seed noise: the claim tests leave it out of every mean and count it,
  per combination, in what they report.

Why both measures, and not "MSE not below 0.8× the mean image's": on the default build of 2026-12-06 the
collapsed runs (every Adagrad and SGD run, outputs near a constant grey) sit at 1.6–1.9× the mean image's MSE
and SSIM 0.17–0.22, against the mean image's 0.56; every other run reaches SSIM 0.51 or more. A 0.8× bar also marks
runs that learned image structure but little more than the mean (depth 5, some RMSprop), and an MSE bar
alone marks a run that learned the structure with a brightness offset (MSE 1.3×, SSIM 0.70). The Results vs.
paper page draws every run against both bars (`pages.budget.not_trained_figure`).

And, from each run's loss curve, how much further its training loss would fall by the paper's step budget
(`stats.convergence`): the gate that turns a ranking training could still change into *inconclusive (not
converged)*.

>>> frame = pd.DataFrame({"mse": [0.01, 0.06, 0.06], "mse_mean_image": [0.03] * 3,
...                       "ssim": [0.9, 0.2, 0.7], "ssim_mean_image": [0.56] * 3})
>>> not_trained(frame).tolist()
[False, True, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aecrypt.budget import budget_line, percent
from aecrypt.profiles import Profile
from aecrypt.stats.components import Build

#: The rule in words, as pages and findings quote it.
RULE = "beats the training set's mean image on neither test MSE nor SSIM"


def not_trained(frame: pd.DataFrame) -> pd.Series:
    """Per row of a results table: True where the autoencoder beat the mean image on neither measure (its MSE
    not below `mse_mean_image`, its SSIM not above `ssim_mean_image`; MSE alone where a run recorded no SSIM
    reference). Rows without the MSE reference (a baseline, a run recorded before it) read False."""
    return pd.Series([_run_not_trained(row) for row in frame.to_dict("records")], index=frame.index, dtype=bool)


def mark(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with a `not_trained` column (see `not_trained`)."""
    return frame.assign(not_trained=not_trained(frame))


def ae_steps(frame: pd.DataFrame) -> int | None:
    """The optimizer steps the build's autoencoders took (the most common count over its runs; None where no
    run recorded it)."""
    if "ae_steps" not in frame or frame["ae_steps"].dropna().empty:
        return None
    return int(frame["ae_steps"].dropna().astype(int).mode().iloc[0])


def run_steps(ok: pd.DataFrame, settings: Profile) -> pd.Series:
    """Per finished run (a results table's rows): its autoencoder's optimizer steps, as the run recorded them or,
    for a run recorded before they were, as its epochs, training images and batch size give them."""
    planned = ok["n_train"].map(lambda n: settings.budget(int(n)).steps)
    return (ok["ae_steps"].fillna(planned) if "ae_steps" in ok else planned).astype(float)


def budget_sentence(ok: pd.DataFrame, settings: Profile) -> str:
    """What a page says of its trained models' length: the autoencoders' steps against the paper's, the
    classifiers' steps, and how many runs did not train."""
    if ok.empty:
        return ""
    steps = run_steps(ok, settings)
    text = f"Autoencoders {budget_line(float(steps.mode().iloc[0]))}"
    if "clf_steps" in ok and ok["clf_steps"].notna().any():
        text += f"; classifiers trained for {int(ok['clf_steps'].dropna().mode().iloc[0]):,} steps"
    bad = int(not_trained(ok).sum())
    if bad:
        text += f"; {bad} of {len(ok)} runs did not train (hatched in the figures)"
    return text + "."


def collapsed(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """{combination: (runs not trained, runs)} for every combination with at least one run not trained."""
    marked = mark(frame)
    counts = marked.groupby("label", sort=False)["not_trained"].agg(["sum", "size"])
    return {label: (int(r["sum"]), int(r["size"])) for label, r in counts.iterrows() if r["sum"] > 0}


def collapsed_runs(build: Build) -> dict[str, tuple[int, int]]:
    """`collapsed` for the runs of a `components.Build` (a simulated build has no results table)."""
    out = {}
    for label in build.labels:
        runs = build.of(label)
        if bad := sum(_run_not_trained(r.values) for r in runs):
            out[label] = (bad, len(runs))
    return out


@dataclass(frozen=True)
class Gate:
    """What the claim tests need to know about training before they read a difference as a finding.

    `steps`: the autoencoder steps of the build's runs; `projected`: per combination, the projected further fall
    of log10 training loss to the paper's step budget (empty where the build trained that far); `collapsed`:
    per combination, (runs not trained, runs)."""

    steps: int | None
    projected: dict[str, float] = field(default_factory=dict)
    collapsed: dict[str, tuple[int, int]] = field(default_factory=dict)
    # True where the long runs showed a fall that no scaling of the projections covers: every decision short of
    # the paper's budget waits
    unbounded: bool = False

    @classmethod
    def of(cls, frame: pd.DataFrame, projected: dict[str, float] | None = None, unbounded: bool = False) -> Gate:
        ok = frame[frame["status"] == "ok"] if "status" in frame else frame
        return cls(ae_steps(ok), dict(projected or {}), collapsed(ok), unbounded)

    def line(self) -> str:
        """'trained for N steps, P % of the paper's S' (or what is unknown)."""
        return budget_line(self.steps) if self.steps is not None else "training length not recorded"

    def short(self) -> str:
        """'N steps' for a verdict's brackets."""
        return f"{self.steps:,} steps" if self.steps is not None else "an unrecorded length"

    def share(self) -> str:
        return percent(self.steps) if self.steps is not None else "?"

    def none_trained(self, label: str, build: Build) -> bool:
        """True where every run of `label` in the build is not trained."""
        n_bad, n = self.collapsed.get(label, (0, 0))
        return n > 0 and n_bad == n == len(build.of(label))

    def trained_only(self, build: Build) -> Build:
        """The build without its not-trained runs (none of a combination's mean mixes them in)."""
        keep = [i for i, r in enumerate(build.runs) if not _run_not_trained(r.values)]
        return build if len(keep) == len(build.runs) else build.subset(keep)

    def collapse_note(self) -> str:
        """One sentence naming the combinations with runs not trained, or ''."""
        if not self.collapsed:
            return ""
        shown = ", ".join(f"{g} ({k} of {n})" for g, (k, n) in self.collapsed.items())
        return f"Not trained at {self.short()} ({RULE}), left out of every mean: {shown}."


def _known(values, key: str) -> float | None:
    value = values.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def _run_not_trained(values) -> bool:
    """`not_trained` for one run's values (a results row or a `components.Run`'s values)."""
    mse, reference = _known(values, "mse"), _known(values, "mse_mean_image")
    if mse is None or reference is None or mse < reference:
        return False
    ssim, ssim_reference = _known(values, "ssim"), _known(values, "ssim_mean_image")
    return ssim is None or ssim_reference is None or ssim <= ssim_reference
