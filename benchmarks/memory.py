"""Peak resident memory of one real run (the papermill template, its own kernel) at the paper's 200² and
depth 2 — the largest latent, 100×100×64 per image — for a growing number of images, one epoch each, and
the straight-line projection to the paper's 9000. Writes results/memory.json (the Performance page shows it).

    make bench-memory                      # 1000, 2000, 4000 images (several minutes on 2 cores)
    python benchmarks/memory.py --images 500,1000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PAPER_IMAGES = 9000


def one_run(images: int, scratch: Path) -> dict:
    import papermill

    from aecrypt import paths

    out = scratch / f"run-{images}"
    t = time.perf_counter()
    papermill.execute_notebook(
        str(paths.TEMPLATE),
        str(scratch / f"run-{images}.ipynb"),
        parameters={
            "profile": "paper",
            "loss": "mse",
            "optimizer": "adam",
            "depth": 2,
            "output_dir": str(out),
            "overrides": {"n_images": images, "ae_epochs": 1, "clf_epochs": 1},
        },
        progress_bar=False,
    )
    m = json.loads((out / paths.RUN_FILES.metrics).read_text())
    data_mb = images * 200 * 200 * 4 / 2**20  # the float32 images the run holds
    return {
        "images": images,
        "peak_rss_mb": round(m["peak_rss_mb"]),
        "data_set_mb": round(data_mb),
        "all_latents_mb": round(images * 100 * 100 * 64 * 4 / 2**20),  # what a non-streaming run would hold
        "run_s": round(time.perf_counter() - t, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", default="1000,2000,4000")
    parser.add_argument("--out", help="JSON file (default: results/memory.json)")
    args = parser.parse_args()
    from aecrypt import paths

    with tempfile.TemporaryDirectory(prefix="aecrypt-memory-") as scratch:
        rows = []
        for n in (int(x) for x in args.images.split(",")):
            rows.append(one_run(n, Path(scratch)))
            print(json.dumps(rows[-1]), flush=True)
    n = np.array([r["images"] for r in rows], float)
    rss = np.array([r["peak_rss_mb"] for r in rows], float)
    slope, intercept = np.polyfit(n, rss, 1) if len(rows) > 1 else (rss[0] / n[0], 0.0)
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "what": "one run of notebooks/experiment.ipynb at profile paper, depth 2, 1 epoch, overrides n_images",
        "rows": rows,
        "mb_per_image": round(float(slope), 3),
        "constant_mb": round(float(intercept)),
        "projected_9000_mb": round(float(slope * PAPER_IMAGES + intercept)),
    }
    out = Path(args.out) if args.out else paths.results_root() / "memory.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    print(
        f"peak RSS ≈ {record['constant_mb']} MB + {record['mb_per_image']} MB per image "
        f"(the image itself is {200 * 200 * 4 / 2**20:.3f} MB); projected for {PAPER_IMAGES}: "
        f"{record['projected_9000_mb'] / 1024:.1f} GiB · written: {out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
