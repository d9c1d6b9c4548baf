"""`make bench-compression`: the standard codecs' rate–distortion curve at the paper's 200² with MS-SSIM (its
five scales need at least 161 pixels a side, so the book's builds at 32² and 64² cannot have it), on real
originals resized to 200² — by default the 50 NIH ChestX-ray14 images at 1024² in ../shared/data (absent from a
user's clone: give --data). Codecs only, no autoencoder: no run exists at 200². The chapter "Is it compressed?"
shows it, labelled as such.

    make bench-compression [DATA=nih:DIR]      # about a minute on 2 cores for 50 images

Writes results/compression-originals.csv (one row per codec setting: bpp, PSNR, SSIM, MS-SSIM with standard
errors over images, header share) and its description in a JSON beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from aecrypt import AecryptError, UsageError, paths, runtime
from aecrypt.compression import curves

DEFAULT_DATA = f"nih:{paths.SHARED_DATA / 'nih-chestxray14-sample'}"
SIZE = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="a data spec of images at least 200 px a side")
    parser.add_argument("--results", default=None, help="results folder (default: results/)")
    args = parser.parse_args(argv)
    runtime.configure()
    from aecrypt.data.dataset import load_dataset

    started = time.perf_counter()
    try:
        dataset = load_dataset(args.data, SIZE, None, 0)
    except AecryptError as exc:  # a missing folder, images too small: say which, exit 2 for a bad --data
        print(f"bench-compression: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    images = dataset.images
    table = curves.codec_points(images, with_ms_ssim=True).points
    root = Path(args.results) if args.results else None
    out = paths.compression_originals_csv(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    seconds = time.perf_counter() - started
    about = {
        "data": args.data,
        "images": int(len(images)),
        "size": SIZE,
        "date": dt.date.today().isoformat(),
        "seconds": round(seconds, 1),
        "cpu": runtime.cpu_line(runtime.cpu_info()),
    }
    out.with_suffix(".json").write_text(json.dumps(about, indent=2))
    print(
        f"bench-compression: {len(table)} codec settings on {len(images)} images at {SIZE}² in {seconds:.0f} s: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
