"""A finished run's trained models (encoder, decoder, classifier), found by id and loaded once: what the
link's sender and receiver, the cipher audit and the compression step use."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aecrypt import UsageError, paths, runtime
from aecrypt.files import read_json
from aecrypt.paper.choices import MAX_SIDE, MIN_SIDE
from aecrypt.paths import RUN_FILES

MODEL_FILES = RUN_FILES.models
log = logging.getLogger(__name__)


def list_runs(profile: str, results_root: Path | None = None) -> pd.DataFrame:
    """The finished runs of a profile that kept their models: id, label, seed, image size."""
    runs_dir = paths.runs_dir(profile, results_root)
    rows = []
    for folder in sorted(p for p in runs_dir.glob("*") if p.is_dir()):
        try:
            params = read_json(folder / RUN_FILES.params)
            config = read_json(folder / RUN_FILES.config)
            if not params or params.get("template", "experiment") == "baseline" or "loss" not in params:
                continue
            rows.append(
                {
                    "run_id": folder.name,
                    "run_label": str(params.get("run_label", "")),
                    "size": (config.get("profile_settings") or {}).get("size"),
                    "models": all((folder / f).is_file() for f in MODEL_FILES.values()),
                    "with_cipher": bool(params.get("with_cipher", True)),  # False: a reference run's twin models
                    "bottleneck": int(params.get("bottleneck", 0)),  # > 0: the compression chapter's variant
                }
            )
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # an imported archive may hold anything
            log.warning(
                f"skipped run folder {folder}: its {RUN_FILES.params} or {RUN_FILES.config} is malformed ({exc})"
            )
    return pd.DataFrame(rows, columns=["run_id", "run_label", "size", "models", "with_cipher", "bottleneck"])


def find_run(run: str, profile: str, results_root: Path | None = None) -> Path:
    """A run folder by its id or a unique prefix of it (at least 4 characters)."""
    runs_dir = paths.runs_dir(profile, results_root)
    text = str(run).strip().lower()
    matches = [p for p in runs_dir.glob(f"{text}*") if p.is_dir()] if len(text) >= 4 else []
    if len(matches) != 1:
        what = "no run" if not matches else f"{len(matches)} runs"
        raise UsageError(
            f"{what} in {runs_dir} with an id starting {text!r}; `aecrypt runs --profile {profile}` lists them "
            "(give at least 4 characters of an id)"
        )
    return matches[0]


def _image_size(folder: Path) -> int:
    """The run's image side from its config.json, checked (an imported archive's may hold anything)."""
    try:
        size = read_json(folder / RUN_FILES.config)["profile_settings"]["size"]
        if isinstance(size, bool) or int(size) != size or not MIN_SIDE <= size <= MAX_SIDE:
            raise ValueError(size)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise UsageError(
            f"run {folder.name}: its {RUN_FILES.config} gives no image size from {MIN_SIDE} to {MAX_SIDE} pixels "
            f"(profile_settings.size: {exc}); the run folder is damaged or not one this aecrypt wrote"
        ) from None
    return int(size)


def _load_model(keras, path: Path):
    """A saved model, in Keras's safe mode (a Lambda layer's Python code is refused, never run); a file that does
    not load is one line naming it."""
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 — Keras raises many kinds for a damaged or hostile file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"run {path.parent.name}: {path.name} does not load as a model ({first[:200]}); the file is damaged, "
            "or holds code this aecrypt does not run"
        ) from None


@dataclass
class TrainedRun:
    """A finished run's models, loaded once."""

    run_id: str
    folder: Path
    size: int
    label: str
    encoder: object = field(repr=False)
    decoder: object = field(repr=False)
    classifier: object = field(repr=False)

    @classmethod
    def load(cls, folder: Path, classifier: bool = True) -> TrainedRun:
        """The run's models; without `classifier` the encoder and decoder only (the audit and the compression
        step never score: a third of the loading saved), and `score` is then unavailable."""
        wanted = {k: f for k, f in MODEL_FILES.items() if classifier or k != "classifier"}
        missing = [f for f in wanted.values() if not (folder / f).is_file()]
        if missing:
            raise UsageError(
                f"run {folder.name} kept no models ({', '.join(missing)} missing); rerun it with this aecrypt"
            )
        runtime.configure()
        size = _image_size(folder)
        with runtime.stderr_to(os.devnull):
            import keras

            runtime.freeze_imports()
            loaded = {"classifier": None} | {k: _load_model(keras, folder / f) for k, f in wanted.items()}
            if tuple(loaded["encoder"].input_shape[1:3]) != (size, size):
                raise UsageError(
                    f"run {folder.name}: its encoder takes {loaded['encoder'].input_shape[1:3]} images, but its "
                    f"{RUN_FILES.config} says {size}×{size}; the run folder is not one this aecrypt wrote"
                )
            run = cls(folder.name, folder, size, str(read_json(folder / RUN_FILES.config).get("label", "")), **loaded)
            decoded = run.decode(run.encode(np.zeros((1, size, size), np.float32)))  # the first call's start-up lines
            if classifier:
                run.score(decoded)
        return run

    @property
    def run_id_bytes(self) -> bytes:
        """The 8 bytes a packet carries to name the run (its 16 hex digits)."""
        return bytes.fromhex(self.run_id)

    @property
    def latent_hw(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.encoder.output_shape[1:3])

    @property
    def packet_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shapes a packet for this run may declare: one latent, or one image (a png payload)."""
        return {"latent": (1, *(int(s) for s in self.encoder.output_shape[1:])), "png": (1, self.size, self.size)}

    @staticmethod
    def _apply(model, x: np.ndarray, batch: int = 64) -> np.ndarray:
        """The model called directly, a batch at a time: `predict` would trace a new function per call shape."""
        x = np.asarray(x, np.float32)
        return np.concatenate([np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)])

    def encode(self, images: np.ndarray) -> np.ndarray:
        return self._apply(self.encoder, images[..., None])

    def decode(self, latents: np.ndarray) -> np.ndarray:
        return self._apply(self.decoder, latents)[..., 0]

    def score(self, images: np.ndarray) -> np.ndarray:
        if self.classifier is None:
            raise UsageError(f"run {self.run_id} was loaded without its classifier (load(..., classifier=True))")
        return self._apply(self.classifier, images[..., None]).ravel()
