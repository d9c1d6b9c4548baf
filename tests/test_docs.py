"""The public functions of the documented modules say what they take and give, as scikit-image documents its
metrics (Parameters, Returns, a short example), and every example runs and prints what it says: every module of
paper/, data/ and stats/, and figures/runstrip (what a run notebook draws, documented as the rest of a run)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

#: The packages whose public functions are documented: every module of theirs, a new one from the start.
PACKAGES = ("aecrypt.paper", "aecrypt.data", "aecrypt.stats")
DOCUMENTED = [
    f"{package}.{m.name}"
    for package in PACKAGES
    for m in pkgutil.iter_modules(importlib.import_module(package).__path__)
] + ["aecrypt.figures.runstrip"]


def _public_functions(module):
    return [
        (name, f)
        for name, f in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and f.__module__ == module.__name__
    ]


#: Other modules whose docstrings carry examples: they run too.
WITH_EXAMPLES = ["aecrypt.budget", "aecrypt.cachekeys", "aecrypt.runs.sizing", "aecrypt.link.packets"]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_public_function_says_what_it_takes_and_gives_with_an_example(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(recurse=False)
    for fname, f in _public_functions(module):
        doc = inspect.getdoc(f) or ""
        for section in ("Parameters", "Returns", "Examples"):
            assert f"{section}\n----" in doc, f"{name}.{fname}: no {section} section"
        assert any(t.examples for t in finder.find(f, fname, module)), f"{name}.{fname}: its example runs nothing"


@pytest.mark.parametrize("name", DOCUMENTED + WITH_EXAMPLES)
def test_the_examples_run_and_print_what_they_say(name):
    module = importlib.import_module(name)
    failed, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= (len(_public_functions(module)) if name in DOCUMENTED else 1) and failed == 0
