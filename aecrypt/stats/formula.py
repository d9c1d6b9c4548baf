"""The claims that follow from the cipher's formula, whatever the data (the known-plaintext attack), and the one
the paper gives no hardware for (its time per epoch). The compression claim is `stats.compressed`'s."""

from __future__ import annotations

from functools import partial

import pandas as pd

from aecrypt.stats.findings import INCONCLUSIVE, NOT_REPRODUCED, NOT_TESTABLE, Finding


def cipher_security(key_errors: pd.Series, violations: pd.Series, also: str = "") -> Finding:
    """'The cipher secures the transmitted features', tested by the known-plaintext attack: one (latent,
    ciphertext) pair gives K = √E − z wherever z + K ≥ 0. Not reproduced when the key comes back to within
    float rounding in the runs whose latents never leave that domain; if the attack failed, that would not
    prove security (inconclusive).

    Parameters
    ----------
    key_errors : pandas.Series
        Per run (the index), the largest error |K̂ − K| of the key recovered from one pair.
    violations : pandas.Series
        Per run, how much of its latent has z + K < 0 (a share or a count; 0 where it never does). A run left out
        of it counts as 0; a run with any is not counted.
    also : str, optional
        A sentence appended to the finding's `measured`.

    Returns
    -------
    Finding
        *not reproduced* where every run inside the domain recovers the key to within 1e-3, *inconclusive*
        where some does not, *not testable here (no run)* where no run stays inside the domain.

    Examples
    --------
    >>> runs = ["r1", "r2", "r3"]
    >>> found = cipher_security(pd.Series([2e-7, 5e-7, 0.3], index=runs), pd.Series([0, 0, 0.04], index=runs))
    >>> found.outcome, found.effect
    ('not reproduced', 'key recovered to within 5.0e-07 in 2 of 2 runs, from one known pair')
    >>> cipher_security(pd.Series([2e-7, 0.2], index=runs[:2]), pd.Series([0, 0], index=runs[:2])).outcome
    'inconclusive'
    """
    claim, paper = "the cipher secures the transmitted features", "Sec. 3"
    test = "known-plaintext attack on every run: K̂ = √E₁ − z₁ from one pair"
    found = partial(Finding, claim, paper, test)
    clean = key_errors[violations.reindex(key_errors.index).fillna(0) == 0]
    if clean.empty:
        return found("no run with a non-negative latent domain", f"{NOT_TESTABLE} (no run)")
    tol = 1e-3  # the key is in [0, 1); float32 rounding of √E − z is ~1e-6
    hit = int((clean < tol).sum())
    measured = (
        f"the key is recovered to within {clean.max():.1e} (largest error) in {hit} of {len(clean)} runs with "
        f"z + K ≥ 0 everywhere, from one known pair each.{also}"
    )
    effect = f"key recovered to within {clean.max():.1e} in {hit} of {len(clean)} runs, from one known pair"
    if hit == len(clean):
        return found(measured, NOT_REPRODUCED, effect=effect, decide="settled by the formula: it holds on any data")
    return found(
        measured,
        INCONCLUSIVE,
        effect=effect,
        decide="this attack failed in some runs, which does not make the cipher secure",
    )


def epoch_time(seconds: pd.Series, size: int, n_train: int, machine: str, low: float, high: float) -> Finding:
    """'9–16 s per epoch': reported with this machine named; no verdict, the paper names no hardware.

    Parameters
    ----------
    seconds : pandas.Series
        Seconds per epoch, one value per run.
    size : int
        The images' side in pixels.
    n_train : int
        Training images per epoch.
    machine : str
        The machine the runs trained on, as the page names it.
    low, high : float
        The paper's range in seconds per epoch.

    Returns
    -------
    Finding
        The median over runs with the machine named; its outcome always *not testable here (the paper names no
        hardware)*.

    Examples
    --------
    >>> found = epoch_time(pd.Series([10.2, 11.0, 12.4]), 32, 192, "a laptop CPU", 9, 16)
    >>> found.claim
    '9–16 s per epoch'
    >>> found.measured
    'median 11.00 s per epoch at 32², 192 training images, on a laptop CPU.'
    >>> found.outcome
    'not testable here (the paper names no hardware)'
    """
    return Finding(
        f"{low:.0f}–{high:.0f} s per epoch",
        "abstract (hardware not stated)",
        "median over runs, machine named",
        f"median {seconds.median():.2f} s per epoch at {size}², {n_train} training images, on {machine}.",
        f"{NOT_TESTABLE} (the paper names no hardware)",
        effect=f"median {seconds.median():.2f} s per epoch at {size}², {n_train} training images",
        decide="the paper's hardware, which it does not name; the Performance page extrapolates this machine",
    )
