"""The *Is it secure?* page: the cipher audit as one table, and the cipher verdict from the audit (or, where
none ran, from the known-plaintext attack on every run's saved samples)."""

from __future__ import annotations

import pandas as pd

from aecrypt.audit import attacks, randomness, record
from aecrypt.book import page
from aecrypt.book.pages.premise import leak_statistics
from aecrypt.runs.results import Results
from aecrypt.stats.findings import Finding
from aecrypt.stats.formula import cipher_security


def cipher_finding(results: Results) -> Finding:
    """'The cipher secures the transmitted features', from the cipher audit where it ran (`aecrypt audit`),
    else from the known-plaintext attack on every finished run's saved test samples."""
    audit = record.load(results.profile, results.root)
    if audit:
        rows = pd.DataFrame(audit["runs"]).set_index("run_id")
        clean = rows[rows["relu_domain"]]
        also = ""
        if not clean.empty:
            n = max(k for k in attacks.N_CIPHERTEXTS if f"co_key_exact_{k}" in clean)
            npcr_pass = {c: randomness.passes(clean.to_dict("records"), c)[0] for c in ("paper", "aes")}
            also = (
                f" Without any plaintext, the smallest √E over {n} ciphertexts gives "
                f"{clean[f'co_key_exact_{n}'].mean():.0%} of the key's pixels exactly; a one-pixel change of the "
                f"input changes {clean['paper_npcr'].mean():.2f} % of the ciphertext on average (NPCR passes Wu et "
                f"al.'s test at α = 0.05 in {npcr_pass['paper']} of {len(clean)} runs; AES-GCM: "
                f"{clean['aes_npcr'].mean():.2f} %, in {npcr_pass['aes']})."
            )
        return cipher_security(rows["kp_key_error"], (~rows["relu_domain"]).astype(int), also)
    ok = results.ok
    errors = pd.Series(
        {r: leak_statistics(results.samples(r))["key_recovery_max_error"] for r in ok["run_id"]}, dtype=float
    )
    return cipher_security(errors, ok.set_index("run_id")["cipher_domain_violations"])


def audit_table(record: dict) -> pd.DataFrame:
    """The cipher audit as one row per test: the paper's cipher, AES-256-GCM, and what an ideal cipher (or the
    critical value at α = 0.05, 0.01, 0.001) gives. Means over the audited runs whose latents stay in the
    cipher's domain (z + K ≥ 0)."""
    rows = pd.DataFrame(record["runs"])
    clean = rows[rows["relu_domain"]] if rows["relu_domain"].any() else rows
    mean = lambda col: float(clean[col].mean())  # noqa: E731
    sizes = {c: clean["npcr_values"].map(lambda v, c=c: int(v[c])) for c in ("paper", "aes")}

    def passes(cipher: str) -> str:
        npcr, uaci = randomness.passes(clean.to_dict("records"), cipher)
        return f"NPCR in {npcr}, UACI in {uaci} of {len(clean)} runs"

    n_big = int(sizes["aes"].max())
    npcr_crit = " / ".join(f"{randomness.npcr_critical(n_big, a):.3f}" for a in randomness.ALPHAS)
    uaci_crit = "; ".join("{:.3f}–{:.3f}".format(*randomness.uaci_critical(n_big, a)) for a in randomness.ALPHAS)
    co = [k for k in attacks.N_CIPHERTEXTS if f"co_key_exact_{k}" in clean]
    bits = clean["latent_shape"].map(lambda s: s[0] * s[1] * 32)
    table = [
        (
            "known plaintext: key error from one (z, E) pair, largest",
            f"{clean['kp_key_error'].max():.1e}",
            "no attack: a wrong key is refused by the tag",
            "key not recoverable",
        ),
        ("… then every other latent read back, largest error", f"{clean['kp_latent_error'].max():.1e}", "—", "—"),
        (
            "ciphertext only: key pixels exact from n ciphertexts (min √E)",
            ", ".join(f"n={k}: {mean(f'co_key_exact_{k}'):.0%}" for k in co),
            "0 % (no structure to exploit)",
            "0 %",
        ),
        (
            f"eavesdropper's decode of √E: SSIM with the original (the receiver's: {mean('legit_ssim'):.3f})",
            f"{mean('eavesdropper_ssim'):.3f}",
            "nothing to decode",
            "≈ 0",
        ),
        (
            f"histogram entropy of the 8-bit ciphertext, bits (the latent itself: {mean('plain_entropy'):.2f})",
            f"{mean('paper_entropy'):.3f}",
            f"{mean('aes_entropy'):.3f}",
            "8",
        ),
        (
            "χ² of the histogram, 255 d.f.",
            f"{mean('paper_chi2'):.0f}",
            f"{mean('aes_chi2'):.0f}",
            f"< {randomness.chi_square_critical(0.05):.1f} (α = 0.05)",
        ),
        (
            f"adjacent-element correlation (the latent itself: {mean('plain_correlation'):.3f})",
            f"{mean('paper_correlation'):.4f}",
            f"{mean('aes_correlation'):.4f}",
            "0",
        ),
        (
            "NPCR, one input pixel changed, %",
            f"{mean('paper_npcr'):.3f}",
            f"{mean('aes_npcr'):.3f}",
            f"> {npcr_crit} (α = 0.05 / 0.01 / 0.001, at the largest L = {n_big}; each run is judged at its own L)",
        ),
        ("UACI, %", f"{mean('paper_uaci'):.4f}", f"{mean('aes_uaci'):.3f}", f"in {uaci_crit}"),
        ("runs passing NPCR and UACI at α = 0.05", passes("paper"), passes("aes"), "all"),
        (
            "key sensitivity: decoded pixels changed by a key off by one step",
            f"{mean('paper_key_sensitivity'):.1%}",
            f"{mean('aes_key_sensitivity'):.0%} of packets refused",
            "≈ 100 %",
        ),
        (
            "key space, bits",
            f"{bits.min()}–{bits.max()} nominal (h·w float32 values), drawn from a seed; one known pair or a few "
            "ciphertexts give the key away whatever its size",
            "256",
            "≥ 128",
        ),
        (
            "throughput, encrypt + decrypt, MB of latent per s",
            f"{mean('paper_mb_per_s'):.0f}",
            f"{mean('aes_mb_per_s'):.0f} (ChaCha20-Poly1305: {mean('chacha20_mb_per_s'):.0f})",
            "—",
        ),
    ]
    return pd.DataFrame(table, columns=["test", "paper's cipher", "AES-256-GCM", "ideal / critical value"])


def audit_summary(results: Results) -> list:
    """The audit section of the page: the record's size and the table, or how to run the audit."""
    audit = record.load(results.profile, results.root)
    if audit is None:
        return [
            page.admonition(
                "No audit in this build",
                f"The cipher audit has not run for this profile. Run `.venv/bin/aecrypt audit --profile "
                f"{results.profile}` (or `make book`, which runs it), then build the book again.",
            )
        ]
    runs = audit["runs"]
    clean = sum(r["relu_domain"] for r in runs)
    return [
        page.md(
            f"Audited: **{len(runs)} runs** ({clean} with z + K ≥ 0 everywhere, where the paper's decryption is "
            f"exact; the table averages those), {runs[0]['images']} test images each, in {audit['seconds']:.0f} s."
        ),
        page.html(audit_table(audit)),
    ]


def attack_figure(results: Results):
    """The audit's example pictures (what the eavesdropper and the ciphertext-only attack decode), or None."""
    import numpy as np

    from aecrypt import paths
    from aecrypt.figures.panels import attack_panels

    path = paths.audit_samples(results.profile, results.root)
    if record.load(results.profile, results.root) is None or not path.is_file():
        return None
    with np.load(path) as z:
        return attack_panels(dict(z))


def verdict(results: Results):
    finding = cipher_finding(results)
    return page.md(
        f'"The cipher secures the transmitted features" (Sec. 3): **{finding.verdict}**. Measured: {finding.measured}'
    )
