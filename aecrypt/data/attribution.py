"""The credit each real data set requires, and which applies to a data spec: every page or table that shows
its images carries it."""

from __future__ import annotations

NIH_ATTRIBUTION = (
    "Chest X-rays from the NIH Clinical Center ChestX-ray14 release (Wang et al., *ChestX-ray8: Hospital-scale "
    "Chest X-ray Database and Benchmarks on Weakly-Supervised Classification and Localization of Common Thorax "
    "Diseases*, CVPR 2017), provided by the NIH Clinical Center."
)
MEDMNIST_ATTRIBUTION = (
    "Images from MedMNIST (Yang et al., *MedMNIST v2: A large-scale lightweight benchmark for 2D and 3D biomedical "
    "image classification*, Scientific Data 10, 41, 2023), CC BY 4.0; PneumoniaMNIST is derived from Kermany et al. "
    "(Cell 172, 2018) and ChestMNIST from the NIH Clinical Center ChestX-ray14 release (Wang et al., CVPR 2017)."
)


def attribution(spec: str) -> str | None:
    """The attribution a data spec's images require, or None (the phantoms; a user's own images): the NIH
    release, the shared NIH samples and every set derived from them, and MedMNIST's files by their name.

    Parameters
    ----------
    spec : str
        A data spec, as given (`nih-embedded`, `nih:DIR`, `medmnist:FILE.npz`, ...) or a `Spec`. A path that
        names ChestX-ray14 or `cxr-real` counts as NIH's; a `medmnist:` file counts as MedMNIST's only where its
        name holds "mnist". Matched on the text alone: no file is read.

    Returns
    -------
    str or None
        `NIH_ATTRIBUTION`, `MEDMNIST_ATTRIBUTION`, or None where no credit is required.

    Examples
    --------
    >>> attribution("synthetic") is None
    True
    >>> attribution("nih-embedded") == NIH_ATTRIBUTION
    True
    >>> attribution("medmnist:/data/pneumoniamnist_64.npz") == MEDMNIST_ATTRIBUTION
    True
    """
    from pathlib import Path

    text = str(spec)
    if text == "nih-embedded" or text.startswith("nih:") or "chestxray14" in text.lower() or "cxr-real" in text.lower():
        return NIH_ATTRIBUTION
    if text.startswith("medmnist:") and "mnist" in Path(text.partition(":")[2]).name.lower():
        return MEDMNIST_ATTRIBUTION
    return None
