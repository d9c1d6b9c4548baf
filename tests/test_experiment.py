"""One run's steps without papermill: streamed retrieval equals the one-shot pipeline, the shared
baseline's files, the cost model against the real layer shapes, and the test-split power calculation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aecrypt import AecryptError
from aecrypt.paper import choices, classification, cost, experiment, models, retrieval, runfiles
from aecrypt.profiles import PROFILES
from aecrypt.stats import power


@pytest.fixture(scope="module")
def tiny_parts():
    cfg = experiment.RunConfig(profile="tiny", depth=2)
    experiment.start(cfg)
    split = experiment.load_data(cfg)
    ae = models.build_autoencoder(cfg.settings.size, cfg.depth, cfg.activation)  # untrained: enough here
    trained = experiment.Trained(ae, None)
    return cfg, split, trained


def test_streamed_retrieval_equals_the_one_shot_pipeline(tiny_parts, monkeypatch):
    cfg, split, trained = tiny_parts
    latent_bytes = 4 * int(np.prod(choices.latent_shape(cfg.settings.size, cfg.depth)))
    # chunks of one batch (16 images): the 120 images go through in 8 chunks, the last one short
    monkeypatch.setattr(retrieval, "LATENT_CHUNK_BYTES", latent_bytes * cfg.settings.batch_size)
    assert retrieval._chunk_size(choices.latent_shape(32, 2), 16) == 16
    retrieved = retrieval.retrieve(cfg, trained, split)
    for part in experiment.PARTS:
        expected = trained.ae.autoencoder.predict(split.x(part), verbose=0)
        assert retrieved.images[part].shape == expected.shape
        # relu latents are ≥ 0 and the key ≥ 0, so √E − K inverts exactly up to float32 rounding
        np.testing.assert_allclose(retrieved.images[part], expected, atol=1e-4)
    assert retrieved.cipher_max_error < 1e-5 and retrieved.domain_violations == 0
    samples = retrieved.samples
    np.testing.assert_array_equal(samples["original"], split.x("test")[: retrieval.N_SAMPLES, ..., 0])
    np.testing.assert_array_equal(samples["retrieved"], retrieved.images["test"][: retrieval.N_SAMPLES, ..., 0])
    np.testing.assert_allclose(samples["without_cipher"], samples["retrieved"], atol=1e-4)


def test_the_chunk_holds_about_64_mib_of_latent_and_whole_batches():
    per_image = 4 * int(np.prod(choices.latent_shape(200, 2)))  # 2.56 MB: the paper's largest latent
    assert retrieval._chunk_size(choices.latent_shape(200, 2), 32) == 32  # never below one batch
    chunk = retrieval._chunk_size(choices.latent_shape(64, 3), 32)
    assert chunk % 32 == 0 and chunk * 4 * 16 * 16 * 128 <= retrieval.LATENT_CHUNK_BYTES
    assert per_image * 9000 > 20 * 2**30  # why streaming matters: all latents would be over 20 GiB


def test_the_baseline_writes_the_classifier_files(tiny_parts, tmp_path):
    cfg, split, _ = tiny_parts
    clock = experiment.StageClock()
    with clock("classifier"):
        original = classification.classify_original(cfg, split)
    out = runfiles.write_baseline_outputs(tmp_path / "b", cfg, split, original, clock)
    m = json.loads((out / "metrics.json").read_text())
    assert 0 <= m["auc"] <= 1 and m["n_test"] == len(split.index["test"])
    assert m["seconds_classifier"] > 0 and m["seconds_startup"] > 0 and m["peak_rss_mb"] > 100
    for name in ("history.csv", "roc.csv", "confusion.csv", "scores.csv", "data.json", "env.json", "config.json"):
        assert (out / name).is_file(), name


@pytest.mark.parametrize("size,depth", [(32, 2), (64, 3), (32, 5), (200, 2)])
def test_the_flop_count_follows_the_real_layer_shapes(size, depth):
    ae = models.build_autoencoder(size, depth)
    convs = [
        (layer.name, layer.output.shape[1], layer.input.shape[-1], layer.filters)
        for part in (ae.encoder, ae.decoder)
        for layer in part.layers
        if type(layer).__name__ == "Conv2D"
    ]
    assert convs == cost.conv_shapes(size, depth)
    expected = sum(2 * side * side * 9 * cin * cout for _, side, cin, cout in convs)
    assert cost.forward_flops(size, depth) == expected
    assert cost.train_flops(size, depth, 10, 2) == 3 * expected * 20
    with pytest.raises(AecryptError, match="does not fit"):
        cost.forward_flops(200, 5)


def test_hanley_mcneil_variance_matches_a_simulation():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    n_pos, n_neg, shift = 60, 120, 1.466  # binormal, equal variance: AUC = Φ(shift/√2) ≈ 0.85
    aucs = [
        roc_auc_score(
            np.r_[np.ones(n_pos), np.zeros(n_neg)], np.r_[rng.normal(shift, 1, n_pos), rng.normal(0, 1, n_neg)]
        )
        for _ in range(1500)
    ]
    predicted = np.sqrt(power.auc_variance(0.85, n_pos, n_neg))
    assert np.mean(aucs) == pytest.approx(0.85, abs=0.01)
    assert np.std(aucs) == pytest.approx(predicted, rel=0.15)


def test_the_default_test_split_has_the_power_the_profile_claims():
    n = power.paired_auc_test_size()
    assert power.paired_auc_power(n) >= 0.8 > power.paired_auc_power(n - 1)
    assert power.paired_auc_power(120) < 0.5  # the old default's test split: a coin flip at best
    d = PROFILES["default"]  # the test split is every embedded image not needed to train and validate
    assert d.n_test is None and 1903 - d.n_train - d.n_val - 20 >= n
    assert power.paired_auc_test_size(correlation=0.0) > n > power.paired_auc_test_size(correlation=0.7)
    with pytest.raises(AecryptError, match="auc must be in"):
        power.auc_variance(0.3, 10, 10)


def test_split_by_counts_gives_exact_stratified_sizes():
    from aecrypt.data.dataset import load_dataset
    from aecrypt.data.splits import split_by_counts

    ds = load_dataset("synthetic", 32, 200, seed=3)
    parts = split_by_counts(ds, {"train": 100, "val": 20, "test": 80}, seed=3)
    assert {k: len(v) for k, v in parts.items()} == {"train": 100, "val": 20, "test": 80}
    assert len(np.unique(np.concatenate(list(parts.values())))) == 200
    share = ds.labels.mean()
    assert all(abs(ds.labels[v].mean() - share) < 0.05 for v in parts.values())
    with pytest.raises(AecryptError, match="add up to 150"):
        split_by_counts(ds, {"train": 100, "val": 20, "test": 30}, seed=3)
