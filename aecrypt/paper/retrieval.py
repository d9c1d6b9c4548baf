"""The latent through the paper's cipher and back: every image of a run encoded, encrypted, decrypted and decoded,
streamed in chunks so that memory never holds every latent, with what the cipher alone changes and the first test
images at every stage (Fig. 4). The step after `paper.experiment`'s training."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from aecrypt.paper import choices, cipher, models
from aecrypt.paper.experiment import PARTS, RunConfig, Split, Trained
from aecrypt.paper.models import forward

N_SAMPLES = 4  # images kept for Fig. 4
#: Latents are never all in memory at once: retrieval streams chunks of about this many bytes of latent
#: (at 200², depth 2 one latent is 2.5 MB, so all 9000 would be 23 GB).
LATENT_CHUNK_BYTES = 64 * 2**20


@dataclass
class Retrieved:
    """Images after encoder → cipher → decrypt → decoder, per split, and what the cipher did."""

    images: dict[str, np.ndarray]
    latent_shape: tuple[int, ...]
    cipher_max_error: float
    domain_violations: float  # fraction of latent entries with z + K < 0
    pixel_max_difference: float  # largest |retrieved − decoded without the cipher|, cipher.CHECK_IMAGES test images
    samples: dict[str, np.ndarray] = field(default_factory=dict)


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

    >>> import pandas as pd
    >>> from aecrypt.paper.experiment import RunConfig, Trained, load_data, start
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
        latent = forward(enc, split.rows(order[start : start + chunk]))
        violations += paper.domain_violations(latent)
        if cfg.with_cipher:
            decrypted = paper.decrypt(paper.encrypt(latent))
            max_error = max(max_error, float(np.max(np.abs(decrypted - latent))))
            latent = decrypted
        decoded[start : start + len(latent)] = forward(dec, latent)
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
    latent = forward(ae.encoder, split.rows(split.index["test"][: cipher.CHECK_IMAGES]))
    through = forward(ae.decoder, paper.decrypt(paper.encrypt(latent)))
    return float(np.max(np.abs(through - forward(ae.decoder, latent)))) if len(latent) else 0.0


def _fig4_samples(paper: cipher.PaperCipher, ae: models.Autoencoder, split: Split, retrieved_test: np.ndarray) -> dict:
    """The first test images at every stage, decoded also without the cipher and with the text's other
    reading of the decryption (Fig. 4 and the decryption-readings figure)."""
    k = min(N_SAMPLES, len(split.index["test"]))
    original = split.rows(split.index["test"][:k])
    latent = forward(ae.encoder, original)
    encrypted = paper.encrypt(latent)
    other_reading = np.nan_to_num(paper.decrypt_as_written(encrypted))
    extra = forward(ae.decoder, np.concatenate([latent, other_reading]))
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
