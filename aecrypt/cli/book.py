"""`aecrypt book`: the HTML book from a profile's results (the sweep comes first; `make book` does both)."""

from __future__ import annotations

from pathlib import Path

from aecrypt.cli.common import add_profile, results_root

SUMMARY = "book: book"


def cmd_book(args) -> int:
    from aecrypt.book.build import build

    index = build(args.profile, results_root(args), Path(args.build) if args.build else None, args.force, args.edition)
    print(f"book: {index}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("book", help="build the HTML book from a profile's results")
    add_profile(p, data=False)
    p.add_argument("--build", help="output folder; the HTML goes to BUILD/_build/html (default: the repository)")
    p.add_argument("--force", action="store_true", help="rebuild even if no input changed since the last build")
    p.add_argument(
        "--edition",
        choices=("instructor", "student"),
        default="instructor",
        help="instructor: solutions included, collapsed (default); student: solutions removed, into _build/student",
    )
    p.set_defaults(func=cmd_book)
