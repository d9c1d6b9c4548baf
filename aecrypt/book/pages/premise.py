"""The page *The premise: compress, then encrypt* and Fig. 4's note: what the ciphertext gives away, what
an image costs in bytes, and what the cipher alone changes (the reference runs without it)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aecrypt.paper.cipher import CHECK_IMAGES
from aecrypt.runs.results import Results


def leak_statistics(samples: dict[str, np.ndarray]) -> dict[str, float]:
    """What the paper's ciphertext gives away, measured on a run's saved test samples."""
    from aecrypt.paper.cipher import recover_key

    z, e = samples["latent_channel0"], samples["encrypted_channel0"]
    key = recover_key(z[0, :, :, None], e[0, :, :, None])
    pair = (np.sqrt(e[0]) - np.sqrt(e[1])) - (z[0] - z[1])
    corr = np.corrcoef(samples["latent_mean"][0].ravel(), samples["encrypted_mean"][0].ravel())[0, 1]
    return {
        "key_recovery_max_error": float(np.max(np.abs(key - samples["key"]))),
        "pair_difference_max_error": float(np.max(np.abs(pair))),
        "latent_difference_max": float(np.max(np.abs(z[0] - z[1]))),
        "latent_ciphertext_correlation": float(corr),
    }


def size_table(samples: dict[str, np.ndarray], latent_shape: tuple[int, int, int]) -> pd.DataFrame:
    """Bytes per image: the 8-bit image raw and as PNG (Pillow), the float32 latent the paper encrypts,
    and an AES-256-GCM packet of the PNG (`aecrypt send --payload png`: header, nonce and tag included)."""
    from aecrypt.compression import wire
    from aecrypt.link import pngfiles

    image = samples["original"][0]
    rows = [
        ("image, 8-bit raw", image.size),
        ("image, PNG (lossless)", len(pngfiles.png_bytes(image))),
        ("AES-256-GCM packet of the PNG", wire.sealed_png_bytes(image)),
        ("paper: float32 latent, encrypted", wire.latent_payload_bytes(latent_shape, "float32")),
    ]
    table = pd.DataFrame(rows, columns=["what is sent", "bytes"])
    table["× the raw image"] = (table["bytes"] / image.size).round(2)
    return table


def nocipher_table(results: Results) -> pd.DataFrame:
    """The reference runs: the best autoencoder combination at each seed, with and without the cipher. The
    same autoencoder loss in both shows that the two runs trained the same network."""
    ok = results.ok
    if "nocipher_run_id" not in ok:
        return pd.DataFrame()
    ref = ok[ok["nocipher_run_id"].notna()].sort_values("seed")
    return pd.DataFrame(
        {
            "combination": ref["label"],
            "seed": ref["seed"].astype(int),
            "autoencoder final loss, with / without cipher": [
                f"{a:.5g} / {b:.5g}" for a, b in zip(ref["final_loss"], ref["nocipher_final_loss"], strict=True)
            ],
            "test MSE, with / without": [
                f"{a:.4g} / {b:.4g}" for a, b in zip(ref["mse"], ref["nocipher_mse"], strict=True)
            ],
            "classifier AUC, with / without": [
                f"{a:.4f} / {b:.4f}" for a, b in zip(ref["auc"], ref["nocipher_auc"], strict=True)
            ],
        }
    )


def nocipher_sentence(results: Results) -> str:
    """What the reference runs show: the largest AUC difference the cipher makes, against the seed spread."""
    ok = results.ok
    if "nocipher_auc" not in ok or ok["nocipher_auc"].isna().all():
        return "No reference run has finished in this build."
    ref = ok[ok["nocipher_auc"].notna()]
    label = ref["label"].iloc[0]
    diff = (ref["auc"] - ref["nocipher_auc"]).abs().max()
    aucs = results.runs_of(label)["auc"]
    spread = (
        f"against a seed-to-seed standard deviation of {aucs.std():.2g} for {label}"
        if len(aucs) > 1
        else f"(with one training seed, this build cannot say how far retraining alone moves {label}'s AUC)"
    )
    same = bool(np.allclose(ref["final_loss"], ref["nocipher_final_loss"], rtol=0, atol=0))
    return (
        f"The two runs of each seed trained {'the same' if same else 'not quite the same'} autoencoder (identical "
        f"final loss{'' if same else ' only approximately'}). Their classifiers' AUCs differ by at most {diff:.3g}, "
        f"{spread}: the cipher's float rounding (at most a few 1e-7 per pixel) only nudges the classifier's "
        "training, it removes no information."
    )


def cipher_loss_sentence(results: Results) -> str:
    """What the cipher alone loses, split by whether a run's latents stayed where √E − K inverts (z + K ≥ 0):
    float rounding there, a sign failure where not."""
    ok = results.ok
    clean = ok[ok["cipher_domain_violations"] == 0]
    broken = ok[ok["cipher_domain_violations"] > 0]
    text = ""
    if len(clean):
        text += (
            f"In the {len(clean)} runs whose latents never had z + K < 0, the cipher loses nothing beyond float32 "
            f"rounding: the largest round-trip error is {clean['cipher_max_error'].max():.2g} and the largest "
            f"pixel difference between retrieved images and the same latents decoded without the cipher (first "
            f"{CHECK_IMAGES} test images of each run) is "
            f"{clean['cipher_pixel_max_difference'].max():.2g}; everything lost between A and C is lost by the "
            "autoencoder."
        )
    for label, group in broken.groupby("label", sort=False):
        text += (
            f" {label} is different: {group['cipher_domain_violations'].max():.1%} of its latent entries have "
            f"z + K < 0, squaring loses their sign, and its round-trip error reaches "
            f"{group['cipher_max_error'].max():.2g} (pixels off by up to "
            f"{group['cipher_pixel_max_difference'].max():.2g}): not rounding but the cipher's sign failure."
        )
    return text.strip()


def cipher_effect_table(results: Results) -> pd.DataFrame:
    """What the cipher alone changes, per combination (largest over its seeds): the round trip of the latent
    and the decoded image against the same latent decoded without the cipher, and the share of latent
    entries with z + K < 0 (where squaring loses the sign)."""
    g = results.ok.groupby("label", sort=False)
    return (
        pd.DataFrame(
            {
                "largest |decrypt(encrypt(z)) − z|": g["cipher_max_error"].max().map("{:.2g}".format),
                "largest pixel difference, retrieved vs. decoded without cipher": g["cipher_pixel_max_difference"]
                .max()
                .map("{:.2g}".format),
                "latent entries with z + K < 0": g["cipher_domain_violations"].max().map("{:.2%}".format),
            }
        )
        .rename_axis("combination")
        .reset_index()
    )


def security_facts(results: Results) -> dict:
    """The page *The premise: compress, then encrypt*'s prose, on the best autoencoder's run at its lowest
    seed: what the ciphertext gives away, how much larger than the image the latent is, the cipher's cost."""
    from aecrypt.paper.choices import latent_shape

    best = results.best_autoencoder
    samples = results.samples(best["run_id"])
    leak = leak_statistics(samples)
    sizes = size_table(samples, latent_shape(results.settings.size, int(best["depth"])))
    ok = results.ok
    return {
        "best_label_sec": f"{best['label']} (its run at training seed {int(best['seed'])})",
        "key_err": f"{leak['key_recovery_max_error']:.1e}",
        "corr": f"{leak['latent_ciphertext_correlation']:.2f}",
        "pair_err": f"{leak['pair_difference_max_error']:.1e}",
        "diff_max": f"{leak['latent_difference_max']:.2g}",
        "ratio": f"{best['latent_to_image_ratio']:.0f}",
        "bytes_ratio": f"{sizes['× the raw image'].iloc[-1]:.0f}",
        "paper_us": f"{ok['cipher_seconds_paper'].median() * 1e6:.0f}",
        "aes_us": f"{ok['cipher_seconds_aes_gcm'].median() * 1e6:.0f}",
        "epoch_s": f"{ok['seconds_per_epoch'].median():.2f}",
    }


def best_samples(results: Results) -> dict[str, np.ndarray]:
    return results.samples(results.best_autoencoder["run_id"])


def best_size_table(results: Results) -> pd.DataFrame:
    from aecrypt.paper.choices import latent_shape

    best = results.best_autoencoder
    return size_table(best_samples(results), latent_shape(results.settings.size, int(best["depth"])))


def nocipher_html(results: Results) -> str:
    """The reference runs' table as HTML, or a line saying none has finished."""
    table = nocipher_table(results)
    return table.to_html(index=False) if len(table) else "<p>No reference run has finished in this build.</p>"
