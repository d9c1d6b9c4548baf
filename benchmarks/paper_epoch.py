"""Seconds per autoencoder epoch at the paper's scale (200×200, 9000 images), on whatever machine and
Keras backend this runs on. The paper reports 9–16 s per epoch on unstated hardware.

    python benchmarks/paper_epoch.py                     # paper scale
    python benchmarks/paper_epoch.py --images 512 --epochs 2   # a quick CPU check
    KERAS_BACKEND=jax python benchmarks/paper_epoch.py   # a GPU machine without TensorFlow

Epoch time does not depend on image content, so 1000 phantoms are tiled to the requested count
(generating 9000 at 200×200 would take longer than the measurement)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=9000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3, help="the first epoch includes compilation")
    parser.add_argument("--depths", default="3,2")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import keras

    from aecrypt.data import synthetic
    from aecrypt.paper import choices, models

    t = time.perf_counter()
    base, _ = synthetic.generate(min(1000, args.images), args.size, seed=0)
    x = np.resize(base, (args.images, args.size, args.size))[..., None]
    generated = time.perf_counter() - t
    out = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": platform.node(),
        "cpu_count": os.cpu_count(),
        "images": args.images,
        "size": args.size,
        "batch_size": args.batch_size,
        "phantom_seconds": round(generated, 2),
        "runs": [],
    }
    try:
        import jax

        out["devices"] = [str(d) for d in jax.devices()]
    except Exception:
        pass
    for depth in (int(d) for d in args.depths.split(",")):
        keras.utils.set_random_seed(0)
        ae = models.build_autoencoder(args.size, depth, "relu")
        models.compile_autoencoder(ae, "msle", "adagrad")
        seconds = []
        for _ in range(args.epochs):
            t = time.perf_counter()
            ae.autoencoder.fit(x, x, epochs=1, batch_size=args.batch_size, verbose=0)
            seconds.append(time.perf_counter() - t)
        steady = seconds[1:] or seconds
        out["runs"].append(
            {
                "depth": depth,
                "latent": list(choices.latent_shape(args.size, depth)),
                "epoch_seconds": [round(s, 3) for s in seconds],
                "steady_epoch_seconds": round(float(np.median(steady)), 3),
            }
        )
        print(json.dumps(out["runs"][-1]), flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
