"""A run in numbers: the scalars a combination's metrics.json holds besides its stage clock — reconstruction,
the loss at each checkpoint, the classifier's test metrics, the training length in optimizer steps, the mean
image's scores (what learning nothing scores), the cipher's checks and timings."""

from __future__ import annotations

import time

import keras
import numpy as np

from aecrypt.paper import cipher, metrics
from aecrypt.paper.classification import Classified
from aecrypt.paper.experiment import PARTS, RunConfig, Split, Trained
from aecrypt.paper.retrieval import Retrieved


def cipher_timing(latent_shape: tuple[int, ...], repeats: int = 20, seed: int = 0) -> dict[str, float]:
    """Seconds to encrypt + decrypt one latent with the paper's cipher and with AES-256-GCM (`cryptography`
    on the latent's bytes, a fresh nonce each time: the link's packet framing is not a run's concern).

    Parameters
    ----------
    latent_shape : tuple of int
        One latent's (height, width, channels), e.g. `Retrieved.latent_shape`.
    repeats : int, optional
        Round trips timed per cipher, at least 1; the mean is reported.
    seed : int, optional
        Draws the latent (uniform in [0, 1)) and the paper cipher's key (`cipher.key_from_seed`).

    Returns
    -------
    dict of str to float
        "cipher_seconds_paper" and "cipher_seconds_aes_gcm": mean wall seconds of one encrypt + decrypt.

    Examples
    --------
    >>> seconds = cipher_timing((8, 8, 64), repeats=2)
    >>> sorted(seconds), all(s > 0 for s in seconds.values())
    (['cipher_seconds_aes_gcm', 'cipher_seconds_paper'], True)
    """
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    z = np.random.default_rng(seed).random((1, *latent_shape), dtype=np.float32)
    paper = cipher.PaperCipher(cipher.key_from_seed(*latent_shape[:2], seed))
    aes = AESGCM(AESGCM.generate_key(bit_length=256))

    def aes_round_trip(x: np.ndarray) -> np.ndarray:
        nonce = os.urandom(12)
        return np.frombuffer(aes.decrypt(nonce, aes.encrypt(nonce, x.tobytes(), None), None), np.float32)

    out = {}
    for name, round_trip in (("paper", lambda x: paper.decrypt(paper.encrypt(x))), ("aes_gcm", aes_round_trip)):
        t = time.perf_counter()
        for _ in range(repeats):
            round_trip(z)
        out[f"cipher_seconds_{name}"] = (time.perf_counter() - t) / repeats
    return out


def classifier_metrics(split: Split, clf: Classified) -> dict:
    """The classifier's test metrics, train and test accuracy, and the split sizes.

    Parameters
    ----------
    split : Split
        The data it was trained and tested on (`experiment.load_data`).
    clf : Classified
        From `classification.classify`, `classify_retrieved` or `classify_original`.

    Returns
    -------
    dict
        `metrics.classification_metrics` of the test scores (recall, precision, f1, accuracy, auc);
        train_accuracy and test_accuracy; n_train, n_val, n_test and n_test_positive; clf_seconds (its epochs'
        wall seconds); clf_steps (its optimizer's steps, 0 without a model) and clf_images_seen (epochs × n_train);
        and `clf.extra`.

    Examples
    --------
    A classifier's result made up for the example: two epochs, and test scores that rank every positive first.

    >>> import pandas as pd
    >>> from aecrypt.paper.experiment import load_data
    >>> split = load_data(RunConfig(profile="tiny", data="synthetic", overrides={"n_images": 24}))
    >>> y = split.y("test")
    >>> clf = Classified(pd.DataFrame({"seconds": [0.5, 0.25]}), np.where(y == 1, 0.8, 0.3), 0.9, 1.0)
    >>> m = classifier_metrics(split, clf)
    >>> m["auc"], m["n_train"], m["n_val"], m["n_test"], m["n_test_positive"]
    (1.0, 14, 4, 6, 2)
    >>> m["clf_seconds"], m["clf_steps"], m["clf_images_seen"]
    (0.75, 0, 28)
    """
    test_y = split.y("test")
    m = metrics.classification_metrics(test_y, clf.scores)
    m["train_accuracy"] = clf.train_accuracy
    m["test_accuracy"] = clf.test_accuracy
    m["n_train"], m["n_val"], m["n_test"] = (int(len(split.index[k])) for k in PARTS)
    m["n_test_positive"] = int(test_y.sum())
    m["clf_seconds"] = float(clf.history["seconds"].sum())
    m |= _training_length("clf", clf.model, len(clf.history), m["n_train"])
    return m | clf.extra


def _training_length(prefix: str, model: keras.Model | None, epochs: int, n_train: int) -> dict[str, int]:
    """The optimizer steps a model took (its optimizer's own count) and the training images it saw: what every
    trained-model result is relative to (aecrypt.budget)."""
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations)) if model is not None else 0
    return {f"{prefix}_steps": steps, f"{prefix}_images_seen": int(epochs * n_train)}


def mean_image_metrics(split: Split) -> dict[str, float]:
    """The test MSE, MAE, PSNR and SSIM of predicting the training set's pixel-wise mean image for every test
    image: what an autoencoder that learned nothing image-specific scores (`stats.training`'s "not trained").

    Parameters
    ----------
    split : Split
        From `experiment.load_data`.

    Returns
    -------
    dict of str to float
        mse_mean_image, mae_mean_image, psnr_mean_image and ssim_mean_image (`metrics.reconstruction_metrics`).

    Examples
    --------
    >>> from aecrypt.paper.experiment import load_data
    >>> split = load_data(RunConfig(profile="tiny", data="synthetic"))
    >>> {k: round(v, 3) for k, v in mean_image_metrics(split).items()}
    {'mse_mean_image': 0.007, 'mae_mean_image': 0.069, 'psnr_mean_image': 22.247, 'ssim_mean_image': 0.79}
    """
    mean = split.x("train").mean(axis=0, dtype=np.float64).astype(np.float32)
    test = split.x("test")
    reference = metrics.reconstruction_metrics(test, np.broadcast_to(mean, test.shape))
    return {f"{k}_mean_image": v for k, v in reference.items()}


def collect_metrics(cfg: RunConfig, split: Split, trained: Trained, retrieved: Retrieved, clf: Classified) -> dict:
    """A combination's run in numbers: the scalars its metrics.json holds besides the stage clock.

    Parameters
    ----------
    cfg : RunConfig
        The run: its profile's size and epoch checkpoints, and the data seed (the cipher timing's).
    split : Split
        From `experiment.load_data`.
    trained : Trained
        From `train_autoencoder`: its history must hold every checkpoint epoch of the profile.
    retrieved : Retrieved
        From `retrieval.retrieve`.
    clf : Classified
        From `classification.classify_retrieved`.

    Returns
    -------
    dict
        The retrieved test images' mse, mae, psnr and ssim against the originals; loss_at_<c> and
        val_loss_at_<c> for each checkpoint epoch c, final_loss and final_val_loss; `classifier_metrics`;
        ae_steps and ae_images_seen; `mean_image_metrics`; the cipher's checks (cipher_max_error,
        cipher_domain_violations, cipher_pixel_max_difference); latent_elements, image_elements and their ratio;
        seconds_per_epoch (the median epoch) and ae_seconds; and `cipher_timing` of the latent.

    Examples
    --------
    An untrained autoencoder and made-up histories and scores, to keep it quick:

    >>> import pandas as pd
    >>> from aecrypt.paper import models
    >>> from aecrypt.paper.experiment import load_data, start
    >>> from aecrypt.paper.retrieval import retrieve
    >>> cfg = RunConfig(profile="tiny", data="synthetic", depth=2, overrides={"n_images": 24})
    >>> start(cfg)
    >>> split = load_data(cfg)
    >>> ae = models.build_autoencoder(32, depth=2)
    >>> models.compile_autoencoder(ae, cfg.loss, cfg.optimizer)
    >>> history = pd.DataFrame({"epoch": [1, 2], "loss": [0.04, 0.02], "val_loss": [0.05, 0.03], "seconds": [3.0, 1.0]})
    >>> trained = Trained(ae, history)
    >>> retrieved = retrieve(cfg, trained, split)
    >>> y = split.y("test")
    >>> clf = Classified(pd.DataFrame({"seconds": [0.5]}), np.where(y == 1, 0.8, 0.3), 0.9, 1.0)
    >>> m = collect_metrics(cfg, split, trained, retrieved, clf)
    >>> cfg.settings.checkpoints, m["loss_at_1"], m["val_loss_at_2"], m["final_loss"], m["seconds_per_epoch"]
    ((1, 2), 0.04, 0.03, 0.02, 2.0)
    >>> m["latent_elements"], m["image_elements"], m["latent_to_image_ratio"], m["ae_steps"], m["ae_images_seen"]
    (16384, 1024, 16.0, 0, 28)
    >>> m["auc"], m["cipher_domain_violations"], "psnr" in m and "ssim_mean_image" in m and "cipher_seconds_paper" in m
    (1.0, 0.0, True)
    """
    p = cfg.settings
    m: dict = {}
    m.update(metrics.reconstruction_metrics(split.x("test"), retrieved.images["test"]))
    ae_hist = trained.history
    for c in p.checkpoints:
        at = ae_hist.loc[ae_hist.epoch == c].iloc[0]
        m[f"loss_at_{c}"], m[f"val_loss_at_{c}"] = float(at["loss"]), float(at["val_loss"])
    m["final_loss"] = float(ae_hist["loss"].iloc[-1])
    m["final_val_loss"] = float(ae_hist["val_loss"].iloc[-1])
    m.update(classifier_metrics(split, clf))
    m |= _training_length("ae", trained.ae.autoencoder, len(ae_hist), m["n_train"])
    m |= mean_image_metrics(split)
    m["cipher_max_error"] = retrieved.cipher_max_error
    m["cipher_domain_violations"] = retrieved.domain_violations
    m["cipher_pixel_max_difference"] = retrieved.pixel_max_difference
    latent_elements = int(np.prod(retrieved.latent_shape))
    m["latent_elements"] = latent_elements
    m["image_elements"] = p.size * p.size
    m["latent_to_image_ratio"] = latent_elements / (p.size * p.size)
    m["seconds_per_epoch"] = float(np.median(ae_hist["seconds"]))
    m["ae_seconds"] = float(ae_hist["seconds"].sum())
    m.update(cipher_timing(retrieved.latent_shape, seed=cfg.data_seed))
    return m
