"""Which hyperparameter moves a metric most: the pages of Figs. 6 and 8 say it in one sentence."""

from __future__ import annotations

import pandas as pd

from aecrypt.runs.results import Results


def factor_effects(results: Results, metric: str) -> pd.DataFrame:
    """For each hyperparameter that varies: the median of `metric` per level, and the spread
    (largest − smallest median), largest spread first."""
    ok = results.ok
    rows = []
    for factor in ("loss", "optimizer", "depth", "activation"):
        medians = ok.groupby(factor)[metric].median()
        if len(medians) > 1:
            rows.append(
                {
                    "factor": factor,
                    "lowest": f"{medians.idxmin()} ({medians.min():.3g})",
                    "highest": f"{medians.idxmax()} ({medians.max():.3g})",
                    "spread": medians.max() - medians.min(),
                }
            )
    return pd.DataFrame(rows).sort_values("spread", ascending=False, ignore_index=True) if rows else pd.DataFrame()


def effects_sentence(results: Results, metric: str, name: str) -> str:
    effects = factor_effects(results, metric)
    if effects.empty:
        return f"No hyperparameter varies in this build, so no factor's effect on {name} can be seen."
    top = effects.iloc[0]
    return (
        f"Of the hyperparameters, **{top['factor']}** moves the median {name} most: from {top['lowest']} to "
        f"{top['highest']}."
    )
