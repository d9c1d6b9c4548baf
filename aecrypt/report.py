"""What the book pages show beside the figures: which build this is, the best combinations,
the paper's claims beside this build's measurements, and the table of runs. Pages call these
functions; they hold no logic of their own."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import AecryptError, audit, packets, paths, verdicts
from .profiles import PAPER_CHECKPOINTS, get_profile
from .runs import combination_label
from .statistics import SCORE_RANGE, auc_interval, t_interval

NIH_ATTRIBUTION = (
    "Chest X-rays from the NIH Clinical Center ChestX-ray14 release (Wang et al., *ChestX-ray8: Hospital-scale "
    "Chest X-ray Database and Benchmarks on Weakly-Supervised Classification and Localization of Common Thorax "
    "Diseases*, CVPR 2017), provided by the NIH Clinical Center."
)
MEDMNIST_ATTRIBUTION = (
    "Images from MedMNIST (Yang et al., *MedMNIST v2: A large-scale lightweight benchmark for 2D and 3D biomedical "
    "image classification*, Scientific Data 10, 41, 2023), CC BY 4.0; PneumoniaMNIST is derived from Kermany et al. "
    "(Cell 172, 2018) and ChestMNIST from the NIH Clinical Center ChestX-ray14 release (Wang et al., CVPR 2017)."
)

# The paper's statements about its results (abstract, Sec. 4, Fig. 10 text, conclusion).
PAPER_BEST_AE = [("abstract", "msle", "adagrad", "relu", 2), ("Fig. 6 text", "msle", "adam", "relu", 3)]
PAPER_BEST_CLF = ("abstract", "mse", "rmsprop", "relu", 3)
PAPER_BEST_ROC = ("Fig. 10 text", "msle", "adagrad", "relu", 2)
#: The Fig. 10 text's order of the best ROC curves (its third is also called "five CNN").
PAPER_ROC_RANKING = ("MSLE+Adagrad+ReLU+2", "MSLE+Adam+ReLU+2", "MSLE+Adam+ReLU+3")
PAPER_EPOCH_SECONDS = (9.0, 16.0)


@dataclass
class Results:
    """The results of one profile: summary.csv and the run folders it points to."""

    profile: str
    root: Path

    @classmethod
    def current(cls) -> Results:
        """The build's profile and results folder (set by `aecrypt book` / `make book`)."""
        return cls(os.environ.get("AECRYPT_PROFILE", "default"), paths.results_root())

    @cached_property
    def summary(self) -> pd.DataFrame:
        path = paths.summary_csv(self.profile, self.root)
        if not path.is_file():
            raise AecryptError(f"no results table at {path}; run `make sweep PROFILE={self.profile}` first")
        return pd.read_csv(path, keep_default_na=False, na_values=[""])

    @property
    def ok(self) -> pd.DataFrame:
        """Finished runs: one row per combination and training seed."""
        return self.summary[self.summary["status"] == "ok"].reset_index(drop=True)

    @property
    def seeds(self) -> list[int]:
        """The training seeds of the finished runs."""
        return sorted(int(s) for s in self.ok["seed"].dropna().unique())

    @property
    def data_seed(self) -> int:
        return int(self.ok["data_seed"].iloc[0]) if "data_seed" in self.ok and len(self.ok) else 0

    @property
    def labels(self) -> list[str]:
        """The combinations with at least one finished run, in grid order."""
        return list(dict.fromkeys(self.ok["label"]))

    def mean_by_combination(self, metric: str) -> pd.Series:
        return self.ok.groupby("label", sort=False)[metric].mean()

    def runs_of(self, label: str) -> pd.DataFrame:
        return self.ok[self.ok["label"] == label].sort_values("seed")

    def scores(self, run_id: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir(run_id) / "scores.csv")

    @cached_property
    def auc_intervals(self) -> pd.DataFrame:
        """DeLong 95 % interval of every finished run's AUC (and of each shared baseline's), by run id."""
        ids = list(self.ok["run_id"]) + list(self.ok.get("baseline_run_id", pd.Series(dtype=str)).dropna().unique())
        ids += list(self.ok.get("nocipher_run_id", pd.Series(dtype=str)).dropna().unique())
        rows = []
        for rid in dict.fromkeys(ids):
            scores = self.scores(rid)
            ci = auc_interval(scores["label"], scores["score"])
            rows.append({"run_id": rid, "auc": ci.estimate, "delong_low": ci.low, "delong_high": ci.high})
        return pd.DataFrame(rows).set_index("run_id")

    @cached_property
    def plan(self) -> dict:
        """The sweep's plan.json (its size, seeds and skipped combinations); empty before a sweep."""
        path = paths.profile_dir(self.profile, self.root) / "plan.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @property
    def settings(self):
        """The profile as this build ran it: at a smaller image size when the images were smaller."""
        p = get_profile(self.profile)
        size = self.plan.get("size") or p.size
        return p if size == p.size else replace(p, size=size)

    def run_dir(self, run_id: str) -> Path:
        return paths.runs_dir(self.profile, self.root) / run_id

    def history(self, run_id: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir(run_id) / "history.csv")

    def roc(self, run_id: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir(run_id) / "roc.csv")

    def confusion(self, run_id: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir(run_id) / "confusion.csv", index_col=0)

    def samples(self, run_id: str) -> dict[str, np.ndarray]:
        with np.load(self.run_dir(run_id) / "samples.npz") as z:
            return dict(z)

    def run_json(self, run_id: str, name: str) -> dict:
        return json.loads((self.run_dir(run_id) / name).read_text())

    def metrics(self, run_id: str) -> dict:
        return self.run_json(run_id, "metrics.json")

    @property
    def data_spec(self) -> str:
        specs = self.ok["data"].unique()
        return str(specs[0]) if len(specs) else str(self.summary["data"].dropna().iloc[0])

    @property
    def is_synthetic(self) -> bool:
        return self.data_spec == "synthetic"

    @property
    def is_nih(self) -> bool:
        return (
            "chestxray14" in self.data_spec.lower()
            or "cxr-real" in self.data_spec.lower()
            or self.data_spec.startswith("nih:")
        )

    def data_summary(self) -> dict:
        if self.ok.empty:
            raise AecryptError(f"no finished run in profile {self.profile!r}")
        return self.run_json(self.ok["run_id"].iloc[0], "data.json")

    def best(self, metric: str, lowest: bool) -> pd.Series:
        """The combination with the best mean `metric` over its seeds, as its run at the lowest seed (the
        one pages show as an example); `label` names the combination."""
        if self.ok.empty:
            raise AecryptError(f"no finished run in profile {self.profile!r}")
        means = self.mean_by_combination(metric)
        return self.runs_of(str(means.idxmin() if lowest else means.idxmax())).iloc[0]

    @property
    def best_autoencoder(self) -> pd.Series:
        return self.best("mse", lowest=True)

    @property
    def best_classifier(self) -> pd.Series:
        return self.best("auc", lowest=False)


def banner(results: Results) -> str:
    """A Markdown note for the top of every results page: which data and profile made these numbers."""
    p = results.settings
    if results.is_synthetic:
        source = (
            "**synthetic chest-radiograph phantoms** generated by `aecrypt.data.synthetic`, not the paper's NIH X-rays"
        )
    else:
        source = f"`{results.data_spec}`"
    counts = results.summary["status"].value_counts().to_dict()
    status = ", ".join(f"{n} {s}" for s, n in counts.items())
    env = results.run_json(results.ok["run_id"].iloc[0], "env.json") if len(results.ok) else {}
    backend = f" Keras {env['keras']} on {env['keras_backend']} {env.get('backend_version', '')}." if env else ""
    seeds = results.seeds
    keys = results.ok.get("key_image", pd.Series(dtype=object)).dropna().astype(str)
    key = "a key image file" if (keys != "").any() else "the data seed"
    profile_size = get_profile(results.profile).size
    size_note = f", not the profile's {profile_size}×{profile_size}: the images are smaller"
    size_note = "" if p.size == profile_size else size_note
    text = (
        f"```{{admonition}} This build\n:class: note\nProfile **{results.profile}** ({p.size}×{p.size} "
        f"images{size_note}, "
        f"{p.ae_epochs} autoencoder epochs, {p.clf_epochs} classifier epochs) on {source}. Training seeds "
        f"**{', '.join(map(str, seeds))}** (initial weights, data order: {len(seeds)} run(s) per combination); data "
        f"seed **{results.data_seed}** (the {'phantoms, ' if results.is_synthetic else ''}train/val/test split and "
        f"the paper-cipher key, from {key}) fixed. Runs: {status}.{backend} The paper used 9000 NIH chest X-rays "
        "at 200×200 and 50 epochs.\n```"
    )
    if results.is_nih:
        text += f"\n\n```{{admonition}} Data attribution\n:class: tip\n{NIH_ATTRIBUTION}\n```"
    elif results.data_spec.startswith("medmnist:") and "mnist" in Path(results.data_spec).name.lower():
        text += f"\n\n```{{admonition}} Data attribution\n:class: tip\n{MEDMNIST_ATTRIBUTION}\n```"
    return text


def convergence(results: Results) -> pd.DataFrame:
    """How fast each combination's autoencoder loss still fell at the end of training (verdicts.convergence)."""
    ok = results.ok
    labels = dict(zip(ok["run_id"], ok["label"], strict=True))
    return verdicts.convergence({r: results.history(r) for r in ok["run_id"]}, labels)


def _unconverged(results: Results) -> dict[str, float]:
    conv = convergence(results)
    late = conv[~conv["converged"]]
    return dict(zip(late["combination"], late["fall per epoch at the end"], strict=True))


#: Claims about what trained models do on X-rays: phantoms cannot test them.
MODEL_CLAIMS = ("best", "very close", "depth", "epochs")


def findings(results: Results) -> list[verdicts.Finding]:
    """Each of the paper's claims tested on this build (aecrypt.verdicts). On synthetic phantoms the claims
    about trained models keep their test but read "not testable here (phantoms)"."""
    table = results.summary
    # a ranking of optimizers is only gated where the profile trains for fewer epochs than the paper did
    shortened = results.settings.ae_epochs < PAPER_CHECKPOINTS[-1]
    stalled = _unconverged(results) if shortened else {}
    out = []
    for source, *combo in PAPER_BEST_AE:
        out.append(
            (
                "best",
                verdicts.named_best(
                    table,
                    combination_label(*combo),
                    "mse",
                    True,
                    "best autoencoder combination",
                    f"{combination_label(*combo)} ({source})",
                    log=True,
                    unconverged=stalled,
                ),
            )
        )
    for claim, (source, *combo) in (
        ("best classification combination", PAPER_BEST_CLF),
        ("best ROC curve", PAPER_BEST_ROC),
    ):
        label = combination_label(*combo)
        out.append(
            ("best", verdicts.named_best(table, label, "auc", False, claim, f"{label} ({source})", unconverged=stalled))
        )
    out.append(("very close", verdicts.very_close(table)))
    out.append(("depth", verdicts.depth_effect(table)[0]))
    out.append(("epochs", verdicts.epoch_effect(table, results.settings.checkpoints)[0]))
    out.append(("cipher", cipher_finding(results)))
    out.append(("compression", verdicts.compression(results.ok["latent_to_image_ratio"])))
    lo, hi = PAPER_EPOCH_SECONDS
    out.append(
        (
            "time",
            verdicts.epoch_time(
                results.ok["seconds_per_epoch"],
                results.settings.size,
                int(results.ok["n_train"].iloc[0]),
                machine_name(results),
                lo,
                hi,
            ),
        )
    )
    out.append(("real time", link_finding(results)))
    cov = verdicts.coverage(table)
    for kind, finding in out:
        if cov.missing and kind in MODEL_CLAIMS:
            finding.notes.append(cov.sentence())
        if results.is_synthetic and kind in MODEL_CLAIMS:
            finding.on_phantoms()
    return [f for _, f in out]


def claims(results: Results) -> pd.DataFrame:
    """Each statement the paper makes about its results: the test, what this build measured, the test's
    outcome on this build's data, and the verdict."""
    return pd.DataFrame([f.as_row() for f in findings(results)])


def _formatted(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return out


def depth_table(results: Results) -> pd.DataFrame:
    """The depth test's comparisons (verdicts.depth_effect), rounded for a page."""
    return _formatted(verdicts.depth_effect(results.summary)[1])


def epoch_table(results: Results) -> pd.DataFrame:
    """The epochs test's per-combination steps (verdicts.epoch_effect), rounded for a page."""
    return _formatted(verdicts.epoch_effect(results.summary, results.settings.checkpoints)[1])


def verdict_sentence(results: Results) -> str:
    """How many of the paper's claims this build reproduces, contradicts, cannot decide or cannot test."""
    n = verdict_counts(results)
    untestable = n.get("not testable here", 0)
    why = (
        "on synthetic phantoms, every claim about what trained models do on X-rays, and the paper's unstated hardware"
        if results.is_synthetic
        else "a combination that did not run, or the paper's unstated hardware"
    )
    return (
        f"Of the {sum(n.values())} statements tested, this build reproduces "
        f"{n.get('reproduced', 0)} and contradicts {n.get('not reproduced', 0)}; {n.get('inconclusive', 0)} "
        f"{'is' if n.get('inconclusive', 0) == 1 else 'are'} inconclusive (the data cannot tell) and {untestable} "
        f"{'is' if untestable == 1 else 'are'} not testable here ({why})."
    )


def verdict_counts(results: Results) -> dict[str, int]:
    """How many claims got each verdict (the part before any parenthesis)."""
    return pd.Series([f.verdict.split(" (")[0] for f in findings(results)]).value_counts().to_dict()


def cipher_finding(results: Results) -> verdicts.Finding:
    """'The cipher secures the transmitted features', from the cipher audit where it ran (`aecrypt audit`),
    else from the known-plaintext attack on every finished run's saved test samples."""
    record = audit.load(results.profile, results.root)
    if record:
        rows = pd.DataFrame(record["runs"]).set_index("run_id")
        clean = rows[rows["relu_domain"]]
        also = ""
        if not clean.empty:
            n = max(k for k in audit.N_CIPHERTEXTS if f"co_key_exact_{k}" in clean)
            npcr_pass = {c: audit.passes(clean.to_dict("records"), c)[0] for c in ("paper", "aes")}
            also = (
                f" Without any plaintext, the smallest √E over {n} ciphertexts gives "
                f"{clean[f'co_key_exact_{n}'].mean():.0%} of the key's pixels exactly; a one-pixel change of the "
                f"input changes {clean['paper_npcr'].mean():.2f} % of the ciphertext on average (NPCR passes Wu et "
                f"al.'s test at α = 0.05 in {npcr_pass['paper']} of {len(clean)} runs; AES-GCM: "
                f"{clean['aes_npcr'].mean():.2f} %, in {npcr_pass['aes']})."
            )
        return verdicts.cipher_security(rows["kp_key_error"], (~rows["relu_domain"]).astype(int), also)
    ok = results.ok
    errors = pd.Series(
        {r: leak_statistics(results.samples(r))["key_recovery_max_error"] for r in ok["run_id"]}, dtype=float
    )
    return verdicts.cipher_security(errors, ok.set_index("run_id")["cipher_domain_violations"])


def machine_name(results: Results) -> str:
    env = results.run_json(results.ok["run_id"].iloc[0], "env.json")
    cpu = env.get("cpu")
    if not cpu:
        return "this machine"
    limit = "" if cpu.get("isa_limit", "none") == "none" else f", limited to {cpu['isa_limit']}"
    return f"{cpu['model']} ({cpu['cores']} cores, {' '.join(cpu['vector_extensions'][:4])}{limit})"


def auc_table(results: Results) -> pd.DataFrame:
    """Every combination's AUC two ways — mean over training seeds with its t-interval (what retraining
    changes) and DeLong's interval over test images (what another test split would change; the median
    over seeds of each run's interval) — with the reference rows: the classifier on the original images
    and the best combination decoded without the cipher."""
    ci = results.auc_intervals
    rows = []

    def add(name: str, run_ids: list[str], planned: int):
        part = ci.loc[[r for r in run_ids if r in ci.index]]
        rows.append(
            {
                "classifier trained on": name,
                "seeds": f"{len(part)} of {planned}",
                "AUC: mean over seeds [95 % t-interval]": format(t_interval(part["auc"], bounds=SCORE_RANGE), ".3f"),
                "test-set 95 % interval (DeLong), median over seeds": (
                    f"± {np.median((part['delong_high'] - part['delong_low']) / 2):.3f}" if len(part) else ""
                ),
            }
        )

    ok = results.ok
    planned = results.summary[results.summary["status"] != "skipped"].groupby("label", sort=False).size()
    if "baseline_run_id" in ok:
        add(
            "original images (no autoencoder, no cipher)",
            list(ok["baseline_run_id"].dropna().unique()),
            len(results.seeds),
        )
    if "nocipher_run_id" in ok and ok["nocipher_run_id"].notna().any():
        label = ok.loc[ok["nocipher_run_id"].notna(), "label"].iloc[0]
        add(f"{label}, decoded without the cipher", list(ok["nocipher_run_id"].dropna()), int(planned.get(label, 0)))
    for label in results.labels:
        add(label, list(results.runs_of(label)["run_id"]), int(planned.get(label, 0)))
    return pd.DataFrame(rows)


def nocipher_table(results: Results) -> pd.DataFrame:
    """The reference runs: the best autoencoder combination at each seed, with and without the cipher. The
    same autoencoder loss in both shows that the two runs trained the same network."""
    ok = results.ok
    if "nocipher_run_id" not in ok:
        return pd.DataFrame()
    ref = ok[ok["nocipher_run_id"].notna()].sort_values("seed")
    return pd.DataFrame(
        {
            "combination": ref["label"],
            "seed": ref["seed"].astype(int),
            "autoencoder final loss, with / without cipher": [
                f"{a:.5g} / {b:.5g}" for a, b in zip(ref["final_loss"], ref["nocipher_final_loss"], strict=True)
            ],
            "test MSE, with / without": [
                f"{a:.4g} / {b:.4g}" for a, b in zip(ref["mse"], ref["nocipher_mse"], strict=True)
            ],
            "classifier AUC, with / without": [
                f"{a:.4f} / {b:.4f}" for a, b in zip(ref["auc"], ref["nocipher_auc"], strict=True)
            ],
        }
    )


def nocipher_sentence(results: Results) -> str:
    """What the reference runs show: the largest AUC difference the cipher makes, against the seed spread."""
    ok = results.ok
    if "nocipher_auc" not in ok or ok["nocipher_auc"].isna().all():
        return "No reference run has finished in this build."
    ref = ok[ok["nocipher_auc"].notna()]
    label = ref["label"].iloc[0]
    diff = (ref["auc"] - ref["nocipher_auc"]).abs().max()
    aucs = results.runs_of(label)["auc"]
    spread = (
        f"against a seed-to-seed standard deviation of {aucs.std():.2g} for {label}"
        if len(aucs) > 1
        else f"(with one training seed, this build cannot say how far retraining alone moves {label}'s AUC)"
    )
    same = bool(np.allclose(ref["final_loss"], ref["nocipher_final_loss"], rtol=0, atol=0))
    return (
        f"The two runs of each seed trained {'the same' if same else 'not quite the same'} autoencoder (identical "
        f"final loss{'' if same else ' only approximately'}). Their classifiers' AUCs differ by at most {diff:.3g}, "
        f"{spread}: the cipher's float rounding (at most a few 1e-7 per pixel) only nudges the classifier's "
        "training, it removes no information."
    )


def cipher_loss_sentence(results: Results) -> str:
    """What the cipher alone loses, split by whether a run's latents stayed where √E − K inverts (z + K ≥ 0):
    float rounding there, a sign failure where not."""
    ok = results.ok
    clean = ok[ok["cipher_domain_violations"] == 0]
    broken = ok[ok["cipher_domain_violations"] > 0]
    text = ""
    if len(clean):
        text += (
            f"In the {len(clean)} runs whose latents never had z + K < 0, the cipher loses nothing beyond float32 "
            f"rounding: the largest round-trip error is {clean['cipher_max_error'].max():.2g} and the largest "
            "pixel difference between retrieved images and the same latents decoded without the cipher is "
            f"{clean['cipher_pixel_max_difference'].max():.2g}; everything lost between A and C is lost by the "
            "autoencoder."
        )
    for label, group in broken.groupby("label", sort=False):
        text += (
            f" {label} is different: {group['cipher_domain_violations'].max():.1%} of its latent entries have "
            f"z + K < 0, squaring loses their sign, and its round-trip error reaches "
            f"{group['cipher_max_error'].max():.2g} (pixels off by up to "
            f"{group['cipher_pixel_max_difference'].max():.2g}): not rounding but the cipher's sign failure."
        )
    return text.strip()


def cipher_effect_table(results: Results) -> pd.DataFrame:
    """What the cipher alone changes, per combination (largest over its seeds): the round trip of the latent
    and the decoded image against the same latent decoded without the cipher, and the share of latent
    entries with z + K < 0 (where squaring loses the sign)."""
    g = results.ok.groupby("label", sort=False)
    return (
        pd.DataFrame(
            {
                "largest |decrypt(encrypt(z)) − z|": g["cipher_max_error"].max().map("{:.2g}".format),
                "largest pixel difference, retrieved vs. decoded without cipher": g["cipher_pixel_max_difference"]
                .max()
                .map("{:.2g}".format),
                "latent entries with z + K < 0": g["cipher_domain_violations"].max().map("{:.2%}".format),
            }
        )
        .rename_axis("combination")
        .reset_index()
    )


def run_table(results: Results, link_prefix: str = "../runs/") -> pd.DataFrame:
    """Every run of the build with a link to its executed notebook (HTML copied by `aecrypt book`)."""
    table = results.summary.copy()

    def link(r):
        return (
            f'<a href="{link_prefix}{r["run_id"]}.html">{r["run_id"]}</a>'
            if r["status"] in ("ok", "failed") and isinstance(r["run_id"], str)
            else ""
        )

    table["notebook"] = table.apply(link, axis=1)
    table = table.rename(columns={"cipher_pixel_max_difference": "cipher pixel Δ"})
    cols = ["label", "seed", "status", "notebook", "mse", "auc", "cipher pixel Δ", "seconds_per_epoch", "run_seconds"]
    cols += ["note", "error"]
    return table[[c for c in cols if c in table.columns]]


def profile_table() -> pd.DataFrame:
    """Every profile as one readable row: size, images and how they are split, epochs, numerics, purpose."""
    from .profiles import PROFILES

    rows = []
    for p in PROFILES.values():
        if p.split_counts:
            images = f"{p.n_images} ({p.n_train} / {p.n_val} / {p.n_test})"
        else:
            images = f"{p.n_images or 'all'} ({1 - p.test_fraction - p.val_fraction:.0%} / {p.val_fraction:.0%} / "
            images += f"{p.test_fraction:.0%})"
        rows.append(
            {
                "profile": p.name,
                "image": f"{p.size}²",
                "images (train / val / test)": images,
                "epochs (AE / classifier)": f"{p.ae_epochs} / {p.clf_epochs}",
                "training seeds": p.seeds,
                "batch": p.batch_size,
                "numerics": p.dtype_policy + (" + XLA" if p.jit_compile else ""),
                "for": p.description,
            }
        )
    return pd.DataFrame(rows)


def environment_table(env: dict) -> pd.DataFrame:
    """A run's env.json as label-value rows (the CPU on one line)."""
    env = dict(env)
    cpu = env.pop("cpu", None)
    if cpu:
        limit = "" if cpu["isa_limit"] == "none" else f" · instruction set limited to {cpu['isa_limit']}"
        env["cpu"] = f"{cpu['model']} · {cpu['cores']} cores · {' '.join(cpu['vector_extensions'])}{limit}"
    return pd.Series(env, name="value").to_frame()


def baseline_links(results: Results, link_prefix: str = "../runs/") -> str:
    """Links to the shared baseline runs (the classifier on the original images, one per seed)."""
    if "baseline_run_id" not in results.ok:
        return "no baseline run finished"
    pairs = results.ok[["seed", "baseline_run_id"]].dropna().drop_duplicates().sort_values("seed")
    links = ", ".join(f'<a href="{link_prefix}{r}.html">seed {int(s)}</a>' for s, r in pairs.itertuples(index=False))
    if "nocipher_run_id" in results.ok and results.ok["nocipher_run_id"].notna().any():
        refs = results.ok[results.ok["nocipher_run_id"].notna()].sort_values("seed")
        links += f"; the reference runs without the cipher ({refs['label'].iloc[0]}): " + ", ".join(
            f'<a href="{link_prefix}{r}.html">seed {int(s)}</a>'
            for s, r in refs[["seed", "nocipher_run_id"]].itertuples(index=False)
        )
    return links


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


def layer_frame(model) -> pd.DataFrame:
    """The model's layer table for a page: whole-number filters, blanks where a column does not apply."""
    from .models import layer_table

    frame = pd.DataFrame(layer_table(model))
    frame["filters"] = frame["filters"].astype("Int64")
    return frame.astype(object).where(frame.notna(), "")


def difficulty_sentence(original_auc: float) -> str:
    """How hard the classification task is in this build, from the classifier's AUC on the originals."""
    if original_auc < 0.6:
        return (
            f"On the original images (no autoencoder, no cipher) the classifier reaches a median ROC-AUC of "
            f"only {original_auc:.2f} in this build: at this scale it does not learn the task, so differences "
            "in classification metrics between combinations are noise here."
        )
    return (
        f"On the original images (no autoencoder, no cipher) the same classifier reaches a median ROC-AUC of "
        f"{original_auc:.2f} on the test split: the task is neither trivial nor hopeless, so differences "
        "between combinations can show. (The phantoms are calibrated for 0.80–0.95 at the default profile.)"
    )


def effects_sentence(results: Results, metric: str, name: str) -> str:
    effects = factor_effects(results, metric)
    if effects.empty:
        return f"No hyperparameter varies in this build, so no factor's effect on {name} can be seen."
    top = effects.iloc[0]
    return (
        f"Of the hyperparameters, **{top['factor']}** moves the median {name} most: from {top['lowest']} to "
        f"{top['highest']}."
    )


# --- per-figure notes ------------------------------------------------------------------------

PAPER_SAYS = {
    "Fig. 4": "A original, B encrypted image, C retrieved image (one example, no numbers).",
    "Fig. 5": "5800 negative and 3200 positive X-rays (9000 in all).",
    "Fig. 6": "MSLE + Adam + ReLU + 3 layers gives the lowest MSE and MAE (Fig. 6 text); the abstract names "
    "MSLE + Adagrad + ReLU + 2 as the best autoencoder.",
    "Fig. 7": "Loss falls from 10 to 25 to 50 epochs; 'the last five combinations from the right' have little loss.",
    "Fig. 8": "Recall, precision, F1 and AUC per combination; the abstract names MSE + RMSprop + ReLU + 3 as the "
    "best classification result.",
    "Fig. 9": "Train and test accuracy per combination (no values stated in the text).",
    "best-combination panel": "For the best autoencoder combination: loss falls over epochs in training and "
    "validation; MSE and MAE fall with epochs; classification metrics, confusion matrix and classifier iterations "
    "are shown.",
    "Fig. 10": "MSLE + Adagrad + ReLU + 2 has the best ROC curve, followed by MSLE + Adam + ReLU + 2 and "
    "MSLE + Adam + ReLU + 3 (the text also calls the last one 'five CNN').",
}


def figure_note(
    results: Results, figure: str, measured: str, run_ids: list[str] | None = None, link_prefix: str = "../runs/"
) -> str:
    """HTML admonition beside a figure: which paper figure, what the paper reported, what this build
    measured, and links to the executed notebooks of the runs that fed it."""
    run_ids = list(results.ok["run_id"]) if run_ids is None else run_ids
    table = results.summary.dropna(subset=["run_id"]).set_index("run_id")
    by_label: dict[str, list[str]] = {}
    for r in run_ids:
        seed = table["seed"].get(r)
        link = f'<a href="{link_prefix}{r}.html">seed {int(seed) if pd.notna(seed) else "?"}</a>'
        by_label.setdefault(table["label"].get(r, r), []).append(link)
    links = "; ".join(f"{label} ({', '.join(seeds)})" for label, seeds in by_label.items())
    return (
        f'<div class="admonition note"><p class="admonition-title">Reproduces the paper\'s {figure}</p>'
        f"<p><b>Paper:</b> {PAPER_SAYS[figure]}</p><p><b>This build:</b> {measured}</p>"
        f"<p><b>Runs:</b> {links}</p></div>"
    )


def leak_statistics(samples: dict[str, np.ndarray]) -> dict[str, float]:
    """What the paper's ciphertext gives away, measured on a run's saved test samples."""
    from .cipher import PaperCipher

    z, e = samples["latent_channel0"], samples["encrypted_channel0"]
    key = PaperCipher.recover_key(z[:1, :, :, None], e[:1, :, :, None])
    pair = (np.sqrt(e[0]) - np.sqrt(e[1])) - (z[0] - z[1])
    corr = np.corrcoef(samples["latent_mean"][0].ravel(), samples["encrypted_mean"][0].ravel())[0, 1]
    return {
        "key_recovery_max_error": float(np.max(np.abs(key - samples["key"]))),
        "pair_difference_max_error": float(np.max(np.abs(pair))),
        "latent_difference_max": float(np.max(np.abs(z[0] - z[1]))),
        "latent_ciphertext_correlation": float(corr),
    }


def size_table(samples: dict[str, np.ndarray], latent_shape: tuple[int, int, int]) -> pd.DataFrame:
    """Bytes per image: the 8-bit image raw and as PNG (Pillow), the float32 latent the paper encrypts,
    and an AES-256-GCM packet of the PNG (`aecrypt send --payload png`: header, nonce and tag included)."""
    from . import codecs

    image = samples["original"][0]
    png = codecs.png_bytes(image)
    packet = packets.seal(
        image[None], "aes-gcm", os.urandom(32), packets.new_id(), packets.new_id(), b"\0" * 8, 0, "png"
    )
    h, w, c = latent_shape
    rows = [
        ("image, 8-bit raw", image.size),
        ("image, PNG (lossless)", len(png)),
        ("AES-256-GCM packet of the PNG", len(packet)),
        ("paper: float32 latent, encrypted", h * w * c * 4),
    ]
    table = pd.DataFrame(rows, columns=["what is sent", "bytes"])
    table["× the raw image"] = (table["bytes"] / image.size).round(2)
    return table


# --- performance -----------------------------------------------------------------------------


def bench_record(root: Path | None = None) -> dict | None:
    """The last `make bench` record (results/bench.json), or None where no benchmark has run."""
    path = paths.bench_json(root)
    return json.loads(path.read_text()) if path.is_file() else None


def memory_record(root: Path | None = None) -> dict | None:
    """The last `make bench-memory` record (results/memory.json), or None."""
    path = (root or paths.results_root()) / "memory.json"
    return json.loads(path.read_text()) if path.is_file() else None


def record_table(rows: list[dict]) -> pd.DataFrame:
    """Rows of a bench record as a table, blanks where a row has no value."""
    frame = pd.DataFrame(rows).astype(object)
    return frame.where(frame.notna(), "")


def training_table(record: dict) -> pd.DataFrame:
    """The bench's training rows, narrow enough for a page: one configuration per row."""
    rows = []
    for r in record["training"]:
        row = {
            "image": f"{r['size']}²" if "size" in r else "",
            "backend · numerics": f"{r['backend']} · {r['numerics']}",
        }
        if "error" in r:
            rows.append(row | {"s / epoch": f"not measured: {r['error']}"})
            continue
        rows.append(
            row
            | {
                "s / epoch": f"{r['epoch_s']:.2f}",
                "images / s": f"{r['images_per_s']:.0f}",
                "GFLOP/s": f"{r['gflops']:.0f}",
                "of peak": f"{r['of_peak']:.0%}",
                "speed vs fp32": f"{r['speed_vs_fp32']:.2f}×",
                "final loss change": r["loss_change"],
            }
        )
    return record_table(rows)


def book_timing_table(record: dict) -> pd.DataFrame:
    """Cold / warm make book, one more combination, and the per-run overhead, as label-value rows."""
    b, r = record["book"], record["runs"][0]
    rows = [
        ("cold make book: sweep + book build", f"{b['cold_sweep_s']:.0f} s + {b['cold_book_s']:.0f} s"),
        ("warm make book (nothing changed)", f"{b['warm_total_s']:.1f} s"),
        ("one more combination in a finished sweep", f"{b['add_one_combination_s']:.0f} s"),
        ("median run (one process, wall time)", f"{r['median_run_s']:.1f} s over {r['runs']} runs"),
        ("of which training (autoencoder + classifier)", f"{r['median_training_s']:.1f} s"),
        ("of which kernel start and imports", f"{r['median_startup_s']:.1f} s"),
        ("of which overhead (all but computation)", f"{r['median_overhead_s']:.1f} s = {r['overhead_share']:.0%}"),
    ]
    return pd.DataFrame(rows, columns=["what", "measured"])


def machine_sentence(record: dict) -> str:
    m, peak = record["machine"], record["peak"]
    limit = "" if m["isa_limit"] == "none" else f", instruction set limited to {m['isa_limit']}"
    return (
        f"Measured {record['date']} on **{m['model']}**, {m['cores']} cores, vector extensions "
        f"{', '.join(m['vector_extensions']) or 'none'}{limit}. Peak (fp32 GEMM {peak['n']}² through "
        f"{peak['backend']} on {peak['threads']} threads): **{peak['gflops']:.0f} GFLOP/s**."
    )


def paper_epoch_table(record: dict) -> pd.DataFrame:
    """Seconds per epoch of 9000 images at 200², extrapolated from this machine's measured throughput,
    beside the paper's 9-16 s."""
    lo, hi = PAPER_EPOCH_SECONDS
    rows = [
        {"where": "the paper (hardware not stated)", "seconds per epoch, 9000 images at 200²": f"{lo:.0f}–{hi:.0f}"}
    ]
    for row in record["training"]:
        if row.get("size") == 200 and "images_per_s" in row:
            rows.append(
                {
                    "where": f"this machine, {row['backend']} {row['numerics']}",
                    "seconds per epoch, 9000 images at 200²": f"{9000 / row['images_per_s']:.0f}",
                }
            )
    return pd.DataFrame(rows)


def audit_table(record: dict) -> pd.DataFrame:
    """The cipher audit as one row per test: the paper's cipher, AES-256-GCM, and what an ideal cipher (or the
    critical value at α = 0.05, 0.01, 0.001) gives. Means over the audited runs whose latents stay in the
    cipher's domain (z + K ≥ 0)."""
    rows = pd.DataFrame(record["runs"])
    clean = rows[rows["relu_domain"]] if rows["relu_domain"].any() else rows
    mean = lambda col: float(clean[col].mean())  # noqa: E731
    sizes = {c: clean["npcr_values"].map(lambda v, c=c: int(v[c])) for c in ("paper", "aes")}

    def passes(cipher: str) -> str:
        npcr, uaci = audit.passes(clean.to_dict("records"), cipher)
        return f"NPCR in {npcr}, UACI in {uaci} of {len(clean)} runs"

    n_big = int(sizes["aes"].max())
    npcr_crit = " / ".join(f"{audit.npcr_critical(n_big, a):.3f}" for a in audit.ALPHAS)
    uaci_crit = "; ".join("{:.3f}–{:.3f}".format(*audit.uaci_critical(n_big, a)) for a in audit.ALPHAS)
    co = [k for k in audit.N_CIPHERTEXTS if f"co_key_exact_{k}" in clean]
    bits = clean["latent_shape"].map(lambda s: s[0] * s[1] * 32)
    table = [
        (
            "known plaintext: key error from one (z, E) pair, largest",
            f"{clean['kp_key_error'].max():.1e}",
            "no attack: a wrong key is refused by the tag",
            "key not recoverable",
        ),
        ("… then every other latent read back, largest error", f"{clean['kp_latent_error'].max():.1e}", "—", "—"),
        (
            "ciphertext only: key pixels exact from n ciphertexts (min √E)",
            ", ".join(f"n={k}: {mean(f'co_key_exact_{k}'):.0%}" for k in co),
            "0 % (no structure to exploit)",
            "0 %",
        ),
        (
            f"eavesdropper's decode of √E: SSIM with the original (the receiver's: {mean('legit_ssim'):.3f})",
            f"{mean('eavesdropper_ssim'):.3f}",
            "nothing to decode",
            "≈ 0",
        ),
        (
            f"histogram entropy of the 8-bit ciphertext, bits (the latent itself: {mean('plain_entropy'):.2f})",
            f"{mean('paper_entropy'):.3f}",
            f"{mean('aes_entropy'):.3f}",
            "8",
        ),
        (
            "χ² of the histogram, 255 d.f.",
            f"{mean('paper_chi2'):.0f}",
            f"{mean('aes_chi2'):.0f}",
            f"< {audit.chi_square_critical(0.05):.1f} (α = 0.05)",
        ),
        (
            f"adjacent-element correlation (the latent itself: {mean('plain_correlation'):.3f})",
            f"{mean('paper_correlation'):.4f}",
            f"{mean('aes_correlation'):.4f}",
            "0",
        ),
        (
            "NPCR, one input pixel changed, %",
            f"{mean('paper_npcr'):.3f}",
            f"{mean('aes_npcr'):.3f}",
            f"> {npcr_crit} (α = 0.05 / 0.01 / 0.001, at the largest L = {n_big}; each run is judged at its own L)",
        ),
        ("UACI, %", f"{mean('paper_uaci'):.4f}", f"{mean('aes_uaci'):.3f}", f"in {uaci_crit}"),
        ("runs passing NPCR and UACI at α = 0.05", passes("paper"), passes("aes"), "all"),
        (
            "key sensitivity: decoded pixels changed by a key off by one step",
            f"{mean('paper_key_sensitivity'):.1%}",
            f"{mean('aes_key_sensitivity'):.0%} of packets refused",
            "≈ 100 %",
        ),
        (
            "key space, bits",
            f"{bits.min()}–{bits.max()} nominal (h·w float32 values), drawn from a seed; one known pair or a few "
            "ciphertexts give the key away whatever its size",
            "256",
            "≥ 128",
        ),
        (
            "throughput, encrypt + decrypt, MB of latent per s",
            f"{mean('paper_mb_per_s'):.0f}",
            f"{mean('aes_mb_per_s'):.0f} (ChaCha20-Poly1305: {mean('chacha20_mb_per_s'):.0f})",
            "—",
        ),
    ]
    return pd.DataFrame(table, columns=["test", "paper's cipher", "AES-256-GCM", "ideal / critical value"])


# --- the link ----------------------------------------------------------------------------------------------

#: The link speeds the book prices a payload on: IEEE 802.15.4 (Zigbee) radio's 250 kbit/s, and 1 and 10 Mbit/s.
LINK_SPEEDS = {"250 kbit/s": 250e3, "1 Mbit/s": 1e6, "10 Mbit/s": 10e6}
LINK_RECORD_VERSION = 2
_PAYLOAD_NAMES = {"float32": "float32 latent", "float16": "float16 latent", "uint8": "uint8 latent", "png": "PNG image"}


def link_record(root: Path | None = None) -> dict | None:
    """The last `make bench-link` record (results/link.json), or None where none of this format was run."""
    path = paths.link_json(root)
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    return record if record.get("version") == LINK_RECORD_VERSION else None


def stream_name(cipher: str, payload: str) -> str:
    cipher_name = {"aes-gcm": "AES-GCM", "chacha20": "ChaCha20", "paper": "paper's cipher"}[cipher]
    return f"{cipher_name} · {_PAYLOAD_NAMES[payload]}"


def _per_s(rate: float) -> str:
    return f"{rate:g} image{'' if rate == 1 else 's'}/s"


def _rate_name(rate) -> str:
    return f"{rate:g}/s" if rate else "max"


def link_checks(record: dict) -> list[tuple[dict, verdicts.RateCheck]]:
    """Every stream of the record with its real-time check (aecrypt.verdicts.rate_check)."""
    return [
        (s, verdicts.rate_check(s["latency_ms"], s["sent_at_s"], s["rate"], s["images"])) for s in record["streams"]
    ]


def link_table(record: dict) -> pd.DataFrame:
    """One row per stream and rate: what arrived, the packet's size, the median latency with its 95 % interval,
    the p99 with its one-sided 95 % bounds, the trend over the stream, and whether it kept up (and why)."""

    def ms(value: float) -> str:
        return "–" if math.isnan(value) else f"{value:.1f}"

    rows = []
    for s, c in link_checks(record):
        rows.append(
            {
                "stream": stream_name(s["cipher"], s["payload"]),
                "rate": _rate_name(s["rate"]),
                "arrived": f"{c.received} / {c.sent}",
                "bytes": s["packet_bytes"],
                "median ms [95 %]": f"{c.median.estimate:.1f} [{ms(c.median.low)}, {ms(c.median.high)}]",
                "p99 ms [bounds]": f"{c.p99:.1f} [{ms(c.p99_low)}, {ms(c.p99_high)}]",
                "trend ms/s": f"{c.slope.estimate:+.2f}",
                "images/s": f"{c.received / s['seconds']:.0f}" if s["rate"] is None else "",
                "real time": c.real_time,
                "why": c.why,
            }
        )
    return pd.DataFrame(rows)


def _verdict_cell(check: verdicts.RateCheck) -> str:
    """One stream at one rate, in a few words: the verdict and the number it rests on."""
    if check.rate is None:
        return ""
    if check.received < check.sent:
        return f"no · {check.sent - check.received} lost"
    if check.real_time == verdicts.NO and "queue grows" in check.why:
        return "no · queue grows"
    if check.real_time == verdicts.NO:
        return f"no · p99 ≥ {check.p99_low:.1f} ms"
    if check.real_time == verdicts.YES:
        return f"yes · p99 ≤ {check.p99_high:.1f} ms"
    if math.isnan(check.p99_high):
        return f"cannot tell · {check.received} images"
    return f"cannot tell · p99 ≤ {check.p99_high:.1f} ms"


def link_verdict_table(record: dict) -> pd.DataFrame:
    """One row per stream: its packet size, the verdict at each rate (with the p99 bound it rests on) and the
    images per second as fast as the link takes them."""
    rows: dict[str, dict] = {}
    for s, c in link_checks(record):
        row = rows.setdefault(stream_name(s["cipher"], s["payload"]), {"bytes": s["packet_bytes"]})
        if s["rate"] is None:
            row["max images/s"] = round(c.received / s["seconds"])
        else:
            row[f"at {_per_s(s['rate'])}"] = _verdict_cell(c)
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("stream").reset_index()
    return frame[[c for c in frame.columns if c != "max images/s"] + ["max images/s"]]


def link_latencies(record: dict) -> pd.DataFrame:
    """Long table for the latency figure: stream, rate, latency (ms) of every image that arrived."""
    rows = [
        {"stream": stream_name(s["cipher"], s["payload"]), "rate": _rate_name(s["rate"]), "latency_ms": v}
        for s in record["streams"]
        for v in s["latency_ms"]
        if v is not None
    ]
    return pd.DataFrame(rows)


def _checks_by_stream(record: dict) -> dict[str, list[verdicts.RateCheck]]:
    by_stream: dict[str, list] = {}
    for s, c in link_checks(record):
        if c.rate:
            by_stream.setdefault(stream_name(s["cipher"], s["payload"]), []).append(c)
    return {name: sorted(checks, key=lambda c: c.rate) for name, checks in by_stream.items()}


def link_summary(record: dict) -> dict[str, str]:
    """Per stream, in words: the fastest rate judged real time, the faster rates the data cannot decide (and
    why), and the first rate judged not real time (and why)."""
    out = {}
    for name, checks in _checks_by_stream(record).items():
        fastest = verdicts.fastest_real_time(checks)
        words = [f"real time up to **{_per_s(fastest)}**" if fastest else "no rate shown to be real time"]
        failed = next((c for c in checks if c.real_time == verdicts.NO), None)
        undecided = [
            c
            for c in checks
            if c.real_time == verdicts.CANNOT_TELL
            and (fastest is None or c.rate > fastest)
            and (failed is None or c.rate < failed.rate)
        ]
        if undecided:  # the fastest one the data cannot decide says the most
            words.append(f"cannot tell at {_per_s(undecided[-1].rate)} ({undecided[-1].why})")
        if failed:
            words.append(f"not at {_per_s(failed.rate)} ({failed.why})")
        out[name] = "; ".join(words)
    return out


def stage_table(record: dict) -> pd.DataFrame:
    """Median milliseconds per stage, per stream, as fast as the link takes them: where the time goes."""
    rows = []
    for s in record["streams"]:
        if s["rate"] is None:
            rows.append({"stream": stream_name(s["cipher"], s["payload"])} | s["stage_median_ms"])
    frame = pd.DataFrame(rows).rename(columns={"seal": "encode + encrypt", "transit": "publish + deliver"})
    return frame


def stage_sentence(record: dict) -> str:
    """Which steps set the pace as fast as the link takes them: the encoder and decoder, not the cipher."""
    saturated = [s for s in record["streams"] if s["rate"] is None]
    latent = [s["stage_median_ms"] for s in saturated if s["payload"] != "png"]
    if not latent:
        return ""

    def span(values) -> str:
        return f"{min(values):.1f}–{max(values):.1f} ms"

    opened = max(s["stage_median_ms"]["open"] for s in saturated)
    return (
        f"As fast as the link takes them, encoding and encrypting a latent takes {span([m['seal'] for m in latent])} "
        f"per image (median) and decoding and classifying it {span([m['decode'] + m['classify'] for m in latent])}, "
        f"while opening a packet takes at most {opened:.2f} ms whatever the cipher."
    )


def payload_table(record: dict) -> pd.DataFrame:
    """Bytes per image on the wire (one QoS 1 MQTT message: the AES-GCM packet and MQTT's header) and the
    seconds each takes on LINK_SPEEDS, at the run's size and the paper's 200²: latents from their shapes,
    PNGs measured on real pixels."""
    rows = []
    for p in record["payloads"]:
        what = f"depth {p['depth']}: {_PAYLOAD_NAMES[p['payload']]}" if p["depth"] else f"PNG image ({p['source']})"
        row = {"size": f"{p['size']}²", "what is sent": what, "bytes on the wire": p["mqtt_bytes"]}
        for name, bps in LINK_SPEEDS.items():
            row[f"s at {name}"] = p["mqtt_bytes"] * 8 / bps
        rows.append(row)
    return pd.DataFrame(rows)


def wire_sentence(record: dict) -> str:
    """What the paper's scale costs on the wire: the depth-3 float32 latent at 200² against the PNG of a real
    X-ray (or of a phantom, where no real one was measured)."""
    table = pd.DataFrame(record["payloads"])
    at200 = table[table["size"] == 200]
    latent = at200[(at200["depth"] == 3) & (at200["payload"] == "float32")]
    pngs = at200[at200["payload"] == "png"]
    if latent.empty or pngs.empty:
        return ""
    png = pngs[pngs["source"] != "phantoms"].iloc[0] if (pngs["source"] != "phantoms").any() else pngs.iloc[0]
    latent = latent.iloc[0]

    def seconds(nbytes: int) -> str:
        return ", ".join(f"{nbytes * 8 / bps:.3g} s at {name}" for name, bps in LINK_SPEEDS.items())

    return (
        f"At the paper's 200², one depth-3 float32 latent is {latent['mqtt_bytes'] / 1e6:.2f} MB on the wire "
        f"({seconds(latent['mqtt_bytes'])}); the PNG of the X-ray itself ({png['source']}, in AES-GCM) is "
        f"{png['mqtt_bytes'] / 1e3:.0f} kB ({seconds(png['mqtt_bytes'])})."
    )


def fault_table(record: dict) -> pd.DataFrame:
    """The fault drills of the record, one row per fault: what was expected, what the receiver refused it
    with, and per broker what was written (distinct images of those sent, rows beyond them, duplicates
    dropped) and whether it went as expected."""
    rows: dict[str, dict] = {}
    for d in record["faults"]:
        row = rows.setdefault(d["fault"], {"fault": d["fault"], "expected": d["expected"], "refused with": ""})
        if d["refused"] and not row["refused with"]:
            reason = d["refused"][0]
            row["refused with"] = reason if len(reason) < 70 else reason[:67] + "…"
        twice = d["rows"] - d["written"]
        row[d["broker"]] = (
            f"{'as expected' if d['passed'] else 'NOT as expected'}: {d['written']} / {d['sent']} written"
            + (f", {twice} twice" if twice else "")
            + (f", {d['duplicates']} duplicate(s) dropped" if d["duplicates"] else "")
            + f" ({d['seconds']:.1f} s)"
        )
    return pd.DataFrame(list(rows.values())).fillna("")


def link_finding(results: Results) -> verdicts.Finding:
    """The title's "real time" claim from the link benchmark of this build's profile, or, where none has run,
    a row that says how to measure it."""
    record = link_record(results.root)
    if record is None or record.get("profile") != results.profile:
        return verdicts.Finding(
            "real time using IoT",
            "title",
            "p99 end-to-end latency below the interval between images (`make bench-link`)",
            f"No link benchmark for this build: run `make bench-link PROFILE={results.profile}`.",
            f"{verdicts.NOT_TESTABLE} (no link benchmark)",
        )
    by_stream: dict[str, list] = {}
    for s, c in link_checks(record):
        if s["cipher"] == "aes-gcm" and s["payload"] in ("float32", "png"):
            by_stream.setdefault(stream_name(s["cipher"], s["payload"]), []).append(c)
    cpu = record["cpu"]
    machine = f"{cpu['model']} ({cpu['cores']} cores; {' '.join(cpu['vector_extensions'])})"
    return verdicts.real_time(by_stream, record["size"], wire_sentence(record), machine)
