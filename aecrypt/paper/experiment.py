"""A run's configuration, its data and the autoencoder's training: the first steps of one run, in the order
notebooks/experiment.ipynb calls them.

data → train the autoencoder (one training of max epochs; the history gives every checkpoint) → the latent
through the paper's cipher and the decoder for every image (`paper.retrieval`) → the classifier on the retrieved
images (`paper.classification`) → the run's numbers on the held-out split (`paper.runmetrics`) → the run's
files (`paper.runfiles`).

The classifier on the *original* images does not depend on the combination: notebooks/baseline.ipynb
trains it once per (data, profile, training seed) and every run of that seed shares it (`runs.table.collect`).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, make_dataclass

import keras
import numpy as np
import pandas as pd

from aecrypt import AecryptError, runtime
from aecrypt.data import codecs
from aecrypt.data.dataset import Dataset, load_dataset
from aecrypt.data.splits import split_by_counts, split_indices, split_patients_by_counts
from aecrypt.paper import batches, choices, models, parameters
from aecrypt.profiles import get_profile

#: The parts of a run's split, in the order retrieval streams them.
PARTS = ("train", "val", "test")


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
    """Each epoch's wall seconds, and the history of a fit as the run's files keep it."""

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t)

    def frame(self, history: keras.callbacks.History, model: str) -> pd.DataFrame:
        """One row per epoch: the model's name, the epoch (from 1), what Keras logged and the epoch's seconds."""
        frame = pd.DataFrame(history.history)
        frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
        frame.insert(0, "model", model)
        frame["seconds"] = self.seconds
        return frame


class StopOnNaN(keras.callbacks.Callback):
    """A diverged run is a result to record, not something to train on for more epochs."""

    def on_epoch_end(self, epoch, logs=None):
        if logs and not np.isfinite(logs.get("loss", 0.0)):
            raise AecryptError(f"autoencoder loss became {logs['loss']} at epoch {epoch + 1} (diverged)")


@dataclass
class Trained:
    ae: models.Autoencoder
    history: pd.DataFrame


def train_autoencoder(cfg: RunConfig, split: Split, verbose: int = 0) -> Trained:
    """Build the combination's autoencoder and train it once, for the profile's `ae_epochs`, to reproduce the
    training images (validated on the "val" part), in the profile's batches, shuffled anew each epoch in an
    order drawn from the training seed (`batches.fit_arguments`).

    Call `start` first: the initial weights follow the generators' state.

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
    train, val = split.x("train"), split.x("val")  # each a copy: made once, the inputs and the targets
    data = batches.fit_arguments(train, train, (val, val), p.batch_size, seed=cfg.seed)
    hist = ae.autoencoder.fit(**data, epochs=p.ae_epochs, verbose=verbose, callbacks=[timer, StopOnNaN()])
    return Trained(ae, timer.frame(hist, "autoencoder"))
