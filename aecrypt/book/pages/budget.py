"""The training budget on the *Results vs. paper* page: how far this build's autoencoders trained against the
paper's step budget, which runs did not train, whether each combination had converged, and the long runs
(`make bench-convergence`) that trained the named combinations to the paper's budget — with the check of the
convergence projection against them, which sets the gate's bound."""

from __future__ import annotations

import math

import pandas as pd

from aecrypt import paths
from aecrypt.book.page import md
from aecrypt.budget import PAPER_STEPS
from aecrypt.runs import longrun
from aecrypt.runs.results import Results
from aecrypt.stats import convergence as convergence_tests
from aecrypt.stats import longruns, training
from aecrypt.stats.findings import LOG_MARGIN
from aecrypt.stats.training import RULE, Gate, not_trained


def histories(results: Results) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    ok = results.ok
    return {r: results.history(r) for r in ok["run_id"]}, dict(zip(ok["run_id"], ok["label"], strict=True))


def run_steps(results: Results) -> dict[str, float]:
    """{run id: its autoencoder's optimizer steps} (`stats.training.run_steps`)."""
    return dict(zip(results.ok["run_id"], training.run_steps(results.ok, results.settings), strict=True))


def gate(results: Results) -> Gate:
    """What the claim tests know about this build's training: its steps, its runs that did not train, and
    (short of the paper's step budget) each combination's projected further fall of its training loss."""
    steps = run_steps(results)
    ok = results.ok.assign(ae_steps=results.ok["run_id"].map(steps))
    short = bool(steps) and min(steps.values()) < PAPER_STEPS
    projected = convergence_tests.projections(*histories(results), steps) if short else {}
    factor = cover_factor(results)
    if math.isinf(factor):
        return Gate.of(ok, projected, unbounded=True)
    return Gate.of(ok, {g: v * factor for g, v in projected.items()})


def has_long_runs(results: Results) -> bool:
    """Whether this build's claims can rest on the long runs: the default profile on the embedded X-rays (the
    data, size and split they trained on) with a long-run record beside it."""
    return (
        results.profile == longrun.PROFILE
        and results.data_spec == "nih-embedded"
        and paths.convergence_json(longrun.PROFILE, results.root).is_file()
    )


def long_curves(results: Results) -> pd.DataFrame | None:
    """The long runs' training loss in blocks of steps, where this build's claims can rest on them."""
    return longrun.curves(results.root) if has_long_runs(results) else None


def convergence(results: Results) -> pd.DataFrame:
    """Per combination: its autoencoder steps, its runs that did not train, the fall per epoch at the end of
    training, the projected further fall to the paper's step budget, and whether that fall, scaled by the gate's
    bound (`cover_factor`), is within the 1.25× margin (converged; never where the bound is infinite)."""
    steps = run_steps(results)
    conv = convergence_tests.table(*histories(results), steps)
    ok = results.ok.assign(ae_steps=results.ok["run_id"].map(steps), not_trained=not_trained(results.ok))
    per = ok.groupby("label", sort=False).agg(steps=("ae_steps", "median"), bad=("not_trained", "sum"))
    conv.insert(1, "steps", conv["combination"].map(per["steps"]).astype(int))
    conv.insert(2, "not trained", conv["combination"].map(per["bad"]).astype(int))
    factor = cover_factor(results)
    bounded = conv[convergence_tests.PROJECTED] * factor <= LOG_MARGIN if math.isfinite(factor) else False
    conv["converged"] = bounded
    return conv


def convergence_facts(results: Results) -> dict:
    conv, found = convergence(results), gate(results)
    projected = conv[convergence_tests.PROJECTED]
    collapsed = found.collapsed
    return {
        "budget_line": found.line(),
        "budget_share": found.share(),
        "paper_steps": f"{PAPER_STEPS:,}",
        "n_combos": len(conv),
        "n_beyond_margin": int((projected > LOG_MARGIN).sum()),
        "largest_projected": convergence_tests.factor_text(projected.max()) if len(conv) else "—",
        "n_collapsed_combos": len(collapsed),
        "n_collapsed_runs": sum(k for k, _ in collapsed.values()),
        "not_trained_rule": RULE,
    }


def convergence_html(results: Results) -> str:
    conv = convergence(results)
    conv["projected fall to the paper's steps"] = conv.pop(convergence_tests.PROJECTED).map(
        convergence_tests.factor_text
    )
    collapsed = conv["not trained"] == conv["seeds"]  # a flat curve that never started is no convergence
    conv["not trained"] = conv["not trained"].astype(str) + " of " + conv.pop("seeds").astype(str)
    conv["converged"] = conv["converged"].map({True: "yes", False: "no"}).where(~collapsed, "— (not trained)")
    return conv.to_html(
        index=False,
        formatters={
            "fall per epoch at the end": "{:.1%}".format,
            "steps": "{:,}".format,
        },
    )


def not_trained_figure(results: Results):
    """Every run against the mean image on both measures of the not-trained rule."""
    from aecrypt.figures.training import not_trained_runs

    return not_trained_runs(results.summary)


def loss_curves_figure(results: Results):
    """Every run's autoencoder training loss against steps, per optimizer, with the long runs where recorded."""
    from aecrypt.figures.training import loss_curves

    history = histories(results)[0]
    per_epoch = {
        r: s / max(1, int((history[r]["model"] == "autoencoder").sum())) for r, s in run_steps(results).items()
    }
    built = max(run_steps(results).values(), default=0.0)
    return loss_curves(results.summary, history, per_epoch, built, long_curves(results))


# --- the long runs ---------------------------------------------------------------------------------------------


def long_record(results: Results) -> pd.DataFrame | None:
    """The long runs' record (`runs.longrun.record`), where this build's claims can rest on them."""
    return longrun.record(results.root) if has_long_runs(results) else None


def projection_check(results: Results) -> pd.DataFrame:
    """Per finished long run: the projection from its first `convergence.CHECKED_FROM` steps (the default's
    length and five times it) to the paper's budget, against where its loss really went
    (`stats.convergence.projection_errors`)."""
    columns = ["label", "seed", "from steps", "to steps", "projected", "actual", "under"]
    curves, rec = long_curves(results), long_record(results)
    if curves is not None and rec is not None:  # only runs that reached the paper's budget say where it ends
        done = {(r.label, r.seed) for r in rec[rec["done"]].itertuples()}
        curves = curves[[(g, s) in done for g, s in zip(curves["label"], curves["seed"], strict=True)]]
    if curves is None or curves.empty:
        return pd.DataFrame(columns=columns)
    frames = [
        convergence_tests.projection_errors(run).assign(label=label, seed=seed)
        for (label, seed), run in curves.groupby(["label", "seed"], sort=False)
    ]
    return pd.concat(frames, ignore_index=True)[
        ["label", "seed", "from steps", "to steps", "projected", "actual", "under"]
    ]


def cover_factor(results: Results) -> float:
    """The gate's bound: the factor by which every projection is scaled so that it covers every under-prediction
    the long runs showed (1 where none was observed or no long run finished a check; infinite where a projection
    of no fall was followed by one beyond the margin, which no factor covers)."""
    check = projection_check(results)
    under = check[check["under"] > 0]
    if under.empty:
        return 1.0
    if ((under["projected"] <= 0) & (under["actual"] > LOG_MARGIN)).any():
        return math.inf
    scaled = under[under["projected"] > 0]
    return float(max(1.0, (scaled["actual"] / scaled["projected"]).max())) if len(scaled) else 1.0


def long_facts(results: Results) -> dict:
    rec = long_record(results)
    factor = cover_factor(results)
    done = 0 if rec is None else int(rec["done"].sum())
    planned = len(longrun.planned())
    if rec is None:
        state = (
            "No long run has been recorded beside this build: `make bench-convergence HOURS=…` trains them (hours "
            "of CPU on 2 cores, in as many sittings as it takes) and the book then shows them here."
        )
    else:
        state = (
            f"{done} of the {planned} planned long runs have reached the paper's {PAPER_STEPS:,} steps; the others "
            f"stand where the table shows (`make bench-convergence` resumes them)."
        )
    bound = (
        "No long run has yet shown the projection falling short, so the gate uses it as it is."
        if factor == 1.0
        else (
            "A long run fell further than any projection of no fall allowed, so the gate holds back every "
            "ranking made short of the paper's budget."
            if math.isinf(factor)
            else f"The long runs fell up to {factor:.2g}× as far as projected, so the gate scales every "
            "projection by that factor."
        )
    )
    return {
        "long_state": md(state),
        "long_bound": md(bound),
        "checked_from": md(" and first ".join(f"{n:,}" for n in convergence_tests.CHECKED_FROM)),
        "long_planned": planned,
        "long_train": f"{longrun.TRAIN:,}",
        "long_min_test": longrun.MIN_TEST,
        "long_label": longruns.AT_PAPER_BUDGET,
    }


def long_runs_html(results: Results) -> str:
    """The long runs: steps reached, final and best checkpoint's MSE, SSIM and AUC on the retrieved test images,
    wall and CPU time."""
    rec = long_record(results)
    if rec is None:
        return "<p><i>No long runs recorded.</i></p>"
    columns = {
        "label": "combination",
        "seed": "seed",
        "steps": "steps",
        "final_mse": "final MSE",
        "final_ssim": "final SSIM",
        "final_auc": "final AUC",
        "best_step": "best at step",
        "best_mse": "best MSE",
        "best_auc": "best AUC",
    }
    frame = rec.reindex(columns=list(columns)).rename(columns=columns)
    frame["steps"] = frame["steps"].map("{:,}".format)
    frame["best at step"] = frame["best at step"].map(lambda v: "—" if pd.isna(v) else f"{int(v):,}")
    minutes = zip(rec["wall_s"] / 60, rec["cpu_s"] / 60, strict=True)
    frame["wall / CPU (min)"] = [f"{w:.0f} / {c:.0f}" for w, c in minutes]
    table = frame.to_html(index=False, na_rep="—", float_format=lambda v: f"{v:.3g}")
    return f'<div style="font-size:0.85em">{table}</div>'


def projection_html(results: Results) -> str:
    check = projection_check(results)
    if check.empty:
        most = convergence_tests.CHECKED_FROM[-1]
        return f"<p><i>No long run has passed {most:,} steps yet: nothing to check the projection against.</i></p>"
    return check.rename(columns={"label": "combination"}).to_html(index=False, float_format=lambda v: f"{v:.3g}")
