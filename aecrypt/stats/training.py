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
    reference). Rows without the MSE reference (a baseline, a run recorded before it) read False.

    Parameters
    ----------
    frame : pandas.DataFrame
        A results table, one row per run, with columns mse and mse_mean_image and, where recorded, ssim and
        ssim_mean_image; a missing or non-finite value counts as not recorded.

    Returns
    -------
    pandas.Series of bool
        Indexed as `frame`.

    Examples
    --------
    >>> frame = pd.DataFrame({"mse": [0.01, 0.06, 0.06, 0.06], "mse_mean_image": [0.03, 0.03, 0.03, None],
    ...                       "ssim": [0.9, 0.2, None, 0.2], "ssim_mean_image": [0.56] * 4})
    >>> not_trained(frame).tolist()
    [False, True, True, False]
    """
    return pd.Series([_run_not_trained(row) for row in frame.to_dict("records")], index=frame.index, dtype=bool)


def mark(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with a `not_trained` column (see `not_trained`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A results table, as `not_trained` reads it.

    Returns
    -------
    pandas.DataFrame
        A copy of `frame` with a bool column `not_trained` added (or replaced).

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["A", "B"], "mse": [0.01, 0.06], "mse_mean_image": [0.03, 0.03],
    ...                       "ssim": [0.9, 0.2], "ssim_mean_image": [0.56, 0.56]})
    >>> mark(frame)[["label", "not_trained"]]
      label  not_trained
    0     A        False
    1     B         True
    """
    return frame.assign(not_trained=not_trained(frame))


def ae_steps(frame: pd.DataFrame) -> int | None:
    """The optimizer steps the build's autoencoders took (the most common count over its runs; None where no
    run recorded it).

    Parameters
    ----------
    frame : pandas.DataFrame
        A results table, with the runs' steps in column ae_steps (missing values ignored).

    Returns
    -------
    int or None
        The most common count, the smallest where counts tie; None without the column or any value in it.

    Examples
    --------
    >>> ae_steps(pd.DataFrame({"ae_steps": [60, 60, 48, None]}))
    60
    >>> ae_steps(pd.DataFrame({"mse": [0.01]})) is None
    True
    """
    if "ae_steps" not in frame or frame["ae_steps"].dropna().empty:
        return None
    return int(frame["ae_steps"].dropna().astype(int).mode().iloc[0])


def run_steps(ok: pd.DataFrame, settings: Profile) -> pd.Series:
    """Per finished run (a results table's rows): its autoencoder's optimizer steps, as the run recorded them or,
    for a run recorded before they were, as its epochs, training images and batch size give them.

    Parameters
    ----------
    ok : pandas.DataFrame
        The finished runs, with column n_train and, where recorded, ae_steps.
    settings : Profile
        The profile the runs ran with: `settings.budget(n_train).steps` fills a missing ae_steps.

    Returns
    -------
    pandas.Series of float
        The steps, indexed as `ok`.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from aecrypt.profiles import get_profile
    >>> settings = replace(get_profile("default"), ae_epochs=10, batch_size=32)
    >>> run_steps(pd.DataFrame({"n_train": [320, 320], "ae_steps": [None, 120]}), settings).tolist()
    [100.0, 120.0]
    """
    planned = ok["n_train"].map(lambda n: settings.budget(int(n)).steps)
    return (ok["ae_steps"].fillna(planned) if "ae_steps" in ok else planned).astype(float)


def budget_sentence(ok: pd.DataFrame, settings: Profile) -> str:
    """What a page says of its trained models' length: the autoencoders' steps against the paper's, the
    classifiers' steps, and how many runs did not train.

    Parameters
    ----------
    ok : pandas.DataFrame
        The finished runs: n_train, and where recorded ae_steps, clf_steps and the columns `not_trained`
        reads.
    settings : Profile
        The profile the runs ran with (for steps a run did not record: `run_steps`).

    Returns
    -------
    str
        One sentence, the most common step counts quoted; '' where `ok` is empty.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from aecrypt.profiles import get_profile
    >>> settings = replace(get_profile("default"), ae_epochs=10, batch_size=32)
    >>> ok = pd.DataFrame({"n_train": [192] * 3, "ae_steps": [60, 60, 60], "clf_steps": [200] * 3,
    ...                    "mse": [0.01, 0.06, 0.02], "mse_mean_image": [0.03] * 3})
    >>> budget_sentence(ok, settings)
    "Autoencoders trained for 60 steps, 0.66 % of the paper's 9,150; classifiers trained for 200 steps; 1 of 3 runs did
    not train (hatched in the figures)."
    """
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
    """{combination: (runs not trained, runs)} for every combination with at least one run not trained.

    Parameters
    ----------
    frame : pandas.DataFrame
        A results table with a label column (the combination) and the columns `not_trained` reads.

    Returns
    -------
    dict of str to tuple of int
        In the order the combinations first appear; empty where every run trained.

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["A", "A", "B"], "mse": [0.01, 0.06, 0.02], "mse_mean_image": [0.03] * 3})
    >>> collapsed(frame)
    {'A': (1, 2)}
    """
    marked = mark(frame)
    counts = marked.groupby("label", sort=False)["not_trained"].agg(["sum", "size"])
    return {label: (int(r["sum"]), int(r["size"])) for label, r in counts.iterrows() if r["sum"] > 0}


def collapsed_runs(build: Build) -> dict[str, tuple[int, int]]:
    """`collapsed` for the runs of a `components.Build` (a simulated build has no results table).

    Parameters
    ----------
    build : Build
        The runs; each run's values read as a results row is by `not_trained`.

    Returns
    -------
    dict of str to tuple of int
        {combination: (runs not trained, runs)}, in the build's order, for every combination with at least one
        run not trained.

    Examples
    --------
    >>> from aecrypt.stats.components import Run
    >>> runs = [Run("A", 0, {"mse": 0.01, "mse_mean_image": 0.03}), Run("A", 1, {"mse": 0.05, "mse_mean_image": 0.03}),
    ...         Run("B", 0, {"mse": 0.02, "mse_mean_image": 0.03})]
    >>> collapsed_runs(Build(runs))
    {'A': (1, 2)}
    """
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
