"""What the command families share: the parser (usage mistakes are one line and exit 2), the options most
commands take (profile, results folder, data spec, -v/-q), and the results folder they name."""

from __future__ import annotations

import argparse
from pathlib import Path

from aecrypt import paths
from aecrypt.data.specs import SPEC_HELP
from aecrypt.profiles import PROFILES, get_profile


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line, like every other aecrypt error (sub-commands inherit this class)."""

    def error(self, message: str):
        self.exit(2, f"aecrypt: error: {self.prog}: {message} (see `{self.prog} -h`)\n")


def add_profile(p: argparse.ArgumentParser, data: bool = True) -> None:
    """--profile, --results and (where the command reads data) --data."""
    p.add_argument("--profile", default="default", choices=list(PROFILES), help="how big each run is")
    p.add_argument("--results", help="results folder (default: results/ or $AECRYPT_RESULTS)")
    if data:
        p.add_argument("--data", help=f"data spec: {SPEC_HELP}")


def add_verbosity(p: argparse.ArgumentParser) -> None:
    """-v (more: the project's debug lines; -vv also the libraries') and -q (warnings and errors only)."""
    p.add_argument("-v", "--verbose", action="count", default=0, help="more output (-vv: the libraries' too)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors (no progress lines)")


def results_root(args) -> Path | None:
    return Path(args.results) if getattr(args, "results", None) else None


def grid_for(args) -> Path:
    """--grid, or the profile's default grid in grids/."""
    return Path(args.grid) if args.grid else paths.GRIDS / get_profile(args.profile).default_grid
