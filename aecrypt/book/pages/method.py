"""The *Method* page: the models' layer tables, the cipher's two readings measured, and the data (what it is,
how hard it is)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from aecrypt import runtime
from aecrypt.data.attribution import attribution
from aecrypt.paper import choices
from aecrypt.runs.results import Results

PAPER_SIZE = 200  # the paper's images are 200 × 200


def layer_frame(model) -> pd.DataFrame:
    """The model's layer table for a page: whole-number filters, blanks where a column does not apply."""
    from aecrypt.paper.models import layer_table

    frame = pd.DataFrame(layer_table(model))
    frame["filters"] = frame["filters"].astype("Int64")
    return frame.astype(object).where(frame.notna(), "")


def autoencoder_layers(size: int = PAPER_SIZE, depth: int = 3) -> pd.DataFrame:
    """The paper's autoencoder, built at the paper's size, as a layer table (generated from the model)."""
    with runtime.stderr_to(os.devnull):  # TensorFlow's C++ start-up lines (at import) would land on the page
        from aecrypt.paper.models import build_autoencoder

        return layer_frame(build_autoencoder(size, depth).autoencoder)


def classifier_tables(size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The classifier's layer table at this build's size, and its fixed settings."""
    with runtime.stderr_to(os.devnull):
        from aecrypt.paper.models import CLASSIFIER, build_classifier

        return layer_frame(build_classifier(size)), pd.Series(CLASSIFIER, name="setting").to_frame()


def latent_facts(size: int = PAPER_SIZE, depth: int = 3) -> dict[str, str]:
    """The paper's latent at its size (from the layer shapes, `choices.latent_shape`): its shape and how many
    times the image's values it holds."""
    shape = choices.latent_shape(size, depth)
    return {"paper_latent": " × ".join(map(str, shape)), "paper_ratio": f"{np.prod(shape) / size**2:.0f}"}


def cipher_readings(seed: int = 0) -> dict[str, str]:
    """The two readings of the paper's decryption on random non-negative latents: the exact inverse's error,
    and the other reading's error and share of NaN."""
    from aecrypt.paper.cipher import PaperCipher, key_from_seed

    z = np.random.default_rng(seed).random((4, 16, 16, 32), dtype=np.float32) * 3
    cipher = PaperCipher(key_from_seed(16, 16, seed))
    e = cipher.encrypt(z)
    written = cipher.decrypt_as_written(e)
    return {
        "exact_err": f"{float(np.max(np.abs(cipher.decrypt(e) - z))):.1e}",
        "written_err": f"{float(np.nanmax(np.abs(written - z))):.2f}",
        "written_nan": f"{float(np.isnan(written).mean()):.1%}",
    }


def negative_activation_note(results: Results) -> str:
    """What the cipher did to this build's first run with an activation that can be negative."""
    other = results.ok[results.ok["activation"] != "relu"]
    if other.empty:
        return "This build ran no combination with a negative-valued activation."
    run = other.iloc[0]
    return (
        f"In this build's {run['label']} run, {run['cipher_domain_violations']:.1%} of the latent entries had "
        f"z + K < 0 and its cipher round-trip error was {run['cipher_max_error']:.3g}."
    )


def data_preview(results: Results, n_images: int = 64):
    """A grid of this build's images, negatives above positives (the first `n_images` of its data)."""
    from aecrypt.data.dataset import load_dataset
    from aecrypt.figures.panels import phantom_grid

    ds = load_dataset(results.data_spec, results.settings.size, min(results.settings.n_images or n_images, n_images))
    name = "Synthetic phantoms" if results.is_synthetic else results.data_spec
    return phantom_grid(ds.images, ds.labels, title=f"{name}: negatives (top), positives (bottom)")


def data_description(results: Results) -> str:
    """What the build's images are, with the attribution they require."""
    if results.is_synthetic:
        return (
            "The **synthetic phantoms** (`aecrypt.data.synthetic`) are procedural chest radiographs: body outline "
            "with soft-tissue falloff, two lung fields with domed diaphragms, mediastinum and heart shadow, spine, "
            "ribs and clavicles, with exposure, blur and noise varying from image to image. Positives carry one to "
            "three lesions (nodules, opacities or patchy consolidation) of varied size, place and contrast. They "
            "are not X-rays of patients and the numbers they give are not the paper's."
        )
    return attribution(results.data_spec) or f"Data: `{results.data_spec}`."


def data_caveat(results: Results) -> str:
    """What this build's data can and cannot say about the paper's X-rays, in one bullet."""
    if results.is_synthetic:
        return (
            "**Phantoms are not X-rays.** This build runs on procedural phantoms, so its measurements of trained "
            "models say how this pipeline behaves on phantoms, not what the paper's models do on X-rays."
        )
    size = results.settings.size
    return (
        f"**Few, small X-rays.** This build's X-rays run at {size}×{size} with "
        f"{results.data_summary()['split_sizes']['train']} training images, where the paper had 9000 at 200×200; "
        "NIH's labels were mined from radiology reports and are noisy. The verdicts speak about this pipeline "
        "on real chest X-rays at this scale, which is closer to the paper than phantoms and still far from it."
    )


def difficulty_sentence(results: Results) -> str:
    """How hard the classification task is in this build, from the classifier's median AUC on the originals."""
    original_auc = results.ok["original_auc"].median()
    if original_auc < 0.6:
        return (
            f"On the original images (no autoencoder, no cipher) the classifier reaches a median ROC-AUC of "
            f"only {original_auc:.2f} in this build: at this scale it does not learn the task, so differences "
            "in classification metrics between combinations are noise here."
        )
    return (
        f"On the original images (no autoencoder, no cipher) the same classifier reaches a median ROC-AUC of "
        f"{original_auc:.2f} on the test split: the task is neither trivial nor hopeless, so differences "
        "between combinations can show."
        + (" (The phantoms are calibrated for 0.80–0.95 at the default profile.)" if results.is_synthetic else "")
    )
