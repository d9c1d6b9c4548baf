"""What a test of one of the paper's claims returns (a `Finding`), the four verdicts it can give, and which
planned runs a table is missing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from aecrypt import UsageError

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable here"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE)
ALPHA = 0.05  # every claim is decided at this level
#: Margins fixed in advance: "very close" and "more layers do not improve" mean within ±0.03 AUC, and within
#: 1.25× MSE (log10 scale).
AUC_MARGIN = 0.03
MSE_RATIO_MARGIN = 1.25
LOG_MARGIN = math.log10(MSE_RATIO_MARGIN)
#: "More epochs decrease the loss" means a fall of more than 5 % from one checkpoint to the next (log10 scale): a
#: smaller change is a plateau. Fixed before any build: the default build's losses scatter about 3 % between seeds
#: at a checkpoint, so a 5 % fall is the smallest that a handful of seeds can tell from that scatter.
EPOCH_RATIO_MARGIN = 1.05
EPOCH_LOG_MARGIN = math.log10(EPOCH_RATIO_MARGIN)


@dataclass
class Finding:
    """One claim's test. `outcome` is what the test says on this build's data; `verdict` is what the book
    concludes (the same, or "not testable here" where the data cannot speak to the claim)."""

    claim: str
    paper: str
    test: str
    measured: str
    outcome: str
    verdict: str = ""
    decide: str = ""  # what would settle an inconclusive outcome
    notes: list[str] = field(default_factory=list)
    effect: str = ""  # the effect with its interval, on one line (the scorecard's)
    decide_short: str = ""  # `decide` on one line (the scorecard's); empty: `decide` is short already
    budget: str = ""  # for a claim about trained models: "trained for N steps, P % of the paper's S"

    def __post_init__(self):
        self.verdict = self.verdict or self.outcome
        for v in (self.outcome, self.verdict):
            if v.split(" (")[0] not in VERDICTS:
                raise UsageError(f"unknown verdict {v!r}; valid: {', '.join(VERDICTS)}")

    def on_phantoms(self) -> Finding:
        """The same test, read as what it is on synthetic data: a measurement on phantoms, not a verdict on
        the paper's X-rays."""
        self.verdict = f"{NOT_TESTABLE} (phantoms)"
        return self

    def as_row(self) -> dict:
        """The claims table's row: the claim with where the paper makes it, the verdict (and, where that is
        not the test's own outcome, as on phantoms, the outcome), what was measured and what would decide,
        and the test."""
        notes = " ".join(self.notes)
        verdict = self.verdict if self.verdict == self.outcome else f"{self.verdict}; on this data: {self.outcome}"
        decide = f" To decide: {self.decide}." if self.decide and self.outcome.startswith(INCONCLUSIVE) else ""
        budget = f" ({self.budget[0].upper()}{self.budget[1:]}.)" if self.budget else ""
        return {
            "claim (where the paper makes it)": f"{self.claim} ({self.paper})",
            "verdict": verdict,
            "this build": self.measured + budget + (f" {notes}" if notes else "") + decide,
            "test": self.test,
        }


@dataclass(frozen=True)
class Coverage:
    """How many of a table's planned runs finished, and which did not (never silently dropped from n)."""

    planned: int
    finished: int
    missing: list[str]

    def sentence(self) -> str:
        if not self.missing:
            return f"All {self.planned} runs finished."
        shown = ", ".join(self.missing[:6]) + (" …" if len(self.missing) > 6 else "")
        return f"{self.finished} of {self.planned} runs finished; not in n: {shown}."


def coverage(table: pd.DataFrame) -> Coverage:
    """How many of a results table's planned runs finished, and which did not.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per planned run, with columns label, seed and status ("ok" finished; "skipped" was never
        planned; anything else failed).

    Returns
    -------
    Coverage
        The planned runs (all but the skipped), those finished, and each other run as "label · seed N (status)"
        (seed "?" where it is missing).

    Examples
    --------
    >>> runs = pd.DataFrame({"label": ["A", "A", "B", "B"], "seed": [0, 1, 0, None],
    ...                      "status": ["ok", "failed", "ok", "skipped"]})
    >>> coverage(runs)
    Coverage(planned=3, finished=2, missing=['A · seed 1 (failed)'])
    >>> coverage(runs).sentence()
    '2 of 3 runs finished; not in n: A · seed 1 (failed).'
    """
    runs = table[table["status"] != "skipped"]
    bad = runs[runs["status"] != "ok"]
    names = [f"{r.label} · seed {_int(r.seed)} ({r.status})" for r in bad.itertuples()]
    return Coverage(len(runs), len(runs) - len(bad), names)


def _int(x) -> str:
    return "?" if x is None or (isinstance(x, float) and math.isnan(x)) else str(int(x))
