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
    prove security (inconclusive)."""
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
    """'9–16 s per epoch': reported with this machine named; no verdict, the paper names no hardware."""
    return Finding(
        f"{low:.0f}–{high:.0f} s per epoch",
        "abstract (hardware not stated)",
        "median over runs, machine named",
        f"median {seconds.median():.2f} s per epoch at {size}², {n_train} training images, on {machine}.",
        f"{NOT_TESTABLE} (the paper names no hardware)",
        effect=f"median {seconds.median():.2f} s per epoch at {size}², {n_train} training images",
        decide="the paper's hardware, which it does not name; the Performance page extrapolates this machine",
    )
