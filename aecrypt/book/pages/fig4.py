"""Fig. 4's page: original, encrypted, retrieved, and the two readings of the decryption."""

from __future__ import annotations

import numpy as np

from aecrypt.book import page
from aecrypt.book.pages.premise import cipher_loss_sentence
from aecrypt.runs.results import Results


def fig4_samples(results: Results) -> dict[str, np.ndarray]:
    """The Fig. 4 samples of the best autoencoder's run at its lowest seed."""
    return results.samples(results.best_autoencoder["run_id"])


def fig4_facts(results: Results) -> dict:
    """Fig. 4's prose: the example's combination, what the cipher alone loses, and the mean squared error of
    each reading of the decryption on the example's test images."""
    samples = fig4_samples(results)

    def mse(images: np.ndarray) -> str:
        return f"{np.mean((images - samples['original']) ** 2):.3g}"

    return {
        "best_label": results.best_autoencoder["label"],
        "cipher_loss": page.md(cipher_loss_sentence(results)),
        "exact_mse": mse(samples["retrieved"]),
        "as_written_mse": mse(samples["decrypted_as_written"]),
    }


def fig4_note(results: Results):
    best = results.best_autoencoder
    return page.note(
        results,
        "Fig. 4",
        f"largest cipher round-trip error |decrypt(encrypt(z)) − z| of this example's run (every latent of every "
        f"split): {best['cipher_max_error']:.2g}; retrieved − original MSE of this run: {best['mse']:.2g}.",
        [best["run_id"]],
    )
