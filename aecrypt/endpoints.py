"""The two ends of the paper's link as code. A sender encodes images with a trained run's encoder and seals
each latent into a packet (`packets`); a receiver checks and opens packets, decodes them with the same run's
decoder and scores them with its classifier. The transport between them (files, MQTT) is not their concern."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import AecryptError, packets, paths, runtime
from .keys import KeyFile

MODEL_FILES = paths.RUN_MODELS
AEAD_CIPHERS = tuple(packets.AEAD)


def list_runs(profile: str, results_root: Path | None = None) -> pd.DataFrame:
    """The finished runs of a profile that kept their models: id, label, seed, image size."""
    runs_dir = paths.runs_dir(profile, results_root)
    rows = []
    for folder in sorted(p for p in runs_dir.glob("*") if p.is_dir()):
        params = _json(folder / "params.json")
        config = _json(folder / "config.json")
        if not params or params.get("template", "experiment") == "baseline" or "loss" not in params:
            continue
        rows.append(
            {
                "run_id": folder.name,
                "run_label": params.get("run_label", ""),
                "size": config.get("profile_settings", {}).get("size"),
                "models": all((folder / f).is_file() for f in MODEL_FILES.values()),
                "with_cipher": bool(params.get("with_cipher", True)),  # False: a reference run's twin models
            }
        )
    return pd.DataFrame(rows, columns=["run_id", "run_label", "size", "models", "with_cipher"])


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def find_run(run: str, profile: str, results_root: Path | None = None) -> Path:
    """A run folder by its id or a unique prefix of it (at least 4 characters)."""
    runs_dir = paths.runs_dir(profile, results_root)
    text = str(run).strip().lower()
    matches = [p for p in runs_dir.glob(f"{text}*") if p.is_dir()] if len(text) >= 4 else []
    if len(matches) != 1:
        what = "no run" if not matches else f"{len(matches)} runs"
        raise AecryptError(
            f"{what} in {runs_dir} with an id starting {text!r}; `aecrypt runs --profile {profile}` lists them "
            "(give at least 4 characters of an id)"
        )
    return matches[0]


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
    def load(cls, folder: Path) -> TrainedRun:
        missing = [f for f in MODEL_FILES.values() if not (folder / f).is_file()]
        if missing:
            raise AecryptError(
                f"run {folder.name} kept no models ({', '.join(missing)} missing); rerun it with this aecrypt"
            )
        runtime.configure()
        config = _json(folder / "config.json")
        size = int(config["profile_settings"]["size"])
        with runtime.stderr_to(os.devnull):
            import keras

            loaded = {k: keras.saving.load_model(folder / f, compile=False) for k, f in MODEL_FILES.items()}
            run = cls(folder.name, folder, size, config.get("label", ""), **loaded)
            run.score(run.decode(run.encode(np.zeros((1, size, size), np.float32))))  # the first call's start-up lines
        return run

    @property
    def run_id_bytes(self) -> bytes:
        return packets.run_id_bytes(self.run_id)

    @property
    def latent_hw(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.encoder.output_shape[1:3])

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
        return self._apply(self.classifier, images[..., None]).ravel()


def paper_key_image(run: TrainedRun, key: KeyFile, key_image: Path | None = None) -> np.ndarray:
    """The paper cipher's key image: from an image file if given, else derived from the key file (HKDF)."""
    from .cipher import key_from_image

    h, w = run.latent_hw
    return key_from_image(key_image, h, w) if key_image else key.paper_key_image(h, w)


@dataclass
class Sender:
    run: TrainedRun
    key: KeyFile = field(repr=False)
    cipher: str = "aes-gcm"
    quantisation: str = "float32"
    name: str = "aecrypt"
    key_image: np.ndarray | None = field(default=None, repr=False)
    sequence: int = 0

    def seal(self, images: np.ndarray) -> list[bytes]:
        """One packet per image (N × size × size in [0, 1]), numbered on from the last call: the encoder's
        latent, or with quantisation "png" the image itself (no encoder at either end)."""
        out = []
        payloads = images if self.quantisation == "png" else self.run.encode(images)
        for payload in payloads:
            out.append(
                packets.seal(
                    payload[None],
                    self.cipher,
                    self.key.key,
                    self.key.key_id,
                    self.run.run_id_bytes,
                    packets.sender_id(self.name),
                    self.sequence,
                    self.quantisation,
                    self.key_image,
                )
            )
            self.sequence += 1
        return out


@dataclass
class Received:
    header: packets.Header
    image: np.ndarray
    score: float


@dataclass
class Receiver:
    run: TrainedRun
    key: KeyFile = field(repr=False)
    ciphers: tuple[str, ...] = AEAD_CIPHERS
    key_image: np.ndarray | None = field(default=None, repr=False)

    def open(self, data: bytes) -> tuple[packets.Header, np.ndarray]:
        return packets.open_packet(
            data, self.key.key, self.key.key_id, self.run.run_id_bytes, self.key_image, self.ciphers
        )

    def image(self, header: packets.Header, payload: np.ndarray) -> np.ndarray:
        """The image an opened packet carries (1 × size × size): its latent decoded, or a png payload as it is."""
        return payload if header.quantisation == "png" else self.run.decode(payload)

    def receive(self, batch: list[bytes], names: list[str] | None = None) -> list[Received]:
        """Open every packet first (a refusal raises before anything is decoded, naming the packet), then decode
        and score."""
        opened = []
        for i, data in enumerate(batch):
            try:
                opened.append(self.open(data))
            except packets.PacketError as exc:
                where = names[i] if names else f"packet {i}"
                raise packets.PacketError(f"{where}: {exc}") from None
        if not opened:
            return []
        latent = [i for i, (h, _) in enumerate(opened) if h.quantisation != "png"]
        images = [z[0] for _, z in opened]  # png payloads are the images; latents are decoded in one batch
        if latent:
            for i, image in zip(latent, self.run.decode(np.concatenate([opened[i][1] for i in latent])), strict=True):
                images[i] = image
        images = np.stack(images)
        scores = self.run.score(images)
        return [Received(h, img, float(s)) for (h, _), img, s in zip(opened, images, scores, strict=True)]
