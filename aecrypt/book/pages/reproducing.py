"""The *Reproducing* page: every run with a link to its notebook, the profiles, and this build's environment."""

from __future__ import annotations

import html

import pandas as pd

from aecrypt.book.page import md, run_link, seed_text
from aecrypt.paper import parameters
from aecrypt.profiles import PROFILES, get_profile
from aecrypt.runs.results import Results
from aecrypt.runtime import cpu_line


def run_table(results: Results, link_prefix: str = "../runs/") -> pd.DataFrame:
    """Every run of the build with a link to its executed notebook (HTML copied by `aecrypt book`). Every text
    cell is escaped (a label, note or error may hold anything, e.g. `<class 'float'>`), so the table is HTML
    with only the links as markup."""
    table = results.summary.copy()
    for column in table.columns:
        table[column] = [html.escape(v) if isinstance(v, str) else v for v in table[column]]

    def link(r):
        return run_link(r["run_id"], r["run_id"], link_prefix) if r["status"] in ("ok", "failed") else ""

    table["notebook"] = table.apply(link, axis=1)
    table = table.rename(columns={"cipher_pixel_max_difference": "cipher pixel Δ"})
    cols = ["label", "seed", "status", "notebook", "mse", "auc", "cipher pixel Δ", "seconds_per_epoch", "run_seconds"]
    cols += ["note", "error"]
    return table[[c for c in cols if c in table.columns]]


def profile_table() -> pd.DataFrame:
    """Every profile as one readable row: size, images and how they are split, epochs, numerics, purpose."""
    rows = []
    for p in PROFILES.values():
        if p.split_counts:
            images = f"{p.n_images or 'all'} ({p.n_train} / {p.n_val} / {p.n_test or 'the rest'})"
        else:
            images = f"{p.n_images or 'all'} ({1 - p.test_fraction - p.val_fraction:.0%} / {p.val_fraction:.0%} / "
            images += f"{p.test_fraction:.0%})"
        rows.append(
            {
                "profile": p.name,
                "image": f"{p.size}²",
                "data": p.default_data,
                "images (train / val / test)": images,
                "epochs (AE / classifier)": f"{p.ae_epochs} / {p.clf_epochs}",
                "training seeds": p.seeds,
                "batch": p.batch_size,
                "numerics": p.dtype_policy + (" + XLA" if p.jit_compile else ""),
                "for": p.description,
            }
        )
    return pd.DataFrame(rows)


def _default_text(entry: dict) -> str:
    if entry.get("optional") and not entry["default"]:
        return "absent"
    return "empty" if entry["default"] == "" else str(entry["default"])


def parameter_table() -> pd.DataFrame:
    """Every run parameter (`paper.parameters`, the one definition): its default, who sets it, what it means."""
    who = {"build": "the build (one value for all its runs)", "combination": "a grid or --set", "run": "the sweep"}
    rows = []
    for name, entry in parameters.PARAMETERS.items():
        rows.append(
            {
                "parameter": name,
                "default": _default_text(entry),
                "notebooks": ", ".join(entry["templates"]),
                "set by": who[entry["level"]],
                "meaning": parameters.describe(name),
            }
        )
    return pd.DataFrame(rows)


def environment_table(env: dict) -> pd.DataFrame:
    """A run's env.json as label-value rows (the CPU on one line)."""
    env = dict(env)
    cpu = env.pop("cpu", None)
    if cpu:
        env["cpu"] = cpu_line(cpu)
    return pd.Series(env, name="value").to_frame()


def baseline_links(results: Results, link_prefix: str = "../runs/") -> str:
    """Links to the shared baseline runs (the classifier on the original images, one per seed)."""
    if "baseline_run_id" not in results.ok:
        return "no baseline run finished"
    pairs = results.ok[["seed", "baseline_run_id"]].dropna().drop_duplicates().sort_values("seed")
    links = ", ".join(run_link(r, f"seed {seed_text(s)}", link_prefix) for s, r in pairs.itertuples(index=False))
    if "nocipher_run_id" in results.ok and results.ok["nocipher_run_id"].notna().any():
        refs = results.ok[results.ok["nocipher_run_id"].notna()].sort_values("seed")
        links += f"; the reference runs without the cipher ({html.escape(str(refs['label'].iloc[0]))}): " + ", ".join(
            run_link(r, f"seed {seed_text(s)}", link_prefix)
            for s, r in refs[["seed", "nocipher_run_id"]].itertuples(index=False)
        )
    return links


def build_facts(results: Results) -> dict:
    """How many runs, and how many minutes of run time (summed over parallel workers); each profile's seeds."""
    return {
        "total_min": f"{results.ok['run_seconds'].sum() / 60:.1f}",
        "n_runs": len(results.summary),
        "profile_seeds": md(profile_seeds()),
        "real_seeds": get_profile("real").seeds,
    }


def profile_seeds() -> str:
    """Each profile's number of training seeds, as the prose says it: "1 at `tiny`, 3 at `default`, …"."""
    by_count: dict[int, list[str]] = {}
    for p in PROFILES.values():
        by_count.setdefault(p.seeds, []).append(f"`{p.name}`")
    return ", ".join(f"{n} at {' and '.join(names)}" for n, names in by_count.items())


def run_table_html(results: Results) -> str:
    return run_table(results).to_html(index=False, escape=False, na_rep="", float_format=lambda v: f"{v:.4g}")


def environment_html(results: Results) -> str:
    return environment_table(results.env()).to_html()


def baseline_html(results: Results) -> str:
    return f"<p>The shared baseline (classifier on the original images): {baseline_links(results)}.</p>"
