"""The `aecrypt` command (also `python -m aecrypt`): every command family's sub-commands in one parser,
standard logging behind -v/-q, and every error as one line with an exit status — 0 done, 1 a failure at run
time, 2 a usage error (argparse's own, or an input that is not valid as given: `UsageError`), 130
interrupted."""

from __future__ import annotations

import argparse
import logging
import sys

from aecrypt import AecryptError, UsageError, __version__
from aecrypt.cli import archive, audit, book, common, compression, coursework, fetch, link, packets, runs

FAMILIES = (runs, fetch, audit, compression, archive, book, coursework, packets, link)
#: The extra that installs each library a command may need (an installed `aecrypt` brings only the PNG link).
EXTRA_OF = {
    "paho": "link",
    "amqtt": "link",
    "jupyter_book": "book",
    "myst_nb": "book",
    "sphinx_exercise": "book",
    "jupytext": "book",
    "otter": "coursework",
}
#: Libraries whose loggers the command sets, one logger at a time (never the root logger or the process).
LIBRARY_LOGGERS = ("papermill", "traitlets", "distributed", "amqtt", "matplotlib", "absl", "tensorflow", "asyncio")


def _description() -> str:
    lines = "\n".join(f"  {family.SUMMARY}" for family in FAMILIES)
    return (
        "aecrypt: the paper's pipeline, its sweep, its book, and its IoT link, rebuilt and tested.\n\n"
        f"commands, by family:\n{lines}\n\n"
        "exit status: 0 done, 1 a failure at run time, 2 a usage error, 130 interrupted"
    )


def _leaves(parser: argparse.ArgumentParser):
    """Every parser that runs a command (sub-commands of sub-commands included)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for child in dict.fromkeys(action.choices.values()):
            yield from _leaves(child)


def build_parser() -> argparse.ArgumentParser:
    parser = common.Parser(prog="aecrypt", description=_description(), formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--version", action="version", version=f"aecrypt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=common.Parser)
    for family in FAMILIES:
        family.register(sub)
    for leaf in _leaves(parser):
        if leaf is not parser:
            common.add_verbosity(leaf)
    return parser


class _Lines(logging.Formatter):
    """Progress as it is; warnings and errors as one line that says so, like every aecrypt message."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"aecrypt: error: {text}"
        return f"aecrypt: warning: {text}" if record.levelno >= logging.WARNING else text


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """The `aecrypt` logger to stderr at INFO (DEBUG with -v, WARNING with -q); the libraries' loggers at
    WARNING (INFO with -vv), each set by name."""
    logger = logging.getLogger("aecrypt")
    handler = logging.StreamHandler(sys.stderr)  # this call's stderr (tests capture it anew each time)
    handler.setFormatter(_Lines())
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose >= 2 else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"aecrypt: error: {exc}", file=sys.stderr)
        return 2
    except AecryptError as exc:
        print(f"aecrypt: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that cannot be made or written, a file that vanished: say which
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"aecrypt: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:  # an installed aecrypt without the extra this command needs
        top = (exc.name or "").split(".")[0]
        if not top or top == "aecrypt":
            raise
        extra = EXTRA_OF.get(top, "experiments")
        print(
            f"aecrypt: error: `aecrypt {args.command}` needs {top}, which is not installed: "
            f"pip install 'aecrypt[{extra}]' (or 'aecrypt[all]')",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("aecrypt: interrupted; finished runs are kept, rerun to finish the rest", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
