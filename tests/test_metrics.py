import numpy as np
import pytest

from aecrypt import AecryptError
from aecrypt.paper import metrics


def test_reconstruction_metrics_hand_computed():
    a = np.zeros((2, 16, 16), np.float32)
    b = a.copy()
    b[0, :8] = 0.5  # image 0: half the pixels off by 0.5
    m = metrics.reconstruction_metrics(a, b)
    # image 0: mse 0.125, mae 0.25; image 1: identical
    assert m["mse"] == pytest.approx(0.0625)
    assert m["mae"] == pytest.approx(0.125)
    assert m["psnr"] == pytest.approx((10 * np.log10(1 / 0.125) + 100) / 2)
    assert metrics.reconstruction_metrics(a, a)["ssim"] == pytest.approx(1.0)


def test_ssim_uses_the_literatures_gaussian_window():
    """Wang et al.'s settings (11 × 11 Gaussian, σ = 1.5, population covariance), not scikit-image's defaults
    (a 7 × 7 uniform window, sample covariance): on the same pair the two differ."""
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    x = rng.random((32, 32))
    y = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    literature = structural_similarity(
        x, y, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert metrics.ssim_of(x, y) == pytest.approx(literature)
    assert abs(metrics.ssim_of(x, y) - structural_similarity(x, y, data_range=1.0)) > 1e-3


def test_reconstruction_accepts_channel_axis_and_rejects_mismatch():
    x = np.random.default_rng(0).random((3, 16, 16, 1))
    assert metrics.reconstruction_metrics(x, x)["mse"] == 0.0
    with pytest.raises(AecryptError, match="differ in shape"):
        metrics.reconstruction_metrics(x, x[:2])


def test_classification_metrics_hand_computed():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.3, 0.4])
    m = metrics.classification_metrics(y, s)
    # predictions: 1 1 0 1 0 0 0 0 -> TP 2, FN 1, FP 1, TN 4
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(6 / 8)
    # AUC: pairs (pos, neg) ranked correctly: 0.9 and 0.8 beat all 5; 0.2 beats 0.1, 0.1 -> 12/15
    assert m["auc"] == pytest.approx(12 / 15)
    assert metrics.confusion(y, s).tolist() == [[4, 1], [1, 2]]
    roc = metrics.roc_points(y, s)
    assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1


def test_auc_is_nan_with_one_class_and_lengths_must_match():
    assert np.isnan(metrics.classification_metrics([0, 0], [0.1, 0.2])["auc"])
    with pytest.raises(AecryptError, match="3 labels but 2 scores"):
        metrics.classification_metrics([0, 1, 0], [0.1, 0.2])


@pytest.mark.parametrize("shape", [(32, 32), (20, 27)])
def test_the_stacks_ssim_and_psnr_are_scikit_images_image_by_image(shape):
    """ssim_per_image filters a whole stack at once; each image's value is scikit-image's for that image alone
    (SSIM_SETTINGS), and each PSNR scikit-image's (capped where two images are the same)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(1)
    ramp = np.add.outer(np.linspace(0, 1, shape[0]), np.linspace(0, 0.5, shape[1]))
    a = np.clip(ramp + rng.normal(0, 0.05, (6, *shape)), 0, 1)
    b = np.clip(a + rng.normal(0, 1, (6, 1, 1)) * rng.normal(0, 0.1, a.shape), 0, 1)
    b[0] = a[0]
    quality = metrics.per_image_quality(a, b)
    ssim = [structural_similarity(x, y, **metrics.SSIM_SETTINGS) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(quality["ssim"], ssim, rtol=0, atol=1e-12)
    assert len(set(np.round(ssim, 6))) == 6  # six different values, so a mix-up of images would show
    with np.errstate(divide="ignore"):
        psnr = [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(quality["psnr"], np.minimum(psnr, metrics.PSNR_CAP_DB), rtol=1e-12)
