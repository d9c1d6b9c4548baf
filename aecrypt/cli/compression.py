"""`aecrypt compression`: is it compressed? Bytes on the wire, rate–distortion against the standard codecs,
latency, and (with --runs) the bottleneck variant and the classifier at equal rate, as a cached step
(results/<profile>/compression/)."""

from __future__ import annotations

from aecrypt.cli.common import add_profile, results_root

SUMMARY = "compression: compression"


def cmd_compression(args) -> int:
    from aecrypt.compression.record import run_compression

    run_compression(
        args.profile,
        results_root(args),
        runs=args.runs,
        force=args.force,
        all_images=args.all_images,
        workers=args.workers,
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "compression",
        help="bytes on the wire, rate–distortion against JPEG/WebP/JPEG 2000/JPEG XL/JPEG-LS, latency (cached): "
        "results/<profile>/compression/",
    )
    add_profile(p, data=False)
    p.add_argument(
        "--runs",
        action="store_true",
        help="first run the bottleneck grid (grids/bottleneck.yaml) and the classifier on codec images at the same "
        "rates (about 7 minutes on 2 cores at the default profile; cached like every run)",
    )
    p.add_argument("--workers", type=int, default=None, help="parallel runs for --runs (default: one per core)")
    p.add_argument("--all-images", action="store_true", help="curves over the whole test split, not a subset of 400")
    p.add_argument("--force", action="store_true", help="compute again even if nothing it reads changed")
    p.set_defaults(func=cmd_compression)
