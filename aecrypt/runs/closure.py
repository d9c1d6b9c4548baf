"""What a piece of the project runs: the `aecrypt` modules it imports, directly or through other modules
(followed through the import graph, function-level imports and parent packages included), the hash of their
code, and every installed distribution those imports reach, with its version. A run's identity is built from
these (`runs.identity`), and so is the cipher audit's cache key (`audit.record`).

Distributions are found from metadata alone, so nothing is imported: the top-level names each module
imports, the distributions that provide them (importlib.metadata.packages_distributions), and, through their
Requires-Dist, every distribution those need."""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from aecrypt import paths


def module_file(module: str) -> Path | None:
    """The source file of an `aecrypt` module (a package's __init__.py), or None if there is none. Read from
    paths.PACKAGE at each call, so a test can point it at a copy of the source."""
    base = paths.PACKAGE.joinpath(*module.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """`aecrypt` modules a piece of code imports, anywhere in it (function-level imports included).
    `from X import name` counts X.name when that is a module, else X."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "aecrypt" and module_file(name)}


def _with_parents(module: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(roots: Iterable[str]) -> list[str]:
    """Every `aecrypt` module that importing `roots` (module names) executes."""
    todo, seen = set(roots), set()
    while todo:
        module = todo.pop()
        for name in _with_parents(module) - seen:
            seen.add(name)
            source = module_file(name)
            todo |= _imports(ast.parse(source.read_text()), name, source.name == "__init__.py") - seen
    return sorted(seen)


def imports_of_code(code: Iterable[str]) -> set[str]:
    """The `aecrypt` modules pieces of code (a notebook's cells) import; cells that are not Python (IPython
    magics) are skipped."""
    found: set[str] = set()
    for text in code:
        try:
            found |= _imports(ast.parse(text), "__main__", False)
        except SyntaxError:
            continue
    return found


def _code_only(source: str) -> str:
    """The code of a module without comments, docstrings or layout (its AST), which is what can change a
    result: rewording a docstring or reformatting a module changes nothing."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_hash(modules: Iterable[str]) -> str:
    """Hash of the code (not the comments or docstrings) of these modules, each named by its path."""
    h = hashlib.sha256()
    for module in sorted(modules):
        source = module_file(module)
        h.update(source.relative_to(paths.PACKAGE).as_posix().encode())
        h.update(_code_only(source.read_text()).encode())
    return h.hexdigest()


def third_party_imports(modules: Iterable[str], code: Iterable[str] = ()) -> set[str]:
    """The top-level names of everything outside aecrypt and the standard library that these modules (and
    pieces of code) import."""
    texts = [module_file(m).read_text() for m in modules] + list(code)
    names: set[str] = set()
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in ("aecrypt", "__future__") and n not in sys.stdlib_module_names}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=32)
def _reached(import_names: frozenset[str]) -> tuple[str, ...]:
    from packaging.requirements import Requirement

    providers = metadata.packages_distributions()
    todo = {_canonical(d) for name in import_names for d in providers.get(name, [name])}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.add(_canonical(requirement.name))
    return tuple(sorted(seen))


def distributions(import_names: Iterable[str]) -> tuple[str, ...]:
    """Every installed distribution these top-level import names reach: those that provide them, and
    (through Requires-Dist, extras left out) everything those require, installed."""
    return _reached(frozenset(import_names))


def version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(import_names: Iterable[str]) -> dict[str, str]:
    """{distribution: version} for every distribution the imports reach."""
    return {name: version(name) for name in distributions(import_names)}
