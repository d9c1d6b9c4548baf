"""`aecrypt fetch medmnist NAME | nih --parts …`: download a public chest X-ray set into the layout a data spec
reads (the only command that uses the network)."""

from __future__ import annotations

import logging
from pathlib import Path

from aecrypt.data.catalogue import MEDMNIST, MEDMNIST_SIZES

SUMMARY = "data: fetch"


def cmd_fetch(args) -> int:
    from aecrypt.data import fetch

    if args.source == "medmnist":
        spec = fetch.fetch_medmnist(args.name, args.size, Path(args.to), args.mirror, args.quiet)
        missing = None
    else:
        from aecrypt.data.catalogue import parse_parts

        spec, missing = fetch.fetch_nih(parse_parts(args.parts), Path(args.to), args.labels, args.mirror, args.quiet)
    if missing:
        logging.getLogger("aecrypt").warning(f"one step left: {missing}")
    print(f"data spec: {spec}\nnext: aecrypt data --data {spec} --summary, or make book PROFILE=real DATA={spec}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("fetch", help="download a public chest X-ray set (the only command that uses the network)")
    sources = p.add_subparsers(dest="source", required=True)
    m = sources.add_parser("medmnist", help="a MedMNIST chest X-ray set with two classes (one .npz file)")
    m.add_argument("name", help=f"the set: {', '.join(MEDMNIST)} (PneumoniaMNIST binary; ChestMNIST any finding)")
    m.add_argument("--size", type=int, default=28, choices=MEDMNIST_SIZES, help="image side (default 28)")
    n = sources.add_parser("nih", help="NIH ChestX-ray14 image archives, unpacked for the nih: data spec")
    n.add_argument("--parts", required=True, help="archives 1..12: a list (1,2), a range (1-3) or all (~45 GB)")
    n.add_argument("--labels", help="path or URL of Data_Entry_2017*.csv (NIH gives it no direct link)")
    for q in (m, n):
        q.add_argument("--to", required=True, help="folder to download into (created if missing)")
        q.add_argument("--mirror", help="download the same file names from this base URL instead of the publisher")
    p.set_defaults(func=cmd_fetch)
