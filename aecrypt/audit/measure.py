"""Every audit measurement on one trained run: its saved encoder and decoder, its test images, its
paper-cipher key rebuilt from the recipe, and AES-256-GCM on the same latents."""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from aecrypt import AecryptError
from aecrypt.audit.attacks import KEY_TOLERANCE, N_CIPHERTEXTS, ciphertext_only_key, paper_key_of
from aecrypt.audit.randomness import adjacent_correlation, chi_squares, entropies, npcr_uaci, to_uint8
from aecrypt.paths import RUN_FILES

N_IMAGES = 64  # test images per run: enough for 50 ciphertexts and the 8-bit statistics
TAG_BYTES = 16


class _Aead:
    """AES-256-GCM or ChaCha20-Poly1305 (`cryptography`) on a latent's float32 bytes, a fresh 96-bit nonce each
    time: the cipher the audit sets beside the paper's (the link's packets add a header, not another cipher)."""

    def __init__(self, key: bytes, algorithm: str = "aes-gcm"):
        self.cipher = {"aes-gcm": AESGCM, "chacha20": ChaCha20Poly1305}[algorithm](key)

    def encrypt(self, latent: np.ndarray) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, self.cipher.encrypt(nonce, np.asarray(latent, ">f4").tobytes(), None)

    def decrypt(self, sealed: tuple[bytes, bytes]) -> np.ndarray:
        nonce, data = sealed
        return np.frombuffer(self.cipher.decrypt(nonce, data, None), ">f4")

    def ciphertext(self, latent: np.ndarray) -> np.ndarray:
        """The ciphertext bytes without the tag, as 0…255 values (what the 8-bit statistics read)."""
        return np.frombuffer(self.encrypt(latent)[1][:-TAG_BYTES], np.uint8)


def _test_images(run_folder: Path, cache: dict) -> np.ndarray:
    """The run's first N_IMAGES test images, loaded once per data set (every run of a build shares them)."""
    from aecrypt.paper import experiment

    config = json.loads((run_folder / RUN_FILES.config).read_text())
    names = {f.name for f in fields(experiment.RunConfig)}
    cfg = experiment.RunConfig(**{k: v for k, v in config.items() if k in names})
    key = (cfg.data, cfg.settings.size, cfg.data_seed, json.dumps(cfg.overrides, sort_keys=True))
    if key not in cache:
        split = experiment.load_data(cfg)
        cache[key] = split.x("test")[:N_IMAGES, ..., 0]
    return cache[key]


def audit_run(run_folder: Path, cache: dict | None = None) -> tuple[dict, dict]:
    """Every measurement on one run's latents: (numbers, example pictures)."""
    from aecrypt.paper import metrics
    from aecrypt.paper.cipher import PaperCipher, recover_key
    from aecrypt.runs.trained import TrainedRun

    run = TrainedRun.load(run_folder, classifier=False)
    images = _test_images(run_folder, {} if cache is None else cache)
    if len(images) < 2:
        raise AecryptError(f"run {run.run_id}: fewer than 2 test images to audit")
    key = paper_key_of(run_folder)
    paper = PaperCipher(key, negative="ignore")
    z = run.encode(images)
    e = paper.encrypt(z)
    clean = bool((z + key[:, :, None] >= 0).all())
    out: dict = {"run_id": run.run_id, "label": run.label, "latent_shape": list(z.shape[1:]), "images": len(z)}
    out["relu_domain"] = clean

    # known plaintext: one pair gives the key; the key then reads every other latent
    k1 = recover_key(z[0], e[0])
    out["kp_key_error"] = float(np.abs(k1 - key).max())
    out["kp_latent_error"] = float(np.abs(PaperCipher(k1, negative="ignore").decrypt(e[1:]) - z[1:]).max())
    # ciphertext only: the running minimum of √E
    for n in N_CIPHERTEXTS:
        if n <= len(e):
            err = np.abs(ciphertext_only_key(e[:n]) - key)
            out[f"co_key_error_mean_{n}"] = float(err.mean())
            out[f"co_key_exact_{n}"] = float((err < KEY_TOLERANCE).mean())
    # what an eavesdropper with the decoder sees from √E = z + K, against the receiver's decode
    legit = run.decode(z)
    eaves = run.decode(np.sqrt(e).astype(np.float32))
    recovered = run.decode(PaperCipher(ciphertext_only_key(e), negative="ignore").decrypt(e))
    for name, decoded in (("legit", legit), ("eavesdropper", eaves), ("ciphertext_only", recovered)):
        m = metrics.reconstruction_metrics(images, decoded)
        out[f"{name}_ssim"], out[f"{name}_psnr"] = m["ssim"], m["psnr"]

    # the 8-bit statistics, the paper's ciphertext against AES-GCM's on the same latents
    aead = _Aead(bytes(range(32)))  # a fixed audit key: these measure the cipher, not a secret
    e8 = np.stack([to_uint8(x) for x in e])
    z8 = np.stack([to_uint8(x) for x in z])
    aes = np.stack([aead.ciphertext(x) for x in z])
    for name, view, rows in (
        ("plain", z8, np.moveaxis(z8, -1, 1)),
        ("paper", e8, np.moveaxis(e8, -1, 1)),
        ("aes", aes, aes),
    ):
        out[f"{name}_entropy"] = float(np.mean(entropies(view)))
        out[f"{name}_chi2"] = float(np.mean(chi_squares(view)))
        out[f"{name}_correlation"] = adjacent_correlation(rows)

    # one pixel of the input changed: how much of the ciphertext changes
    x2 = images[:1].copy()
    c = x2.shape[1] // 2
    x2[0, c, c] = 1.0 - x2[0, c, c]
    z2 = run.encode(x2)
    e2 = paper.encrypt(z2)
    low, high = float(e[0].min()), float(e[0].max())
    out["paper_npcr"], out["paper_uaci"] = npcr_uaci(e8[0], to_uint8(e2[0], low, high))
    out["aes_npcr"], out["aes_uaci"] = npcr_uaci(aes[0], aead.ciphertext(z2[0]))
    out["npcr_values"] = {"paper": int(e8[0].size), "aes": int(aes[0].size)}

    # key sensitivity: one key pixel off by 1/255
    k_off = key.copy()
    k_off[0, 0] = (k_off[0, 0] + 1 / 255) % 1
    wrong = run.decode(PaperCipher(k_off, negative="ignore").decrypt(e))
    out["paper_key_sensitivity"] = float((np.abs(wrong - legit) > 1 / 255).mean())
    flipped = _Aead(bytes([1]) + bytes(range(1, 32)))  # the audit key with one bit changed
    rejected = 0
    for x in z[:8]:
        try:
            flipped.decrypt(aead.encrypt(x))
        except InvalidTag:
            rejected += 1
    out["aes_key_sensitivity"] = rejected / min(8, len(z))

    # throughput, MB of latent per second, encrypt + decrypt
    nbytes = z.nbytes
    for name, c_ in (("paper", paper), ("aes", aead), ("chacha20", _Aead(bytes(32), "chacha20"))):
        t = time.perf_counter()
        for x in z:
            c_.decrypt(c_.encrypt(x))
        out[f"{name}_mb_per_s"] = nbytes / 1e6 / (time.perf_counter() - t)

    samples = {
        "original": images[0],
        "ciphertext": e8[0][..., 0],  # one channel of E, as an 8-bit image
        "eavesdropper": eaves[0],
        "recovered": recovered[0],
        "legit": legit[0],
    }
    return out, samples
