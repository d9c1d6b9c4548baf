"""The steps of one run, in the order notebooks/experiment.ipynb calls them.

data → train the autoencoder (one training of max epochs; the history gives every checkpoint) →
encoder → paper cipher → decrypt → decoder for every image, streamed in chunks → classifier on
retrieved images → metrics on the held-out split → the run's files.

The classifier on the *original* images does not depend on the combination: notebooks/baseline.ipynb
trains it once per (data, profile, training seed) and every run of that seed shares it (`runs.table.collect`).
The files a run writes are `paper.runfiles`.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, make_dataclass

import keras
import numpy as np
import pandas as pd

from aecrypt import AecryptError, runtime
from aecrypt.data import codecs
from aecrypt.data.dataset import Dataset, load_dataset
from aecrypt.data.splits import split_by_counts, split_indices, split_patients_by_counts
from aecrypt.paper import choices, cipher, metrics, models, parameters
from aecrypt.profiles import get_profile

N_SAMPLES = 4  # images kept for Fig. 4
PARTS = ("train", "val", "test")
#: Latents are never all in memory at once: retrieval streams chunks of about this many bytes of latent
#: (at 200², depth 2 one latent is 2.5 MB, so all 9000 would be 23 GB).
LATENT_CHUNK_BYTES = 64 * 2**20


class StageClock:
    """Wall seconds per stage of a run, written to metrics.json as seconds_<stage>. `startup` is the
    time from the run's start to the clock's creation: kernel launch and imports in a fresh kernel, the reset
    in a reused one (`runtime.run_started`)."""

    def __init__(self):
        self.started = time.perf_counter()
        self.seconds = {"startup": time.time() - runtime.run_started()}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t

    def as_metrics(self) -> dict[str, float]:
        out = {f"seconds_{k}": v for k, v in self.seconds.items()}
        out["total_seconds"] = time.perf_counter() - self.started
        out["peak_rss_mb"] = runtime.peak_memory_mb()
        return out


class _Config:
    """The methods of `RunConfig`, whose fields come from `parameters.PARAMETERS`."""

    def __post_init__(self):
        p = get_profile(self.profile).with_overrides(self.overrides)
        for name in parameters.PARAMETERS:
            object.__setattr__(self, name, parameters.coerce(name, getattr(self, name)))
        object.__setattr__(self, "data", self.data or p.default_data)
        object.__setattr__(self, "depth", choices.validate_depth(self.depth, p.size))
        if self.codec:
            codecs.parse_codec(self.codec)

    @property
    def settings(self):
        return get_profile(self.profile).with_overrides(self.overrides)

    @property
    def label(self) -> str:
        """The paper's way of naming a combination, e.g. MSLE+Adagrad+ReLU+2, with the optional parameters set."""
        return parameters.label(vars(self))

    @classmethod
    def from_namespace(cls, namespace: dict) -> RunConfig:
        """The config of a notebook's parameters (its `globals()`): every parameter and the overrides found."""
        return cls(**{n: namespace[n] for n in [*parameters.PARAMETERS, "overrides"] if n in namespace})


#: Everything that defines one run, validated on construction: one field per run parameter
#: (`paper.parameters`), and the profile settings changed for this run only.
RunConfig = make_dataclass(
    "RunConfig",
    parameters.fields(last=[("overrides", dict, field(default_factory=dict, hash=False))]),
    bases=(_Config,),
    frozen=True,
)
RunConfig.__module__ = __name__  # where pickle finds it (a process pool's workers, dask)


@dataclass
class Split:
    dataset: Dataset
    index: dict[str, np.ndarray]

    def x(self, part: str) -> np.ndarray:
        return self.rows(self.index[part])

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.dataset.images[index][..., None]

    def y(self, part: str) -> np.ndarray:
        return self.dataset.labels[self.index[part]]

    def keys(self, part: str) -> np.ndarray:
        """Which images a part holds (file names as released, phantom numbers)."""
        return self.dataset.keys[self.index[part]]


def start(cfg: RunConfig) -> None:
    """Seed every generator with the training seed and set the profile's precision policy; the same config
    then gives the same metrics on CPU. (The data, its split and the key follow the data seed.)

    Parameters
    ----------
    cfg : RunConfig
        The run: its `seed` seeds Python's, NumPy's and the backend's generators (keras.utils.set_random_seed);
        its profile's `dtype_policy` becomes Keras' global dtype policy.

    Returns
    -------
    None
        Process-wide state is set.

    Examples
    --------
    >>> cfg = RunConfig(profile="tiny", data="synthetic", seed=3)
    >>> start(cfg)
    >>> keras.mixed_precision.global_policy().name
    'float32'
    >>> first = np.random.random()
    >>> start(cfg)
    >>> np.random.random() == first
    True
    """
    keras.mixed_precision.set_global_policy(cfg.settings.dtype_policy)
    keras.utils.set_random_seed(cfg.seed)


def load_data(cfg: RunConfig) -> Split:
    """The run's images and their train / val / test split, both drawn from the data seed.

    The profile's exact split sizes, where it has them, split the images (patient-wise on real data), else its
    test and validation fractions do (`data.splits`). A run at a smaller size than its profile's (an override)
    says so in the data set's notes.

    Parameters
    ----------
    cfg : RunConfig
        The run: its `data` source, `data_seed` and profile settings (size, number of images, split).

    Returns
    -------
    Split
        The `Dataset` (float32 images in [0, 1], labels, keys) and the indices of each part, "train", "val" and
        "test"; `Split.x(part)` gives a part's images as (n, size, size, 1).

    Raises
    ------
    UsageError
        For a data source that cannot be read or split.

    Examples
    --------
    >>> split = load_data(RunConfig(profile="tiny", data="synthetic"))
    >>> {part: len(index) for part, index in split.index.items()}
    {'train': 72, 'val': 18, 'test': 30}
    >>> split.x("train").shape, split.x("train").dtype, split.keys("test")[:2].tolist()
    ((72, 32, 32, 1), dtype('float32'), ['phantom0', 'phantom4'])
    """
    p = cfg.settings
    ds = load_dataset(cfg.data, p.size, p.images_for(cfg.data), cfg.data_seed)
    if p.size != (profile_size := get_profile(cfg.profile).size):
        smaller = f"run at {p.size}×{p.size}, not the profile's {profile_size}×{profile_size}: the images are smaller"
        ds.notes = ds.notes + [smaller]
    if p.split_counts:  # exact sizes: one image per phantom; patient-wise on real data
        split = split_by_counts if cfg.data == "synthetic" else split_patients_by_counts
        return Split(ds, split(ds, p.split_counts, cfg.data_seed))
    return Split(ds, split_indices(ds, p.test_fraction, p.val_fraction, cfg.data_seed))


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t)


class StopOnNaN(keras.callbacks.Callback):
    """A diverged run is a result to record, not something to train on for more epochs."""

    def on_epoch_end(self, epoch, logs=None):
        if logs and not np.isfinite(logs.get("loss", 0.0)):
            raise AecryptError(f"autoencoder loss became {logs['loss']} at epoch {epoch + 1} (diverged)")


def _history_frame(history: keras.callbacks.History, model: str, seconds: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    frame.insert(0, "model", model)
    frame["seconds"] = seconds
    return frame


@dataclass
class Trained:
    ae: models.Autoencoder
    history: pd.DataFrame


def train_autoencoder(cfg: RunConfig, split: Split, verbose: int = 0) -> Trained:
    """Build the combination's autoencoder and train it once, for the profile's `ae_epochs`, to reproduce the
    training images (validated on the "val" part), shuffled, in the profile's batches.

    Call `start` first: the initial weights and the order of the images follow the generators' state.

    Parameters
    ----------
    cfg : RunConfig
        The run: its loss, optimizer (with `learning_rate` if set), depth, activation, bottleneck and profile.
    split : Split
        From `load_data`.
    verbose : int, optional
        Keras' fit verbosity: 0 silent, 1 a progress bar, 2 a line per epoch.

    Returns
    -------
    Trained
        The trained `models.Autoencoder` and its history: one row per epoch, with the model ("autoencoder"),
        the epoch (from 1), loss, mae, mse, their val_ values and the epoch's wall seconds.

    Raises
    ------
    AecryptError
        Where the training loss becomes NaN or infinite (the run diverged): training stops at that epoch.

    Examples
    --------
    >>> cfg = RunConfig(profile="tiny", data="synthetic", depth=2, overrides={"n_images": 24, "ae_epochs": 1})
    >>> start(cfg)
    >>> trained = train_autoencoder(cfg, load_data(cfg))
    >>> trained.ae.autoencoder.name, len(trained.history), bool(np.isfinite(trained.history["loss"]).all())
    ('autoencoder_d2', 1, True)
    >>> list(trained.history.columns)
    ['model', 'epoch', 'loss', 'mae', 'mse', 'val_loss', 'val_mae', 'val_mse', 'seconds']
    """
    p = cfg.settings
    ae = models.build_autoencoder(p.size, cfg.depth, cfg.activation, cfg.bottleneck)
    models.compile_autoencoder(
        ae,
        cfg.loss,
        cfg.optimizer,
        jit_compile=p.jit_compile,
        optimizer_options=parameters.options(vars(cfg), "optimizer"),
    )
    timer = EpochTimer()
    hist = ae.autoencoder.fit(
        split.x("train"),
        split.x("train"),
        validation_data=(split.x("val"), split.x("val")),
        epochs=p.ae_epochs,
        batch_size=p.batch_size,
        shuffle=True,
        verbose=verbose,
        callbacks=[timer, StopOnNaN()],
    )
    return Trained(ae, _history_frame(hist, "autoencoder", timer.seconds))


@dataclass
class Retrieved:
    """Images after encoder → cipher → decrypt → decoder, per split, and what the cipher did."""

    images: dict[str, np.ndarray]
    latent_shape: tuple[int, ...]
    cipher_max_error: float
    domain_violations: float  # fraction of latent entries with z + K < 0
    pixel_max_difference: float  # largest |retrieved − decoded without the cipher|, cipher.CHECK_IMAGES test images
    samples: dict[str, np.ndarray] = field(default_factory=dict)


def _apply(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """One forward pass as NumPy. A direct call, not predict(): no function tracing per new shape,
    which costs more than the pass itself on the small default profile."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def _chunk_size(latent: tuple[int, ...], batch_size: int) -> int:
    """Images per retrieval chunk: about LATENT_CHUNK_BYTES of latent, a whole number of batches."""
    per_image = 4 * math.prod(latent)
    return max(batch_size, min(2048, LATENT_CHUNK_BYTES // per_image // batch_size * batch_size))


def retrieve(cfg: RunConfig, trained: Trained, split: Split) -> Retrieved:
    """Every image of every split through encoder → encrypt → decrypt → decoder, a chunk at a time:
    memory holds the retrieved images (the size of the data set) and one chunk of latents, never all.
    The first cipher.CHECK_IMAGES test images are also decoded without the cipher (in one batch of their own, both
    ways), to measure what the cipher alone changes. With `cfg.with_cipher` False the decoder gets the latents
    themselves (the reference run).

    Parameters
    ----------
    cfg : RunConfig
        The run: its depth and bottleneck (the latent's shape), `with_cipher`, and the key: `key_image` if set,
        else drawn from `data_seed`.
    trained : Trained
        The autoencoder (`train_autoencoder`); only its encoder and decoder are used.
    split : Split
        From `load_data`.

    Returns
    -------
    Retrieved
        The retrieved images of each part, (n, size, size, 1) float32 in the order of `split.index`; the
        latent's shape; the largest |decrypt(encrypt(z)) − z| (0 without the cipher); the share of latent
        entries with z + K < 0; the largest pixel difference the cipher makes (0 without it); and the first
        `N_SAMPLES` test images at every stage (`samples`, for Fig. 4).

    Examples
    --------
    An untrained autoencoder, to keep it quick:

    >>> cfg = RunConfig(profile="tiny", data="synthetic", depth=2, overrides={"n_images": 24})
    >>> start(cfg)
    >>> split = load_data(cfg)
    >>> trained = Trained(models.build_autoencoder(32, depth=2), pd.DataFrame())
    >>> r = retrieve(cfg, trained, split)
    >>> {part: x.shape for part, x in r.images.items()}, r.latent_shape
    ({'train': (14, 32, 32, 1), 'val': (4, 32, 32, 1), 'test': (6, 32, 32, 1)}, (16, 16, 64))
    >>> r.cipher_max_error < 1e-5, r.domain_violations, r.pixel_max_difference < 1e-5, r.samples["retrieved"].shape
    (True, 0.0, True, (4, 32, 32))
    >>> sorted(r.samples)
    ['decrypted_as_written', 'encrypted_channel0', 'encrypted_mean', 'key', 'labels', 'latent_channel0',
     'latent_mean', 'original', 'retrieved', 'without_cipher']
    >>> reference = retrieve(RunConfig(profile="tiny", data="synthetic", depth=2, with_cipher=False,
    ...                                overrides={"n_images": 24}), trained, split)
    >>> reference.cipher_max_error, reference.pixel_max_difference
    (0.0, 0.0)
    """
    p = cfg.settings
    enc, dec = trained.ae.encoder, trained.ae.decoder
    shape = choices.latent_shape(p.size, cfg.depth, cfg.bottleneck)
    paper = cipher.make_paper_cipher(shape[:2], cfg.key_image or None, cfg.data_seed, negative="ignore")
    order = np.concatenate([split.index[part] for part in PARTS])
    decoded = np.empty((len(order), p.size, p.size, 1), np.float32)
    max_error, violations = 0.0, 0
    chunk = _chunk_size(shape, p.batch_size)
    for start in range(0, len(order), chunk):
        latent = _apply(enc, split.rows(order[start : start + chunk]))
        violations += paper.domain_violations(latent)
        if cfg.with_cipher:
            decrypted = paper.decrypt(paper.encrypt(latent))
            max_error = max(max_error, float(np.max(np.abs(decrypted - latent))))
            latent = decrypted
        decoded[start : start + len(latent)] = _apply(dec, latent)
    bounds = np.cumsum([0] + [len(split.index[part]) for part in PARTS])
    images = {part: decoded[bounds[i] : bounds[i + 1]] for i, part in enumerate(PARTS)}  # views, no copies
    samples = _fig4_samples(paper, trained.ae, split, images["test"])
    share = violations / (len(order) * math.prod(shape))
    pixel_difference = _cipher_pixel_difference(paper, trained.ae, split) if cfg.with_cipher else 0.0
    return Retrieved(images, shape, max_error, share, pixel_difference, samples)


def _cipher_pixel_difference(paper: cipher.PaperCipher, ae: models.Autoencoder, split: Split) -> float:
    """The largest |decoded through the cipher − decoded without it| over every pixel of the first
    cipher.CHECK_IMAGES test images, both decoded in the same batch shape (so that the difference is the cipher's,
    not the kernels' for another batch size)."""
    latent = _apply(ae.encoder, split.rows(split.index["test"][: cipher.CHECK_IMAGES]))
    through = _apply(ae.decoder, paper.decrypt(paper.encrypt(latent)))
    return float(np.max(np.abs(through - _apply(ae.decoder, latent)))) if len(latent) else 0.0


def _fig4_samples(paper: cipher.PaperCipher, ae: models.Autoencoder, split: Split, retrieved_test: np.ndarray) -> dict:
    """The first test images at every stage, decoded also without the cipher and with the text's other
    reading of the decryption (Fig. 4 and the decryption-readings figure)."""
    k = min(N_SAMPLES, len(split.index["test"]))
    original = split.rows(split.index["test"][:k])
    latent = _apply(ae.encoder, original)
    encrypted = paper.encrypt(latent)
    other_reading = np.nan_to_num(paper.decrypt_as_written(encrypted))
    extra = _apply(ae.decoder, np.concatenate([latent, other_reading]))
    return {
        "original": original[..., 0],
        "latent_mean": latent.mean(axis=-1),
        "latent_channel0": latent[..., 0],
        "encrypted_mean": encrypted.mean(axis=-1),
        "encrypted_channel0": encrypted[..., 0],
        "retrieved": retrieved_test[:k, ..., 0],
        "without_cipher": extra[:k, ..., 0],
        "decrypted_as_written": extra[k:, ..., 0],
        "labels": split.y("test")[:k],
        "key": paper.key,
    }


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
    ran before it; it trains for the profile's `clf_epochs`, shuffled, in the profile's batches.

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
    hist = model.fit(
        train_x,
        train_y,
        validation_data=(val_x, val_y),
        epochs=p.clf_epochs,
        batch_size=p.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[timer],
    )
    scores = _scores(model, test_x)
    train_acc = float(metrics.classification_metrics(train_y, _scores(model, train_x))["accuracy"])
    test_acc = float(metrics.classification_metrics(test_y, scores)["accuracy"])
    return Classified(_history_frame(hist, name, timer.seconds), scores, train_acc, test_acc, model)


#: Images per forward pass when the classifier scores a split (its activations at 200² are 2.6 MB an image).
SCORE_BATCH = 256


def _scores(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The classifier's probabilities for `x`, by direct calls (`_apply`): predict() and evaluate() each trace
    a function first, which costs more than scoring the default profile's test split."""
    return np.concatenate([_apply(model, x[i : i + SCORE_BATCH]).ravel() for i in range(0, len(x), SCORE_BATCH)])


def classify_retrieved(cfg: RunConfig, retrieved: Retrieved, split: Split) -> Classified:
    """The classifier trained, validated and tested on the retrieved images of each part (`classify`).

    Parameters
    ----------
    cfg : RunConfig
        The run.
    retrieved : Retrieved
        From `retrieve`: the images the classifier sees.
    split : Split
        From `load_data`: the labels of those images.

    Returns
    -------
    Classified
        As `classify` returns it, named "classifier" in its history.

    Examples
    --------
    An untrained autoencoder, to keep it quick:

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
        From `load_data`.

    Returns
    -------
    Classified
        As `classify` returns it, named "classifier_original" in its history. With a codec, `extra` holds the
        codec, its mean bits per pixel over the test images' files ("codec_bpp") and the mse, mae, psnr and
        ssim of the test images it gives back; without one, `extra` is empty.

    Examples
    --------
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
        The data it was trained and tested on (`load_data`).
    clf : Classified
        From `classify`, `classify_retrieved` or `classify_original`.

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
        From `load_data`.

    Returns
    -------
    dict of str to float
        mse_mean_image, mae_mean_image, psnr_mean_image and ssim_mean_image (`metrics.reconstruction_metrics`).

    Examples
    --------
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
        From `load_data`.
    trained : Trained
        From `train_autoencoder`: its history must hold every checkpoint epoch of the profile.
    retrieved : Retrieved
        From `retrieve`.
    clf : Classified
        From `classify_retrieved`.

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
