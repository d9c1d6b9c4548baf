"""`make bench`: the speed figures the book and notes quote, measured side by side in one run.

1. synthetic phantoms: seconds for 1000 images at 64×64 (target: a few seconds)
2. the paper's cipher vs. AES-256-GCM: encrypt + decrypt of one latent, at the default and the paper's size
3. data loading: the shared real sample, cold vs. cached (skipped when ../shared/data is absent)
4. autoencoder epoch at 200×200 on this machine, extrapolated to the paper's 9000 images
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_phantoms() -> dict:
    from aecrypt.data import synthetic

    return {"phantoms_1000_at_64_s": round(best_of(lambda: synthetic.generate(1000, 64, 0), 3), 3)}


def bench_ciphers() -> list[dict]:
    from aecrypt import cipher
    from aecrypt.choices import latent_shape

    rows = []
    for size in (64, 200):
        shape = latent_shape(size, 3)
        z = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
        paper = cipher.PaperCipher(cipher.key_from_seed(*shape[:2], 0))
        aead = cipher.AeadCipher()
        t_paper = best_of(lambda p=paper, z=z: p.decrypt(p.encrypt(z)), 50)
        t_aead = best_of(lambda a=aead, z=z: a.decrypt(a.encrypt(z)), 50)
        rows.append(
            {
                "image": f"{size}x{size}",
                "latent": "x".join(map(str, shape)),
                "paper_cipher_us": round(t_paper * 1e6, 1),
                "aes_gcm_us": round(t_aead * 1e6, 1),
                "aes_over_paper": round(t_aead / t_paper, 2),
            }
        )
    return rows


def bench_loading() -> dict:
    from aecrypt import paths

    sample = paths.SHARED_DATA / "cxr-real-128"
    if not sample.is_dir():
        return {"loading": f"skipped: {sample} absent"}
    from aecrypt.data import load_dataset

    with tempfile.TemporaryDirectory() as cache:
        os.environ["AECRYPT_CACHE"] = cache
        t = time.perf_counter()
        load_dataset(f"folder:{sample}", 64)
        cold = time.perf_counter() - t
        warm = best_of(lambda: load_dataset(f"folder:{sample}", 64), 3)
    return {
        "cxr_real_128_cold_s": round(cold, 3),
        "cxr_real_128_cached_s": round(warm, 4),
        "cold_over_cached": round(cold / warm, 1),
    }


def bench_epoch(images: int = 256) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, str(HERE / "paper_epoch.py"), "--images", str(images), "--epochs", "2", "--depths", "3"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout[out.stdout.index("{\n") :])
    steady = result["runs"][0]["steady_epoch_seconds"]
    return {
        "epoch_200px_depth3_images": images,
        "epoch_s": steady,
        "extrapolated_9000_images_epoch_s": round(steady * 9000 / images, 1),
        "backend": result["backend"],
        "cpu_count": result["cpu_count"],
    }


def main() -> None:
    print("phantoms:", json.dumps(bench_phantoms()))
    print("ciphers (encrypt + decrypt one latent, best of 50):")
    for row in bench_ciphers():
        print("  ", json.dumps(row))
    print("loading:", json.dumps(bench_loading()))
    print("epoch at the paper's size on this machine:", json.dumps(bench_epoch()))


if __name__ == "__main__":
    main()
