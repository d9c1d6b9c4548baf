"""`aecrypt audit`: the cipher audit on a profile's saved models, as a cached step (results/<profile>/audit.json)."""

from __future__ import annotations

from aecrypt.cli.common import add_profile, results_root

SUMMARY = "audit: audit"


def cmd_audit(args) -> int:
    from aecrypt.audit.record import run_audit

    run_audit(args.profile, results_root(args), args.force)  # it logs its line (-q: nothing)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "audit", help="the cipher audit on a profile's saved models (cached): results/<profile>/audit.json"
    )
    add_profile(p, data=False)
    p.add_argument("--force", action="store_true", help="audit again even if no run changed")
    p.set_defaults(func=cmd_audit)
