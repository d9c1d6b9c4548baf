"""The *How sure are the verdicts?* page: the calibration record of this build (`make bench-verdicts`, or make
book's quick one) as tables per kind of noise, each rule's false-verdict rates and its power per design, and
the sentences other pages quote from it."""

from __future__ import annotations

import pandas as pd

from aecrypt import paths
from aecrypt.book import page
from aecrypt.files import read_json
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line
from aecrypt.stats.calibration import replicates_to_detect
from aecrypt.stats.findings import ALPHA


def record(results: Results) -> dict | None:
    """The build's calibration record, or None where none has run."""
    found = read_json(paths.verdicts_json(results.profile, results.root))
    return found or None


#: The kind of noise a row was simulated with, in a record written before kinds were named.
TRAINED = "trained"


def _noise(row: dict) -> str:
    return row.get("noise") or TRAINED


def _design(row: dict) -> str:
    return f"{row['seeds']} seeds · {row['test images']} test images"


#: The verdicts as the tables abbreviate them (the page gives the key).
SHORT = {"reproduced": "R", "not reproduced": "NR"}


def _short(verdicts: str) -> str:
    return " or ".join(SHORT.get(v, v) for v in verdicts.split(" or "))


def kinds(rec: dict) -> list[str]:
    """The kinds of noise in the record, in its order."""
    return list(dict.fromkeys(_noise(r) for r in rec["rows"]))


def _of(rec: dict, kind: str) -> pd.DataFrame:
    return pd.DataFrame([r for r in rec["rows"] if _noise(r) == kind])


def _pivot(rows: pd.DataFrame, value: str, cell) -> pd.DataFrame:
    rows = rows.assign(design=[_design(r) for r in rows.to_dict("records")])
    rows["cell"] = [cell(r) for r in rows.to_dict("records")]
    designs = list(dict.fromkeys(rows["design"]))
    keys = ["rule", "truth", value]
    table = rows.pivot_table(index=keys, columns="design", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=designs).reset_index().fillna("—")
    table.columns.name = None
    return table


def _error_cell(row: dict) -> str:
    """The more frequent wrong verdict's rate and its 99 % bound (naming it where two were wrong)."""
    named = " or " in row.get("wrong verdicts", "") and row["error rate"] > 0
    which = f" {_short(row['wrong verdict'])}" if named else ""
    return f"{row['error rate']:.1%} (≤ {row['error 99 % bound']:.1%}){which}"


def error_table(rec: dict, kind: str = TRAINED) -> pd.DataFrame:
    """Where the truth contradicts a verdict: how often the rule gave it (the more frequent, where both decided
    verdicts are wrong), with its 99 % upper bound, per design, for one kind of noise."""
    rows = _of(rec, kind)
    rows = rows[rows["wrong verdict"] != ""]
    if "wrong verdicts" not in rows:
        rows = rows.assign(**{"wrong verdicts": rows["wrong verdict"]})
    rows = rows.assign(**{"wrong verdicts": rows["wrong verdicts"].map(_short)})
    table = _pivot(rows, "wrong verdicts", _error_cell)
    return table.rename(columns={"wrong verdicts": "wrong there"})


def power_table(rec: dict, kind: str = TRAINED) -> pd.DataFrame:
    """Where a verdict is right: how often the rule reached it, per design, for one kind of noise."""
    rows = _of(rec, kind)
    rows = rows[rows["right verdict"] != ""]
    rows = rows.assign(**{"right verdict": rows["right verdict"].map(_short)})
    return _pivot(rows, "right verdict", lambda r: f"{r['power']:.0%}").rename(columns={"right verdict": "right"})


def worst_error(rec: dict) -> dict:
    """The largest false-verdict rate in the record, and where."""
    rows = pd.DataFrame(rec["rows"]).dropna(subset=["error rate"])
    top = rows.loc[rows["error rate"].idxmax()]
    return {"rate": float(top["error rate"]), "bound": float(top["error 99 % bound"]), "where": top.to_dict()}


def power_of(rec: dict, rule: str, truth: str, seeds: int | None = None, kind: str = TRAINED) -> float | None:
    """One power from the record, for one kind of noise (at `seeds`, else at the build's own design: the first
    row of the rule)."""
    rows = [
        r
        for r in rec["rows"]
        if r["rule"] == rule and r["truth"] == truth and r["power"] is not None and _noise(r) == kind
    ]
    if seeds is not None:
        rows = [r for r in rows if r["seeds"] == seeds]
    return rows[0]["power"] if rows else None


def beaten_row(rec: dict, seeds: int, rule: str = "best ROC curve", kind: str = TRAINED) -> dict | None:
    """The record's row where a rival beats the combination `rule` names (its truth names both), at `seeds`."""
    rows = [
        r
        for r in rec["rows"]
        if r["rule"] == rule
        and " better than " in r["truth"]
        and r["power"] is not None
        and _noise(r) == kind
        and r["seeds"] == seeds
        and not r["truth"].endswith("than all")
    ]
    return rows[0] if rows else None


def where(row: dict) -> str:
    """A row named in prose: its rule, truth, noise and design."""
    return f"{row['rule']}, {row['truth']}; {_noise(row)}, {_design(row)}"


def _html(table: pd.DataFrame):
    return page.wide_table(table)


def facts(results: Results) -> dict:
    """What the page's prose glues."""
    rec = record(results)
    if rec is None:  # the prose still reads: every value says the record is missing
        missing = "(no calibration record in this build)"
        keys = ("replicates", "allowed", "noise", "seconds", "machine", "worst_rate", "worst_bound", "worst_where")
        return dict.fromkeys(keys, missing) | {"alpha": f"{ALPHA:g}", "test_replicates": replicates_to_detect()}
    worst = worst_error(rec)
    return {
        "replicates": rec["replicates"],
        "allowed": f"{rec['allowed']} of {rec['replicates']}",
        "noise": rec["noise"],
        "seconds": f"{rec['seconds']:.0f}",
        "machine": cpu_line(rec["cpu"]),
        "worst_rate": f"{worst['rate']:.1%}",
        "worst_bound": f"{worst['bound']:.1%}",
        "worst_where": where(worst["where"]),
        "alpha": f"{ALPHA:g}",
        "test_replicates": replicates_to_detect(),
    }


def sections(results: Results) -> list:
    """The page's tables, or how to make them."""
    rec = record(results)
    if rec is None:
        return [
            page.admonition(
                "No calibration record in this build",
                f"`make book` writes a quick one; `make bench-verdicts PROFILE={results.profile}` the full table "
                f"(or `.venv/bin/python benchmarks/verdicts.py --profile {results.profile}`).",
            )
        ]
    out = []
    if rec["quick"]:
        out.append(
            page.admonition(
                "A quick table",
                f"{rec['replicates']} simulated builds per row at this build's own design, as `make book` runs it "
                f"({rec['seconds']:.0f} s): a rate's 99 % bound is wide. `make bench-verdicts PROFILE="
                f"{results.profile}` runs more builds per row, at more designs (seeds × test images).",
                "note",
            )
        )
    for kind in kinds(rec):
        out.append(page.md(f"### {KIND_TITLES.get(kind, kind)}\n\n{KIND_NOTES.get(kind, '')}"))
        out += [page.md(ERRORS_HEAD), _html(error_table(rec, kind))]
        if not (power := power_table(rec, kind)).empty:
            out += [page.md("**Power**: how often the right verdict came (R or NR, as above):"), _html(power)]
    return out


ERRORS_HEAD = (
    "**False verdicts**: the rate of the wrong verdict (R: *reproduced*, NR: *not reproduced*; where both are "
    "wrong, the more frequent, named), and its one-sided 99 % upper bound:"
)

#: How the page heads and explains each kind of noise (`benchmarks/verdicts.py` names them).
KIND_TITLES = {
    "as this build decides": "As this build decides",
    TRAINED: "The rules themselves (every run trains)",
}
KIND_NOTES = {
    "as this build decides": "This build's own share of runs that did not train, left out as the build leaves "
    "them out, and its convergence gate: what this build can decide at its training length.",
    TRAINED: "Every run trains and no convergence gate holds a verdict back, as at the paper's step budget: "
    "the rules' own error rates and power, at this build's design and others (seeds × test images).",
}
