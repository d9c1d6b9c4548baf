"""Reconstruction metrics (scikit-image's definitions of PSNR and SSIM, computed for a stack of images at once) and
classification metrics (scikit-learn)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn import metrics as skl

from aecrypt import UsageError


def _pair(original: np.ndarray, retrieved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(original, dtype=np.float64)
    b = np.asarray(retrieved, dtype=np.float64)
    if a.shape != b.shape:
        raise UsageError(f"original {a.shape} and retrieved {b.shape} images differ in shape")
    if a.ndim == 4 and a.shape[-1] == 1:  # (N, H, W, 1) -> (N, H, W)
        a, b = a[..., 0], b[..., 0]
    if a.ndim == 2:
        a, b = a[None], b[None]
    if a.ndim != 3:
        raise UsageError(f"expected images shaped (N, H, W[, 1]) or (H, W), got {original.shape}")
    return a, b


#: SSIM as the literature computes it (Wang et al., IEEE TIP 13:600-612, 2004): an 11 × 11 Gaussian window of
#: σ = 1.5 and population covariances; scikit-image's defaults (a 7 × 7 uniform window, sample covariances) differ.
SSIM_SETTINGS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False, "data_range": 1.0}


def ssim_of(original: np.ndarray, other: np.ndarray) -> float:
    """SSIM of two images with the literature's settings (SSIM_SETTINGS).

    Parameters
    ----------
    original, other : ndarray, shape (H, W)
        Images in [0, 1].

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> round(ssim_of(x[0], x[0]), 6), round(ssim_of(x[0], np.clip(x[0] + 0.05, 0, 1)), 3)
    (1.0, 0.996)
    """
    return float(ssim_per_image(np.asarray(original)[None], np.asarray(other)[None])[0])


#: Identical images have infinite PSNR; means stay finite and honest with each image's PSNR capped here.
PSNR_CAP_DB = 100.0


#: scikit-image's SSIM window for SSIM_SETTINGS: a Gaussian of σ = 1.5 cut at 3.5 σ (11 taps), reflected at the edges,
#: and the border of the window's radius left out of the mean.
_TRUNCATE = 3.5
_RADIUS = int(_TRUNCATE * SSIM_SETTINGS["sigma"] + 0.5)
_K1, _K2 = 0.01, 0.03


def ssim_per_image(original: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Each image's SSIM with SSIM_SETTINGS, a stack (N, H, W) at once: scikit-image's structural_similarity
    computed as it computes it, filtering every image of the stack in one call (scikit-image takes one image a
    call, and the calls, not the arithmetic, cost a run's metrics and the compression record most of their time;
    `tests/test_metrics.py` holds the two to agree per image).

    Parameters
    ----------
    original, other : ndarray, shape (N, H, W)
        Stacks of images in [0, 1].

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> ssim_per_image(x, np.clip(x + 0.05, 0, 1)).round(3).tolist()
    [0.996, 0.996]
    """
    x, y = np.asarray(original, np.float64), np.asarray(other, np.float64)
    sigma = SSIM_SETTINGS["sigma"]

    def window(v: np.ndarray) -> np.ndarray:  # the Gaussian window over each image, not across images
        return ndimage.gaussian_filter(v, sigma=(0, sigma, sigma), mode="reflect", truncate=_TRUNCATE)

    ux, uy = window(x), window(y)
    vx, vy, vxy = window(x * x) - ux * ux, window(y * y) - uy * uy, window(x * y) - ux * uy
    c1, c2 = (_K1 * SSIM_SETTINGS["data_range"]) ** 2, (_K2 * SSIM_SETTINGS["data_range"]) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    r = _RADIUS
    return s[:, r:-r, r:-r].mean(axis=(1, 2), dtype=np.float64)


def per_image_quality(original: np.ndarray, other: np.ndarray) -> dict[str, np.ndarray]:
    """Each image's PSNR and SSIM: what every method of the rate–distortion chapter is measured by.

    Parameters
    ----------
    original, other
        As in `ssim_per_image`.

    Returns
    -------
    dict
        "psnr" (dB, capped at PSNR_CAP_DB, which identical images reach) and "ssim" (SSIM_SETTINGS), each of
        shape (N,).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> per_image_quality(x, np.clip(x + 0.05, 0, 1))["psnr"].round(1).tolist()
    [26.2, 26.2]
    >>> per_image_quality(x, x)["psnr"].tolist()
    [100.0, 100.0]
    """
    a, b = _pair(original, other)
    with np.errstate(divide="ignore"):
        psnr = 10 * np.log10(SSIM_SETTINGS["data_range"] ** 2 / np.mean((a - b) ** 2, axis=(1, 2)))
    return {"psnr": np.minimum(psnr, PSNR_CAP_DB), "ssim": ssim_per_image(a, b)}


def reconstruction_metrics(original: np.ndarray, retrieved: np.ndarray) -> dict[str, float]:
    """A run's reconstruction metrics, averaged over images.

    Parameters
    ----------
    original, retrieved : ndarray, shape (N, H, W)
        Images in [0, 1].

    Returns
    -------
    dict
        "mse", "mae", "psnr" (dB) and "ssim" (the literature's Gaussian-window settings).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> {k: round(v, 4) for k, v in reconstruction_metrics(x, np.clip(x + 0.05, 0, 1)).items()}
    {'mse': 0.0024, 'mae': 0.0483, 'psnr': 26.2266, 'ssim': 0.996}
    """
    a, b = _pair(original, retrieved)
    quality = per_image_quality(a, b)
    return {
        "mse": float(np.mean((a - b) ** 2, axis=(1, 2)).mean()),
        "mae": float(skl.mean_absolute_error(a.ravel(), b.ravel())),
        "psnr": float(quality["psnr"].mean()),
        "ssim": float(quality["ssim"].mean()),
    }


def per_image_errors(original: np.ndarray, retrieved: np.ndarray) -> dict[str, np.ndarray]:
    """Each image's mean squared and mean absolute error: the test split's MSE and MAE are their means, and the
    statistics read them to weigh what another test split would change.

    Parameters
    ----------
    original, retrieved
        As in `reconstruction_metrics`.

    Returns
    -------
    dict
        "se" and "ae", each of shape (N,).

    Examples
    --------
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> per_image_errors(x, np.clip(x + 0.05, 0, 1))["se"].round(5).tolist()
    [0.00237, 0.00239]
    """
    a, b = _pair(original, retrieved)
    diff = (a - b).reshape(len(a), -1)
    return {"se": np.mean(diff**2, axis=1), "ae": np.mean(np.abs(diff), axis=1)}


def classification_metrics(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """A classifier's scores on the test images.

    Parameters
    ----------
    y_true : array_like of {0, 1}
        The true classes.
    y_score : array_like of float
        The classifier's scores, one per image.
    threshold : float, optional
        Where a score becomes a positive prediction.

    Returns
    -------
    dict
        "recall", "precision", "f1", "accuracy" at the threshold, and "auc" from the scores (NaN where the
        test images hold one class only).

    Raises
    ------
    UsageError
        Where there are not as many scores as labels.

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9])
    >>> {k: round(v, 3) for k, v in m.items()}
    {'recall': 1.0, 'precision': 0.667, 'f1': 0.8, 'accuracy': 0.75, 'auc': 1.0}
    """
    y_true = np.asarray(y_true).astype(int).ravel()
    y_score = np.asarray(y_score, dtype=np.float64).ravel()
    if len(y_true) != len(y_score):
        raise UsageError(f"{len(y_true)} labels but {len(y_score)} scores")
    y_pred = (y_score >= threshold).astype(int)
    two_classes = len(np.unique(y_true)) == 2
    return {
        "recall": float(skl.recall_score(y_true, y_pred, zero_division=0)),
        "precision": float(skl.precision_score(y_true, y_pred, zero_division=0)),
        "f1": float(skl.f1_score(y_true, y_pred, zero_division=0)),
        "accuracy": float(skl.accuracy_score(y_true, y_pred)),
        "auc": float(skl.roc_auc_score(y_true, y_score)) if two_classes else float("nan"),
    }


def confusion(y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The 2×2 confusion matrix.

    Parameters
    ----------
    y_true, y_score, threshold
        As in `classification_metrics`.

    Returns
    -------
    ndarray, shape (2, 2)
        Rows the actual class (negative, positive), columns the predicted one.

    Examples
    --------
    >>> confusion([0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9]).tolist()
    [[1, 1], [0, 2]]
    """
    y_pred = (np.asarray(y_score).ravel() >= threshold).astype(int)
    return skl.confusion_matrix(np.asarray(y_true).astype(int).ravel(), y_pred, labels=[0, 1])


def roc_points(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, np.ndarray]:
    """The ROC curve's points (scikit-learn's roc_curve), as a run saves them for Fig. 10.

    Parameters
    ----------
    y_true, y_score : array_like
        As in `classification_metrics`.

    Returns
    -------
    dict
        "fpr", "tpr" and "threshold", one entry per point.

    Examples
    --------
    >>> roc_points([0, 0, 1, 1], [0.2, 0.6, 0.7, 0.9])["tpr"].tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    fpr, tpr, thresholds = skl.roc_curve(np.asarray(y_true).astype(int).ravel(), np.asarray(y_score).ravel())
    return {"fpr": fpr, "tpr": tpr, "threshold": thresholds}
