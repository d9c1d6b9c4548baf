"""The command-line reference, generated from the parser itself (the book's page "Command-line reference"):
one section per command, its usage line, and a table of its arguments with their defaults and choices, so
the page can never disagree with `aecrypt … -h`."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from aecrypt.cli.main import FAMILIES, build_parser

#: Options every command has; listed once, at the top of the page.
COMMON = ("-h", "-v", "-q")


@dataclass(frozen=True)
class Command:
    name: str  # "archive export"
    help: str
    parser: argparse.ArgumentParser


def _sub_actions(parser: argparse.ArgumentParser) -> list[argparse._SubParsersAction]:
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> list[Command]:
    """Every command that runs something, in the parser's order (sub-commands of sub-commands included)."""
    parser = parser or build_parser()
    found = []
    for action in _sub_actions(parser):
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, child in action.choices.items():
            full = f"{prefix}{name}"
            if _sub_actions(child):
                found += commands(child, f"{full} ")
            else:
                found.append(Command(full, helps.get(name, ""), child))
    return found


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`" + (" …" if action.nargs in ("*", "+") else "")
    value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
    return ", ".join(f"`{flag}{value}`" for flag in action.option_strings)


def _detail(action: argparse.Action) -> str:
    parts = []
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        parts.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
    if action.required and action.option_strings:
        parts.append("required")
    default = action.default
    if action.option_strings and default not in (None, False, argparse.SUPPRESS, 0) and action.nargs != 0:
        parts.append(f"default `{default}`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    """Help text as one Markdown table cell: `|` would end the cell, `<…>` read as HTML, `$` open math."""
    text = " ".join((text or "").split())
    for char in "|<$":
        text = text.replace(char, "\\" + char)
    return re.sub(r"(?<![\w`-])(--?[a-z][\w-]*)", r"`\1`", text)  # an option as code (else "--" prints as "–")


def arguments_table(parser: argparse.ArgumentParser) -> str:
    rows = ["| argument | what it is |", "| --- | --- |"]
    for action in parser._actions:
        if set(action.option_strings) & set(COMMON) or action.help == argparse.SUPPRESS:
            continue
        detail = _detail(action)
        what = _cell(action.help) + (f" — {detail}" if detail else "")  # the detail holds Markdown: not escaped
        rows.append(f"| {_flags(action)} | {what} |")
    return "\n".join(rows) if len(rows) > 2 else "*(no arguments)*"


def usage(parser: argparse.ArgumentParser, width: int = 80) -> str:
    """The usage lines `-h` prints, wrapped at `width` whatever the terminal of the build."""
    formatter = argparse.HelpFormatter(prog=parser.prog, width=width)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip().removeprefix("usage: ")


def markdown() -> str:
    """The whole reference, as MyST markdown: the families, then one section per command."""
    parser = build_parser()
    lines = [
        "Every command takes `-h` (its help), `-v` (more output; `-vv` the libraries' too) and `-q` (warnings and "
        "errors only). Exit status: 0 done, 1 a failure at run time, 2 a usage error, 130 interrupted.",
        "",
        "| family | commands |",
        "| --- | --- |",
    ]
    lines += [f"| {family.SUMMARY.split(':')[0]} | {family.SUMMARY.split(':', 1)[1].strip()} |" for family in FAMILIES]
    for command in commands(parser):
        lines += ["", f"## `aecrypt {command.name}`", "", _cell(command.help) + ".", ""]
        lines += ["```text", usage(command.parser), "```"]
        lines += ["", arguments_table(command.parser)]
    return "\n".join(lines) + "\n"
