"""The *How sure are the verdicts?* page: the calibration record of this build (`make bench-verdicts`, or make
book's quick one) as two tables, each rule's false-verdict rates and its power per design, and the sentences
other pages quote from it."""

from __future__ import annotations

import pandas as pd

from aecrypt import paths
from aecrypt.book import page
from aecrypt.files import read_json
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line
from aecrypt.stats.findings import ALPHA


def record(results: Results) -> dict | None:
    """The build's calibration record, or None where none has run."""
    found = read_json(paths.verdicts_json(results.profile, results.root))
    return found or None


def _design(row: dict) -> str:
    return f"{row['seeds']} seeds · {row['test images']} test images"


def _pivot(rows: pd.DataFrame, value: str, cell) -> pd.DataFrame:
    rows = rows.assign(design=[_design(r) for r in rows.to_dict("records")])
    rows["cell"] = [cell(r) for r in rows.to_dict("records")]
    designs = list(dict.fromkeys(rows["design"]))
    keys = ["rule", "truth", value]
    table = rows.pivot_table(index=keys, columns="design", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=designs).reset_index().fillna("—")
    table.columns.name = None
    return table


def error_table(rec: dict) -> pd.DataFrame:
    """Where the truth contradicts a verdict: how often the rule gave it, with its 99 % upper bound."""
    rows = pd.DataFrame(rec["rows"])
    rows = rows[rows["wrong verdict"] != ""]
    table = _pivot(rows, "wrong verdict", lambda r: f"{r['error rate']:.1%} (≤ {r['error 99 % bound']:.1%})")
    return table.rename(columns={"wrong verdict": "the wrong verdict"})


def power_table(rec: dict) -> pd.DataFrame:
    """Where a verdict is right: how often the rule reached it."""
    rows = pd.DataFrame(rec["rows"])
    rows = rows[rows["right verdict"] != ""]
    return _pivot(rows, "right verdict", lambda r: f"{r['power']:.0%}").rename(
        columns={"right verdict": "the right verdict"}
    )


def worst_error(rec: dict) -> dict:
    """The largest false-verdict rate in the record, and where."""
    rows = pd.DataFrame(rec["rows"]).dropna(subset=["error rate"])
    top = rows.loc[rows["error rate"].idxmax()]
    return {"rate": float(top["error rate"]), "bound": float(top["error 99 % bound"]), "where": top.to_dict()}


def power_of(rec: dict, rule: str, truth: str, seeds: int | None = None) -> float | None:
    """One power from the record (at `seeds`, else at the build's own design: the first row of the rule)."""
    rows = [r for r in rec["rows"] if r["rule"] == rule and r["truth"] == truth and r["power"] is not None]
    if seeds is not None:
        rows = [r for r in rows if r["seeds"] == seeds]
    return rows[0]["power"] if rows else None


def _html(table: pd.DataFrame):
    return page.html(table.to_html(index=False, justify="left"))


def facts(results: Results) -> dict:
    """What the page's prose glues."""
    rec = record(results)
    if rec is None:  # the prose still reads: every value says the record is missing
        missing = "(no calibration record in this build)"
        keys = ("replicates", "allowed", "noise", "seconds", "machine", "worst_rate", "worst_bound", "worst_where")
        return dict.fromkeys(keys, missing) | {"alpha": f"{ALPHA:g}"}
    worst = worst_error(rec)
    return {
        "replicates": rec["replicates"],
        "allowed": f"{rec['allowed']} of {rec['replicates']}",
        "noise": rec["noise"],
        "seconds": f"{rec['seconds']:.0f}",
        "machine": cpu_line(rec["cpu"]),
        "worst_rate": f"{worst['rate']:.1%}",
        "worst_bound": f"{worst['bound']:.1%}",
        "worst_where": f"{worst['where']['rule']}, {worst['where']['truth']} ({_design(worst['where'])})",
        "alpha": f"{ALPHA:g}",
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
    out += [page.md("**False verdicts** (rate, and its one-sided 99 % upper bound):"), _html(error_table(rec))]
    out += [page.md("**Power** (how often the right verdict came):"), _html(power_table(rec))]
    return out
