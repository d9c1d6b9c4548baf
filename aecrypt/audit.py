"""The cipher audit: the paper's cipher and AES-256-GCM measured by the tests the image-encryption literature
applies to a cipher, on the latents of a build's trained runs.

Formulas (the book's "Is it secure?" page cites them):
- histogram entropy H = −Σ p_i log₂ p_i over the 256 levels of an 8-bit view (ideal 8 bits);
- χ² of that histogram against the uniform one, 255 degrees of freedom (scipy.stats.chisquare);
- adjacent-element correlation: Pearson's r of horizontally adjacent values (ideal 0);
- NPCR = share of positions whose 8-bit value changes, UACI = mean |C₁ − C₂| / 255, for ciphertexts of two
  inputs that differ in one pixel; judged against the critical values of Wu, Noonan & Agaian, "NPCR and UACI
  randomness tests for image encryption", Cyber Journals JSAT (2011): with F = 255 and L values,
  N*_α = (F − Φ⁻¹(1−α)·√(F/L)) / (F + 1), and U*_α = μ ± Φ⁻¹(1−α/2)·σ with μ = (F + 2) / (3F + 3) and
  σ² = (F + 2)(F² + 2F + 3) / (18 (F + 1)² L F).

8-bit views: the paper's ciphertext E is float32; it is mapped to 0…255 by min–max over each image's E (the
same map for the two inputs of an NPCR pair, taken from the first). AES-GCM's ciphertext is bytes already.

`aecrypt audit` runs this as its own cached step on the runs' saved models and writes
results/<profile>/audit.json (and audit_samples.npz for the page's pictures); it never trains."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
from scipy import stats

from . import AecryptError, paths

N_CIPHERTEXTS = (1, 2, 5, 10, 20, 50)
ALPHAS = (0.05, 0.01, 0.001)
N_IMAGES = 64  # test images per run: enough for 50 ciphertexts and the 8-bit statistics
KEY_TOLERANCE = 1e-3  # a key pixel "recovered": within this of the true value (keys are in [0, 1))


# --- the statistics ---------------------------------------------------------------------------------


def to_uint8(values: np.ndarray, low: float | None = None, high: float | None = None) -> np.ndarray:
    v = np.asarray(values, np.float64)
    low = float(v.min()) if low is None else low
    high = float(v.max()) if high is None else high
    scaled = (v - low) / (high - low) if high > low else np.zeros_like(v)
    return np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)


def entropy(u8: np.ndarray) -> float:
    p = np.bincount(np.asarray(u8, np.uint8).ravel(), minlength=256) / np.size(u8)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def chi_square(u8: np.ndarray) -> float:
    return float(stats.chisquare(np.bincount(np.asarray(u8, np.uint8).ravel(), minlength=256)).statistic)


def chi_square_critical(alpha: float = 0.05) -> float:
    return float(stats.chi2.ppf(1 - alpha, 255))


def adjacent_correlation(rows: np.ndarray) -> float:
    """Pearson's r of horizontally adjacent values (last axis) of an (…, width) array."""
    a = np.asarray(rows, np.float64)
    x, y = a[..., :-1].ravel(), a[..., 1:].ravel()
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(stats.pearsonr(x, y).statistic)


def npcr_uaci(c1: np.ndarray, c2: np.ndarray) -> tuple[float, float]:
    """Per cent of positions that differ, and the mean absolute difference as a per cent of 255."""
    a, b = np.asarray(c1, np.int16), np.asarray(c2, np.int16)
    return float((a != b).mean() * 100), float(np.abs(a - b).mean() / 255 * 100)


def npcr_critical(n_values: int, alpha: float, levels: int = 256) -> float:
    f = levels - 1
    return float((f - stats.norm.ppf(1 - alpha) * np.sqrt(f / n_values)) / (f + 1) * 100)


def uaci_critical(n_values: int, alpha: float, levels: int = 256) -> tuple[float, float]:
    f = levels - 1
    mu = (f + 2) / (3 * f + 3)
    sigma = np.sqrt((f + 2) * (f**2 + 2 * f + 3) / (18 * (f + 1) ** 2 * n_values * f))
    z = stats.norm.ppf(1 - alpha / 2)
    return float((mu - z * sigma) * 100), float((mu + z * sigma) * 100)


def passes(runs: list[dict], cipher: str, alpha: float = 0.05) -> tuple[int, int]:
    """In how many audited runs a cipher ("paper" or "aes") passes NPCR and UACI at α, each run judged
    against the critical values for its own number of values L."""
    npcr = uaci = 0
    for r in runs:
        n = int(r["npcr_values"][cipher])
        low, high = uaci_critical(n, alpha)
        npcr += r[f"{cipher}_npcr"] > npcr_critical(n, alpha)
        uaci += low <= r[f"{cipher}_uaci"] <= high
    return npcr, uaci


# --- attacks on the paper's cipher -------------------------------------------------------------------


def known_plaintext_key(z: np.ndarray, e: np.ndarray) -> np.ndarray:
    """K̂ = √E − z from one pair (per pixel; the channels agree where z + K ≥ 0, their median is taken)."""
    return np.median(np.sqrt(e) - z, axis=-1)


def ciphertext_only_key(es: np.ndarray) -> np.ndarray:
    """K̂ = the smallest √E over channels and ciphertexts: exact at every pixel where some ReLU latent is 0."""
    return np.sqrt(np.asarray(es)).min(axis=(0, -1))


def paper_key_of(run_folder: Path) -> np.ndarray:
    """The run's paper-cipher key, rebuilt from its recipe (paper_key.json)."""
    from .cipher import key_from_image, key_from_seed

    recipe = json.loads((run_folder / "paper_key.json").read_text())
    h, w = recipe["height"], recipe["width"]
    return key_from_image(recipe["path"], h, w) if recipe["kind"] == "image" else key_from_seed(h, w, recipe["seed"])


# --- one run ------------------------------------------------------------------------------------------


def _test_images(run_folder: Path, cache: dict) -> np.ndarray:
    """The run's first N_IMAGES test images, loaded once per data set (every run of a build shares them)."""
    from . import experiment

    config = json.loads((run_folder / "config.json").read_text())
    names = {f.name for f in fields(experiment.RunConfig)}
    cfg = experiment.RunConfig(**{k: v for k, v in config.items() if k in names})
    key = (cfg.data, cfg.settings.size, cfg.data_seed, json.dumps(cfg.overrides, sort_keys=True))
    if key not in cache:
        split = experiment.load_data(cfg)
        cache[key] = split.x("test")[:N_IMAGES, ..., 0]
    return cache[key]


def audit_run(run_folder: Path, cache: dict | None = None) -> tuple[dict, dict]:
    """Every measurement on one run's latents: (numbers, example pictures)."""
    from . import metrics
    from .cipher import AeadCipher, PaperCipher
    from .endpoints import TrainedRun
    from .packets import PacketError, parse

    run = TrainedRun.load(run_folder)
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
    k1 = known_plaintext_key(z[0], e[0])
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
    aead = AeadCipher(bytes(range(32)), "aes-gcm")  # a fixed audit key: these measure the cipher, not a secret
    e8 = np.stack([to_uint8(x) for x in e])
    z8 = np.stack([to_uint8(x) for x in z])
    aes = np.stack([np.frombuffer(parse(aead.encrypt(x[None])).payload, np.uint8) for x in z])
    for name, view, rows in (
        ("plain", z8, np.moveaxis(z8, -1, 1)),
        ("paper", e8, np.moveaxis(e8, -1, 1)),
        ("aes", aes, aes),
    ):
        out[f"{name}_entropy"] = float(np.mean([entropy(v) for v in view]))
        out[f"{name}_chi2"] = float(np.mean([chi_square(v) for v in view]))
        out[f"{name}_correlation"] = adjacent_correlation(rows)

    # one pixel of the input changed: how much of the ciphertext changes
    x2 = images[:1].copy()
    c = x2.shape[1] // 2
    x2[0, c, c] = 1.0 - x2[0, c, c]
    z2 = run.encode(x2)
    e2 = paper.encrypt(z2)
    low, high = float(e[0].min()), float(e[0].max())
    out["paper_npcr"], out["paper_uaci"] = npcr_uaci(e8[0], to_uint8(e2[0], low, high))
    out["aes_npcr"], out["aes_uaci"] = npcr_uaci(aes[0], np.frombuffer(parse(aead.encrypt(z2)).payload, np.uint8))
    out["npcr_values"] = {"paper": int(e8[0].size), "aes": int(aes[0].size)}

    # key sensitivity: one key pixel off by 1/255
    k_off = key.copy()
    k_off[0, 0] = (k_off[0, 0] + 1 / 255) % 1
    wrong = run.decode(PaperCipher(k_off, negative="ignore").decrypt(e))
    out["paper_key_sensitivity"] = float((np.abs(wrong - legit) > 1 / 255).mean())
    flipped = AeadCipher(bytes([1]) + bytes(range(1, 32)), "aes-gcm", key_id=aead.key_id)
    rejected = 0
    for x in z[:8]:
        try:
            flipped.decrypt(aead.encrypt(x[None]))
        except PacketError:
            rejected += 1
    out["aes_key_sensitivity"] = rejected / min(8, len(z))

    # throughput, MB of latent per second, encrypt + decrypt
    nbytes = z.nbytes
    for name, c_ in (("paper", paper), ("aes", aead), ("chacha20", AeadCipher(bytes(32), "chacha20"))):
        t = time.perf_counter()
        for x in z:
            c_.decrypt(c_.encrypt(x[None]))
        out[f"{name}_mb_per_s"] = nbytes / 1e6 / (time.perf_counter() - t)

    samples = {
        "original": images[0],
        "ciphertext": e8[0][..., 0],  # one channel of E, as an 8-bit image
        "eavesdropper": eaves[0],
        "recovered": recovered[0],
        "legit": legit[0],
    }
    return out, samples


# --- the build -------------------------------------------------------------------------------------


def _inputs(run_ids: list[str]) -> str:
    from importlib import metadata

    h = hashlib.sha256(" ".join(sorted(run_ids)).encode())
    h.update(Path(__file__).read_bytes())
    h.update(metadata.version("keras").encode())
    return h.hexdigest()


def audit_path(profile: str, root: Path | None = None) -> Path:
    return paths.profile_dir(profile, root) / "audit.json"


def run_audit(profile: str, results_root: Path | None = None, force: bool = False, quiet: bool = False) -> Path:
    """Audit every finished run of a profile that kept its models; cached until the runs or this module change."""
    from .endpoints import list_runs

    table = list_runs(profile, results_root)
    table = table[table["models"] & table["with_cipher"]]  # a reference run repeats its twin's models
    if table.empty:
        raise AecryptError(f"no finished run with saved models in profile {profile!r}; run `aecrypt sweep` first")
    out = audit_path(profile, results_root)
    inputs = _inputs(list(table["run_id"]))
    if not force and out.is_file() and json.loads(out.read_text()).get("inputs") == inputs:
        if not quiet:
            print(f"audit: up to date ({len(table)} runs)")
        return out
    cache: dict = {}
    rows, best_samples = [], None
    runs_dir = paths.runs_dir(profile, results_root)
    started = time.perf_counter()
    for i, rid in enumerate(table["run_id"], 1):
        row, samples = audit_run(runs_dir / rid, cache)
        rows.append(row)
        if best_samples is None or (row["relu_domain"] and row["legit_ssim"] > best_samples[0]):
            best_samples = (row["legit_ssim"], rid, samples)
        if not quiet:
            print(f"audit [{i}/{len(table)}] {row['label']} ({rid})", flush=True)
    _, rid, samples = best_samples
    np.savez_compressed(out.with_name("audit_samples.npz"), **samples)
    record = {"inputs": inputs, "seconds": time.perf_counter() - started, "sample_run": rid, "runs": rows}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    tmp.replace(out)
    return out


def load(profile: str, results_root: Path | None = None) -> dict | None:
    path = audit_path(profile, results_root)
    return json.loads(path.read_text()) if path.is_file() else None
