"""`aecrypt sweep | results | add | data | runs`: running the paper's grid, its results table, runs made by
hand, a data source's summary, and the finished runs a link command can name."""

from __future__ import annotations

import json
from pathlib import Path

from aecrypt import UsageError
from aecrypt.cli.common import add_profile, grid_for, results_root
from aecrypt.profiles import get_profile

SUMMARY = "runs: sweep, results, add, data, runs"


def cmd_sweep(args) -> int:
    from aecrypt.profiles import parse_seeds
    from aecrypt.runs.sweep import run_sweep

    report = run_sweep(
        args.profile,
        grid_for(args),
        args.data,
        args.workers,
        args.scheduler,
        results_root(args),
        seeds=parse_seeds(args.seeds) if args.seeds else None,
        data_seed=args.data_seed,
        references=not args.no_references,
        settings=parse_settings(args.set),
    )
    if report.failures:
        import logging

        log = logging.getLogger("aecrypt")
        log.error(f"{len(report.failures)} run(s) failed:")
        for label, error in report.failures:
            log.error(f"  {label}: {error}")
        return 1
    return 0


def parse_settings(items: list[str]) -> dict[str, list[str]]:
    """`--set NAME=VALUE[,VALUE...]` options as {name: values} (checked against the run's parameters when the grid
    is read)."""
    settings: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise UsageError(f"--set {item!r}: write NAME=VALUE or NAME=VALUE,VALUE (e.g. --set learning_rate=0.01)")
        if name.strip() in settings:
            raise UsageError(f"--set {name.strip()} is given twice; give its values once, comma-separated")
        settings[name.strip()] = [v.strip() for v in values.split(",")]
    return settings


def cmd_results(args) -> int:
    from aecrypt.runs.table import collect, write_summary

    path = write_summary(args.profile, results_root(args))
    print(collect(args.profile, results_root(args))["status"].value_counts().to_string())
    print(f"table: {path}")
    return 0


def cmd_add(args) -> int:
    from aecrypt import paths
    from aecrypt.runs.added import add_run

    rid = add_run(Path(args.folder), args.profile, Path(args.notebook) if args.notebook else None, results_root(args))
    print(f"added run {rid} to {paths.summary_csv(args.profile, results_root(args))}")
    return 0


def cmd_data(args) -> int:
    from aecrypt.data.dataset import fit_size, load_dataset

    profile = get_profile(args.profile)
    spec = args.data or profile.default_data
    size_note = ""
    if args.size is None:  # the size a sweep would run at: the profile's, or smaller when the images are
        size, size_note = fit_size(profile.size, spec)
    else:
        size = args.size  # 0 is an error, not "default"
    n = args.n_images if args.n_images is not None else profile.images_for(spec)
    summary = load_dataset(spec, size, n, args.seed).summary()
    if size_note:
        summary["notes"] = [size_note] + summary["notes"]
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def cmd_runs(args) -> int:
    from aecrypt.runs.trained import list_runs

    table = list_runs(args.profile, results_root(args))
    if table.empty:
        print(f"no finished runs in profile {args.profile!r}; run `aecrypt sweep --profile {args.profile}` first")
        return 0
    print(table.to_string(index=False))
    return 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run every combination of a grid (cached; resumable)")
    add_profile(p)
    p.add_argument("--grid", help="grid file (default: the profile's, in grids/)")
    p.add_argument("--workers", type=int, help="parallel runs (default: one per core)")
    p.add_argument("--scheduler", help="dask.distributed scheduler address (tcp://host:8786) instead of local workers")
    p.add_argument(
        "--seeds",
        help="training seeds (initial weights, data order): a count N for seeds 0..N-1, or a list like 0,3,7 "
        "(default: the profile's)",
    )
    p.add_argument(
        "--data-seed",
        type=int,
        default=0,
        help="the seed of the phantoms, the train/val/test split and the paper-cipher key, fixed for the build",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE[,VALUE...]",
        help="give a parameter a grid varies (e.g. learning_rate=0.01, or optimizer=adam,sgd) these values for "
        "every combination, in place of the grid file's; repeatable",
    )
    p.add_argument(
        "--no-references",
        action="store_true",
        help="skip the reference runs (the best combination decoded without the cipher, once per seed)",
    )
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("results", help="(re)write results/<profile>/summary.csv")
    add_profile(p, data=False)
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("add", help="add a run made by hand with papermill to the results")
    p.add_argument("folder", help="the run's output_dir")
    p.add_argument("--notebook", help="the executed notebook papermill wrote")
    add_profile(p, data=False)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("data", help="load a data source and print its summary as JSON")
    add_profile(p)
    p.add_argument("--size", type=int, help="image size (default: the profile's)")
    p.add_argument("--n-images", type=int, help="cap on the number of images (default: the profile's)")
    p.add_argument("--seed", type=int, default=0, help="data seed (phantoms, sampling)")
    p.add_argument("--summary", action="store_true", help="print class and image counts (the default output)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("runs", help="list a profile's finished runs (ids, labels) to name one with --run")
    add_profile(p, data=False)
    p.set_defaults(func=cmd_runs)
