"""Measurements in a process of their own (the backend, thread count and instruction-set limit are fixed
when a process starts, so `run.py` starts one of these per configuration, or one for measurements that share
them). Prints one JSON line per measurement.

    python benchmarks/measure.py peak [--n 2048]
    python benchmarks/measure.py train --size 64 --depth 3 --images 384 [--jit] [--policy mixed_bfloat16]
    python benchmarks/measure.py peak + train --size 32 --images 320   # several, one after another

KERAS_BACKEND, ONEDNN_MAX_CPU_ISA and XLA_FLAGS are read from the environment as the runs read them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _threads(n: int) -> None:
    if n:
        from aecrypt import runtime

        runtime.configure(threads=n)


def peak(n: int, repeats: int) -> dict:
    """fp32 GEMM through the backend the runs use: 2·n³ FLOP per product, best of `repeats`."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    a = keras.ops.convert_to_tensor(rng.random((n, n), dtype=np.float32))
    b = keras.ops.convert_to_tensor(rng.random((n, n), dtype=np.float32))
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        product = jax.jit(lambda x, y: x @ y)
    else:
        product = keras.ops.matmul
    keras.ops.convert_to_numpy(product(a, b))  # warm-up (and compilation)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        keras.ops.convert_to_numpy(product(a, b))
        best = min(best, time.perf_counter() - t)
    return {"backend": backend, "n": n, "seconds": best, "gflops": 2 * n**3 / best / 1e9}


def train(size: int, depth: int, images: int, epochs: int, batch: int, jit: bool, policy: str) -> dict:
    """Steady-state training throughput of the paper autoencoder (first epoch = compilation, dropped)."""
    import keras
    import numpy as np

    from aecrypt.data import synthetic
    from aecrypt.paper import batches, cost, models

    keras.mixed_precision.set_global_policy(policy)
    base, _ = synthetic.generate(min(images, 512), size, seed=0)
    x = np.resize(base, (images, size, size))[..., None]
    keras.utils.set_random_seed(0)
    ae = models.build_autoencoder(size, depth, "relu")
    ae.autoencoder.compile(optimizer=models.make_optimizer("adam"), loss="mse", jit_compile=jit)
    data = batches.fit_arguments(x, x, None, batch, seed=0)  # the runs' batches
    seconds, losses = [], []
    for _ in range(epochs):
        t = time.perf_counter()
        hist = ae.autoencoder.fit(**data, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - t)
        losses.append(float(hist.history["loss"][-1]))
    steady = float(np.median(seconds[1:] or seconds))
    flops = cost.train_flops(size, depth, images)
    return {
        "backend": keras.backend.backend(),
        "size": size,
        "depth": depth,
        "images": images,
        "batch": batch,
        "jit": jit,
        "policy": policy,
        "epoch_seconds": [round(s, 3) for s in seconds],
        "steady_epoch_seconds": steady,
        "images_per_second": images / steady,
        "gflops": flops / steady / 1e9,
        "final_loss": losses[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("peak")
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="0: all cores")
    t = sub.add_parser("train")
    t.add_argument("--size", type=int, default=64)
    t.add_argument("--depth", type=int, default=3)
    t.add_argument("--images", type=int, default=384)
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--jit", action="store_true", help="XLA (jit_compile=True) under TensorFlow")
    t.add_argument("--policy", default="float32", help="Keras precision policy, e.g. mixed_bfloat16")
    t.add_argument("--threads", type=int, default=0, help="0: all cores")
    words, commands = sys.argv[1:], [[]]
    for word in words:  # measurements joined by "+" run one after another in this process
        commands.append([]) if word == "+" else commands[-1].append(word)
    measurements = [parser.parse_args(command) for command in commands]
    if len({m.threads for m in measurements}) > 1:
        parser.error("measurements in one process share its threads: give them all the same --threads")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _threads(measurements[0].threads)
    for args in measurements:
        if args.what == "peak":
            out = peak(args.n, args.repeats)
        else:
            out = train(args.size, args.depth, args.images, args.epochs, args.batch, args.jit, args.policy)
        out["threads"] = args.threads or os.cpu_count()
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
