"""`aecrypt archive export | import`: a profile's results in one verified file (`runs.archive`), so that a
build made elsewhere can be rebuilt into the same book without a sweep (`aecrypt book --archive FILE`)."""

from __future__ import annotations

from pathlib import Path

from aecrypt.cli.common import add_profile, results_root

SUMMARY = "archive: archive export, archive import"


def cmd_export(args) -> int:
    from aecrypt.runs.archive import export

    done = export(args.profile, Path(args.output), results_root(args), models=args.models)
    models = "with" if done.models else "without"
    print(
        f"wrote {done.path}: {done.members} files of profile {args.profile!r} ({done.runs} run folders, {models} "
        f"models), {done.bytes / 1e6:.1f} MB"
    )
    return 0


def cmd_import(args) -> int:
    from aecrypt.runs.archive import import_archive

    done = import_archive(Path(args.archive), results_root(args), replace=args.replace)
    if done.unchanged:
        print(f"{args.archive}: already imported into {done.root / done.profile}; nothing written")
    else:
        print(
            f"imported {done.members} files of profile {done.profile!r} into {done.root}; next: aecrypt book "
            f"--profile {done.profile}" + (f" --results {args.results}" if args.results else "")
        )
    return 0


def register(sub) -> None:
    p = sub.add_parser("archive", help="a profile's results in one verified file, to rebuild the book elsewhere")
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=type(p))
    q = verbs.add_parser("export", help="write a profile's results into an archive (models only with --models)")
    add_profile(q, data=False)
    q.add_argument("-o", "--output", required=True, help="the archive file to write (.tar.gz)")
    q.add_argument("--models", action="store_true", help="also the runs' trained models (the link and audit use them)")
    q.set_defaults(func=cmd_export)
    q = verbs.add_parser("import", help="verify an archive, then put its results in place (nothing before that)")
    q.add_argument("archive", help="an archive file (aecrypt archive export)")
    q.add_argument("--results", help="results folder (default: results/ or $AECRYPT_RESULTS)")
    q.add_argument("--replace", action="store_true", help="move existing results of the profile aside first")
    q.set_defaults(func=cmd_import)
