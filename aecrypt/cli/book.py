"""`aecrypt book`: the HTML book from a profile's results (the sweep comes first; `make book` does both)."""

from __future__ import annotations

from pathlib import Path

from aecrypt.cli.common import add_profile, results_root

SUMMARY = "book: book"


def cmd_book(args) -> int:
    from aecrypt.book.build import build

    if args.archive:  # the results of a build made elsewhere, verified before anything is written
        from aecrypt.runs.archive import import_archive

        imported = import_archive(Path(args.archive), results_root(args))
        args.profile = imported.profile
        print(f"results of profile {imported.profile!r} from {args.archive}" + (" (already here)" * imported.unchanged))
    index = build(args.profile, results_root(args), Path(args.build) if args.build else None, args.force, args.edition)
    print(f"book: {index}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("book", help="build the HTML book from a profile's results")
    add_profile(p, data=False)
    p.add_argument("--build", help="output folder; the HTML goes to BUILD/_build/html (default: the repository)")
    p.add_argument("--force", action="store_true", help="rebuild even if no input changed since the last build")
    p.add_argument(
        "--archive", help="build from a results archive (aecrypt archive export) instead: its profile, no sweep"
    )
    p.add_argument(
        "--edition",
        choices=("instructor", "student"),
        default="instructor",
        help="instructor: solutions included, collapsed (default); student: solutions removed, into _build/student",
    )
    p.set_defaults(func=cmd_book)
