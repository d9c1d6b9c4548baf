"""The paper's two-layer CNN classifier trained and scored: on the retrieved images of a run (what the
autoencoder and the cipher leave of them) and on the original images, or what a codec gives back of them, for
the baseline every run of a training seed shares (notebooks/baseline.ipynb)."""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd

from aecrypt.data import codecs
from aecrypt.paper import batches, metrics, models
from aecrypt.paper.experiment import PARTS, EpochTimer, RunConfig, Split
from aecrypt.paper.models import forward
from aecrypt.paper.retrieval import Retrieved


@dataclass
class Classified:
    history: pd.DataFrame
    scores: np.ndarray  # test-set probabilities of "positive"
    train_accuracy: float
    test_accuracy: float
    model: keras.Model | None = None  # saved with the run, so a receiver can score what it decodes
    extra: dict = field(default_factory=dict)  # metrics of what the classifier was given (a codec's rate)


def classify(cfg: RunConfig, train_x, train_y, val_x, val_y, test_x, test_y, name="classifier") -> Classified:
    """Train the fixed two-layer CNN and score the test split.

    The generators are seeded with `cfg.seed` + 1 first, so the classifier starts from the same weights whatever
    ran before it; it trains for the profile's `clf_epochs` in the profile's batches, shuffled anew each epoch in
    an order drawn from that seed (`batches.fit_arguments`).

    Parameters
    ----------
    cfg : RunConfig
        The run: its seed and profile (image size, epochs, batch size).
    train_x, val_x, test_x : ndarray
        Images, (n, size, size, 1) with the profile's size, values in [0, 1].
    train_y, val_y, test_y : ndarray
        Their labels, (n,), 1 for positive and 0 for negative.
    name : str, optional
        The model's name in the history's "model" column.

    Returns
    -------
    Classified
        The history (one row per epoch: model, epoch, accuracy, loss, their val_ values, seconds), the test
        images' probabilities of positive, the train and test accuracy at a threshold of 0.5, and the model;
        `extra` is empty.

    Examples
    --------
    >>> cfg = RunConfig(profile="tiny", data="synthetic", overrides={"clf_epochs": 1})
    >>> x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
    >>> y = np.array([0, 1] * 4)
    >>> clf = classify(cfg, x, y, x[:4], y[:4], x[4:], y[4:], name="demo")
    >>> clf.scores.shape, bool(((clf.scores >= 0) & (clf.scores <= 1)).all()), 0 <= clf.test_accuracy <= 1
    ((4,), True, True)
    >>> list(clf.history.columns), clf.history["model"].tolist()
    (['model', 'epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss', 'seconds'], ['demo'])
    """
    p = cfg.settings
    keras.utils.set_random_seed(cfg.seed + 1)  # same initial weights whatever the autoencoder did
    model = models.build_classifier(p.size)
    timer = EpochTimer()
    data = batches.fit_arguments(train_x, train_y, (val_x, val_y), p.batch_size, seed=cfg.seed + 1)
    hist = model.fit(**data, epochs=p.clf_epochs, verbose=0, callbacks=[timer])
    scores = _scores(model, test_x)
    train_acc = float(metrics.classification_metrics(train_y, _scores(model, train_x))["accuracy"])
    test_acc = float(metrics.classification_metrics(test_y, scores)["accuracy"])
    return Classified(timer.frame(hist, name), scores, train_acc, test_acc, model)


#: Images per forward pass when the classifier scores a split (its activations at 200² are 2.6 MB an image).
SCORE_BATCH = 256


def _scores(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The classifier's probabilities for `x`, by direct calls (`models.forward`): predict() and evaluate() each trace
    a function first, which costs more than scoring the default profile's test split."""
    return np.concatenate([forward(model, x[i : i + SCORE_BATCH]).ravel() for i in range(0, len(x), SCORE_BATCH)])


def classify_retrieved(cfg: RunConfig, retrieved: Retrieved, split: Split) -> Classified:
    """The classifier trained, validated and tested on the retrieved images of each part (`classify`).

    Parameters
    ----------
    cfg : RunConfig
        The run.
    retrieved : Retrieved
        From `retrieval.retrieve`: the images the classifier sees.
    split : Split
        From `experiment.load_data`: the labels of those images.

    Returns
    -------
    Classified
        As `classify` returns it, named "classifier" in its history.

    Examples
    --------
    An untrained autoencoder, to keep it quick:

    >>> from aecrypt.paper.experiment import Trained, load_data, start
    >>> from aecrypt.paper.retrieval import retrieve
    >>> cfg = RunConfig(profile="tiny", data="synthetic", depth=2, overrides={"n_images": 24, "clf_epochs": 1})
    >>> start(cfg)
    >>> split = load_data(cfg)
    >>> retrieved = retrieve(cfg, Trained(models.build_autoencoder(32, depth=2), pd.DataFrame()), split)
    >>> clf = classify_retrieved(cfg, retrieved, split)
    >>> clf.history["model"].tolist(), clf.scores.shape, len(split.index["test"])
    (['classifier'], (6,), 6)
    """
    r = retrieved.images
    return classify(cfg, r["train"], split.y("train"), r["val"], split.y("val"), r["test"], split.y("test"))


def classify_original(cfg: RunConfig, split: Split) -> Classified:
    """The same classifier on the original images: what the autoencoder and cipher cost it. Run once
    per (data, profile, training seed) by notebooks/baseline.ipynb, not by every combination. With `cfg.codec`
    every image goes through that codec first (trained and tested on what the codec gives back): the
    classifier at a codec's rate, beside the autoencoder's at the same bytes.

    Parameters
    ----------
    cfg : RunConfig
        The run: its seed, profile and `codec` ("" for the images themselves, or e.g. "webp:37").
    split : Split
        From `experiment.load_data`.

    Returns
    -------
    Classified
        As `classify` returns it, named "classifier_original" in its history. With a codec, `extra` holds the
        codec, its mean bits per pixel over the test images' files ("codec_bpp") and the mse, mae, psnr and
        ssim of the test images it gives back; without one, `extra` is empty.

    Examples
    --------
    >>> from aecrypt.paper.experiment import load_data
    >>> cfg = RunConfig(profile="tiny", data="synthetic", codec="png", overrides={"n_images": 24, "clf_epochs": 1})
    >>> clf = classify_original(cfg, load_data(cfg))
    >>> clf.history["model"].tolist(), sorted(clf.extra), clf.extra["codec"], clf.extra["psnr"] > 50
    (['classifier_original'], ['codec', 'codec_bpp', 'mae', 'mse', 'psnr', 'ssim'], 'png', True)
    """
    x = {part: split.x(part) for part in PARTS}
    extra = {}
    if cfg.codec:
        sizes = {}
        for part in PARTS:
            decoded, sizes[part] = codecs.round_trip_images(x[part][..., 0], cfg.codec)
            x[part] = decoded[..., None]
        pixels = cfg.settings.size**2
        extra = {"codec": cfg.codec, "codec_bpp": float(sizes["test"].mean() * 8 / pixels)}
        extra |= metrics.reconstruction_metrics(split.x("test"), x["test"])
    clf = classify(
        cfg,
        x["train"],
        split.y("train"),
        x["val"],
        split.y("val"),
        x["test"],
        split.y("test"),
        name="classifier_original",
    )
    clf.extra = extra
    return clf
