"""What a piece of the project runs: the `aecrypt` modules it imports, directly or through other modules
(followed through the import graph, function-level imports and parent packages included), the hash of their
code, and every installed distribution those imports reach, with its version. A run's identity is built from
these (`runs.identity`), and so are the code parts of every other cache key (`code_parts`, `aecrypt.cachekeys`):
one mechanism, hashing what a piece of code can execute (`reached_code_hash`).

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


def _code_only(source: str, dump: bool = True):
    """The code of a module without comments, docstrings or layout (its AST, dumped unless `dump` is False),
    which is what can change a result: rewording a docstring or reformatting a module changes nothing."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree) if dump else tree


def _names_used(node: ast.AST) -> set[str]:
    """Every name a piece of code can refer to: names, attributes, imported names, and strings that could name
    one (getattr); by name alone, whichever module defines it, so that the code reached is never too little."""
    used: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            used.add(n.id)
        elif isinstance(n, ast.Attribute):
            used.add(n.attr)
        elif isinstance(n, ast.alias):
            used.add(n.asname or n.name.rpartition(".")[2])
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier():
            used.add(n.value)
    return used


def _definitions(tree: ast.Module) -> tuple[list[ast.stmt], dict[str, list[ast.stmt]]]:
    """A module's top level: the statements that always run when it is imported (imports, conditionals, calls,
    decorated definitions: a decorator may register what it decorates), and the definitions by the names they
    bind (functions, classes, plain assignments), which run only if something uses them."""
    always, named = [], {}
    for stmt in tree.body:
        names = []
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not stmt.decorator_list:
            names = [stmt.name]
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            found = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            names = [n.id for n in found] if all(isinstance(t, ast.Name | ast.Tuple) for t in targets) else []
        for name in names:
            named.setdefault(name, []).append(stmt)
        if not names:
            always.append(stmt)
    return always, named


def code_key(roots: Iterable[str], scripts: Iterable[Path] = ()) -> str:
    """The code hash of a step whose entry points are the modules `roots` (the cipher audit, the compression
    record) and scripts outside the package (the benchmarks): the entry points' own code whole, and what they can
    execute of every module they import, reached as a run's is (`reached_code_hash`). Comments, docstrings and
    layout are left out throughout."""
    roots = list(roots)
    texts = [module_file(r).read_text() for r in roots] + [Path(s).read_text() for s in scripts]
    modules = closure(roots + sorted(imports_of_code(texts)))
    h = hashlib.sha256(reached_code_hash(modules, texts).encode())
    for text in texts:  # the entry points themselves: a definition nothing calls by name is still their code
        h.update(_code_only(text).encode())
    return h.hexdigest()


def code_parts(roots: Iterable[str], scripts: Iterable[Path] = ()) -> dict[str, object]:
    """What a cache key says of the code a step runs (`cachekeys`): its `code_key`, and the version of every
    installed distribution that code imports."""
    roots, scripts = list(roots), list(scripts)
    texts = [Path(s).read_text() for s in scripts]
    modules = closure(roots + sorted(imports_of_code(texts)))
    return {"code": code_key(roots, scripts), "versions": versions(third_party_imports(modules, texts))}


def literal(module: str, name: str):
    """The value of a module's top-level `name = <literal>`, read from its source (as the code hash reads it)."""
    for stmt in ast.parse(module_file(module).read_text()).body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
            return ast.literal_eval(stmt.value)
    raise KeyError(f"{module} assigns no literal {name}")


def reached_code_hash(modules: Iterable[str], roots: Iterable[str], by_value: Iterable[str] = ()) -> str:
    """Hash of the code that `roots` (pieces of code, e.g. a notebook's cells) can execute in these modules: every
    statement that runs when a module is imported, and every definition whose name the roots or reached code use
    (followed by name across modules, so never too little), without comments, docstrings or layout. A
    definition nothing reaches (a new record's path, a helper of the book) changes nothing. `by_value` names
    definitions ("module:NAME") whose values the caller hashes instead (a run's own profile settings and
    vocabulary entries), so that adding to them changes nothing either."""
    excluded = set(by_value)
    always: list[tuple[str, ast.stmt]] = []
    named: dict[str, list[tuple[str, ast.stmt]]] = {}
    for module in sorted(modules):
        where = module_file(module).relative_to(paths.PACKAGE).as_posix()
        top, defs = _definitions(_code_only(module_file(module).read_text(), dump=False))
        always += [(where, stmt) for stmt in top]
        for name, stmts in defs.items():
            if f"{module}:{name}" not in excluded:
                named.setdefault(name, []).extend((where, stmt) for stmt in stmts)
    used: set[str] = set()
    for text in roots:
        try:
            used |= _names_used(ast.parse(text))
        except SyntaxError:
            continue
    reached = list(always)
    for _, stmt in always:
        used |= _names_used(stmt)
    todo = [name for name in named if name in used]
    while todo:
        name = todo.pop()
        for where, stmt in named.pop(name, []):
            reached.append((where, stmt))
            todo += [n for n in _names_used(stmt) if n in named and n not in todo]
    h = hashlib.sha256()
    for where, dump in sorted((where, ast.dump(stmt)) for where, stmt in reached):
        h.update(where.encode())
        h.update(dump.encode())
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
