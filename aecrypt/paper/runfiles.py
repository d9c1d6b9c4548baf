"""The files of a run folder, written by the run template's last cell: metrics (with the stage clock), config,
the classifier's outputs, the data summary, the environment, and for a combination its history, Fig. 4
samples, trained models and the recipe of its paper-cipher key (never the key)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from aecrypt import runtime
from aecrypt.paper import metrics
from aecrypt.paper.experiment import Classified, Retrieved, RunConfig, Split, StageClock, Trained, classifier_metrics
from aecrypt.paths import RUN_FILES


def _write_run_files(
    out: Path,
    cfg: RunConfig,
    split: Split,
    clf: Classified,
    run_metrics: dict,
    clock: StageClock,
    per_image: dict[str, np.ndarray] | None = None,
):
    """The files every run folder has: metrics (with the stage clock), config, classifier outputs (scores.csv:
    one row per test image, by its key, with `per_image` columns where given), data summary and environment."""
    out.mkdir(parents=True, exist_ok=True)
    run_metrics = run_metrics | clock.as_metrics()
    (out / RUN_FILES.metrics).write_text(json.dumps(run_metrics, indent=2, sort_keys=True))
    (out / RUN_FILES.config).write_text(
        json.dumps(asdict(cfg) | {"label": cfg.label, "profile_settings": cfg.settings.to_dict()}, indent=2)
    )
    pd.DataFrame(metrics.roc_points(split.y("test"), clf.scores)).to_csv(out / RUN_FILES.roc, index=False)
    cm = metrics.confusion(split.y("test"), clf.scores)
    pd.DataFrame(
        cm, index=["actual_negative", "actual_positive"], columns=["predicted_negative", "predicted_positive"]
    ).to_csv(out / RUN_FILES.confusion)
    scores = {"image": split.keys("test"), "label": split.y("test"), "score": clf.scores} | (per_image or {})
    pd.DataFrame(scores).to_csv(out / RUN_FILES.scores, index=False)
    summary = split.dataset.summary() | {
        "fingerprint": split.dataset.fingerprint,
        "split_sizes": {k: int(len(v)) for k, v in split.index.items()},
    }
    (out / RUN_FILES.data).write_text(json.dumps(summary, indent=2))
    (out / RUN_FILES.env).write_text(json.dumps(runtime.describe(), indent=2))


def write_outputs(
    out_dir: str | Path,
    cfg: RunConfig,
    split: Split,
    trained: Trained,
    retrieved: Retrieved,
    clf: Classified,
    run_metrics: dict,
    clock: StageClock,
) -> Path:
    """Write a combination's run files (the folder the sweep hashes and collects); its scores.csv also holds each
    test image's reconstruction errors ("se", "ae")."""
    out = Path(out_dir)
    per_image = metrics.per_image_errors(split.x("test"), retrieved.images["test"])
    _write_run_files(out, cfg, split, clf, run_metrics, clock, per_image)
    pd.concat([trained.history, clf.history], ignore_index=True).to_csv(out / RUN_FILES.history, index=False)
    np.savez_compressed(out / RUN_FILES.samples, **retrieved.samples)
    save_models(out, cfg, trained, clf, retrieved.latent_shape)
    return out


def save_models(out: Path, cfg: RunConfig, trained: Trained, clf: Classified, latent_shape: tuple[int, ...]) -> None:
    """The trained encoder, decoder and classifier, and how the run's paper-cipher key was made (a recipe,
    never key bytes: the paper's key follows from the data seed or a key image file)."""
    for name, model in (("encoder", trained.ae.encoder), ("decoder", trained.ae.decoder), ("classifier", clf.model)):
        model.save(out / RUN_FILES.models[name])
    h, w = latent_shape[:2]
    recipe = (
        {"kind": "image", "path": cfg.key_image, "how": f"cipher.key_from_image(path, {h}, {w})"}
        if cfg.key_image
        else {"kind": "seed", "seed": cfg.data_seed, "how": f"cipher.key_from_seed({h}, {w}, {cfg.data_seed})"}
    )
    (out / RUN_FILES.paper_key).write_text(json.dumps(recipe | {"height": h, "width": w}, indent=2))


def write_baseline_outputs(
    out_dir: str | Path, cfg: RunConfig, split: Split, original: Classified, clock: StageClock
) -> Path:
    """Write the shared baseline's files: the classifier on the original images."""
    out = Path(out_dir)
    _write_run_files(out, cfg, split, original, classifier_metrics(split, original), clock)
    original.history.to_csv(out / RUN_FILES.history, index=False)
    return out
