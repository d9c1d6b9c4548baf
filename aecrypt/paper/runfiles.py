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
from aecrypt.paper.classification import Classified
from aecrypt.paper.experiment import RunConfig, Split, StageClock, Trained
from aecrypt.paper.retrieval import Retrieved
from aecrypt.paper.runmetrics import classifier_metrics
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
    test image's reconstruction errors ("se", "ae").

    Besides the files of every run (metrics.json with the stage clock, config.json, roc.csv, confusion.csv,
    scores.csv, data.json, env.json), it writes history.csv (autoencoder then classifier epochs), samples.npz
    (Fig. 4) and, through `save_models`, the models and the paper-cipher key's recipe.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The run folder; created if missing, its files overwritten.
    cfg : RunConfig
        The run's configuration.
    split : Split
        The data and its train / val / test indices.
    trained : Trained
        The autoencoder and its training history.
    retrieved : Retrieved
        The test images after encoder → cipher → decoder, the latent's shape and the Fig. 4 samples.
    clf : Classified
        The classifier on the retrieved images: its scores of the test images, history and model.
    run_metrics : dict
        The run's scalars (`runmetrics.collect_metrics`); the clock's are added.
    clock : StageClock
        Seconds per stage so far.

    Returns
    -------
    pathlib.Path
        The run folder.

    Examples
    --------
    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> from aecrypt.data.dataset import Dataset
    >>> images = np.random.default_rng(0).random((6, 16, 16), np.float32)
    >>> data = Dataset(images, np.array([0, 1] * 3), np.array([f"p{i}" for i in range(6)]), "synthetic", 16)
    >>> split = Split(data, {"train": np.arange(2), "val": np.arange(2, 4), "test": np.arange(4, 6)})
    >>> history = pd.DataFrame({"model": ["classifier"], "epoch": [1], "loss": [0.7], "seconds": [0.1]})
    >>> class Model:  # stands in for a trained Keras model
    ...     def save(self, path):
    ...         Path(path).write_text("a model")
    >>> trained = Trained(SimpleNamespace(encoder=Model(), decoder=Model()), history.assign(model="autoencoder"))
    >>> retrieved = Retrieved({"test": split.x("test") * 0.9}, (4, 4, 64), 0.0, 0.0, 0.0, {"original": images[4:]})
    >>> clf = Classified(history, np.array([0.3, 0.8]), 0.5, 1.0, Model())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_outputs(Path(tmp) / "run", RunConfig(), split, trained, retrieved, clf, {"auc": 1.0},
    ...                         StageClock())
    ...     files, columns = sorted(p.name for p in out.iterdir()), list(pd.read_csv(out / "scores.csv").columns)
    >>> files
    ['classifier.keras', 'config.json', 'confusion.csv', 'data.json', 'decoder.keras', 'encoder.keras', 'env.json',
     'history.csv', 'metrics.json', 'paper_key.json', 'roc.csv', 'samples.npz', 'scores.csv']
    >>> columns
    ['image', 'label', 'score', 'se', 'ae']
    """
    out = Path(out_dir)
    per_image = metrics.per_image_errors(split.x("test"), retrieved.images["test"])
    _write_run_files(out, cfg, split, clf, run_metrics, clock, per_image)
    pd.concat([trained.history, clf.history], ignore_index=True).to_csv(out / RUN_FILES.history, index=False)
    np.savez_compressed(out / RUN_FILES.samples, **retrieved.samples)
    save_models(out, cfg, trained, clf, retrieved.latent_shape)
    return out


def save_models(out: Path, cfg: RunConfig, trained: Trained, clf: Classified, latent_shape: tuple[int, ...]) -> None:
    """The trained encoder, decoder and classifier, and how the run's paper-cipher key was made (a recipe,
    never key bytes: the paper's key follows from the data seed or a key image file).

    Parameters
    ----------
    out : pathlib.Path
        The run folder, which must exist.
    cfg : RunConfig
        The run's configuration: its key image, else its data seed, made the key.
    trained : Trained
        Whose ``ae.encoder`` and ``ae.decoder`` are saved.
    clf : Classified
        Whose ``model`` is saved.
    latent_shape : tuple of int
        One image's latent, (height, width, channels): the key is height × width.

    Returns
    -------
    None
        Writes encoder.keras, decoder.keras, classifier.keras and paper_key.json.

    Examples
    --------
    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> class Model:  # stands in for a trained Keras model
    ...     def save(self, path):
    ...         Path(path).write_text("a model")
    >>> trained = SimpleNamespace(ae=SimpleNamespace(encoder=Model(), decoder=Model()))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_models(Path(tmp), RunConfig(data_seed=7), trained, SimpleNamespace(model=Model()), (4, 4, 64))
    ...     files = sorted(p.name for p in Path(tmp).iterdir())
    ...     recipe = json.loads((Path(tmp) / "paper_key.json").read_text())
    >>> files
    ['classifier.keras', 'decoder.keras', 'encoder.keras', 'paper_key.json']
    >>> recipe
    {'kind': 'seed', 'seed': 7, 'how': 'cipher.key_from_seed(4, 4, 7)', 'height': 4, 'width': 4}
    """
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
    """Write the shared baseline's files: the classifier on the original images.

    The files of every run (metrics.json with `runmetrics.classifier_metrics` and the stage clock,
    config.json, roc.csv, confusion.csv, scores.csv, data.json, env.json) and the classifier's history.csv;
    no models or samples.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The run folder; created if missing, its files overwritten.
    cfg : RunConfig
        The run's configuration.
    split : Split
        The data and its train / val / test indices.
    original : Classified
        The classifier on the original (or codec-decoded) images.
    clock : StageClock
        Seconds per stage so far.

    Returns
    -------
    pathlib.Path
        The run folder.

    Examples
    --------
    >>> import tempfile
    >>> from types import SimpleNamespace
    >>> from aecrypt.data.dataset import Dataset
    >>> images = np.random.default_rng(0).random((6, 16, 16), np.float32)
    >>> data = Dataset(images, np.array([0, 1] * 3), np.array([f"p{i}" for i in range(6)]), "synthetic", 16)
    >>> split = Split(data, {"train": np.arange(2), "val": np.arange(2, 4), "test": np.arange(4, 6)})
    >>> history = pd.DataFrame({"model": ["classifier"], "epoch": [1], "loss": [0.7], "seconds": [0.1]})
    >>> original = Classified(history, np.array([0.3, 0.8]), train_accuracy=0.5, test_accuracy=1.0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_baseline_outputs(Path(tmp), RunConfig(), split, original, StageClock())
    ...     files, scores = sorted(p.name for p in out.iterdir()), pd.read_csv(out / "scores.csv")
    >>> files
    ['config.json', 'confusion.csv', 'data.json', 'env.json', 'history.csv', 'metrics.json', 'roc.csv', 'scores.csv']
    >>> scores.to_dict("list")
    {'image': ['image4', 'image5'], 'label': [0, 1], 'score': [0.3, 0.8]}
    """
    out = Path(out_dir)
    _write_run_files(out, cfg, split, original, classifier_metrics(split, original), clock)
    original.history.to_csv(out / RUN_FILES.history, index=False)
    return out
