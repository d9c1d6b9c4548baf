"""Attacks on the paper's cipher E = (z + K)²: with one known (latent, ciphertext) pair (`paper.cipher.
recover_key`, K = √E − z), and with ciphertexts alone; and the run's own key, rebuilt to score them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aecrypt.files import read_json
from aecrypt.paths import RUN_FILES

N_CIPHERTEXTS = (1, 2, 5, 10, 20, 50)
KEY_TOLERANCE = 1e-3  # a key pixel "recovered": within this of the true value (keys are in [0, 1))


def ciphertext_only_key(es: np.ndarray) -> np.ndarray:
    """K̂ = the smallest √E over channels and ciphertexts: exact at every pixel where some ReLU latent is 0."""
    return np.sqrt(np.asarray(es)).min(axis=(0, -1))


def paper_key_of(run_folder: Path) -> np.ndarray:
    """The run's paper-cipher key, rebuilt from its recipe (paper_key.json)."""
    from aecrypt.paper.cipher import key_from_image, key_from_seed

    recipe = read_json(run_folder / RUN_FILES.paper_key)
    h, w = recipe["height"], recipe["width"]
    return key_from_image(recipe["path"], h, w) if recipe["kind"] == "image" else key_from_seed(h, w, recipe["seed"])
