"""The command line as a whole: its families, --version, `python -m aecrypt`, exit statuses, logging, and the
old import paths that handed-out notebooks use."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import warnings
from importlib import metadata

import numpy as np
import pytest

from aecrypt import UsageError
from aecrypt.cli import main as cli


def _run(capsys, *args) -> tuple[int, str, str]:
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:  # argparse: --version, -h and its own usage errors
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_version_from_the_installed_metadata_both_ways(capsys):
    version = metadata.version("aecrypt")
    rc, out, _ = _run(capsys, "--version")
    assert rc == 0 and out.strip() == f"aecrypt {version}"
    done = subprocess.run([sys.executable, "-m", "aecrypt", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"aecrypt {version}"


def test_the_description_names_every_command_by_family_and_the_exit_statuses(capsys):
    rc, out, _ = _run(capsys, "-h")
    head = out.split("positional arguments")[0]
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert rc == 0 and len(commands) == 18
    for name in commands:
        assert f" {name}" in head or f": {name}" in head, name
    assert "2 a usage error" in head and "1 a failure at run time" in head


def test_every_command_takes_verbose_and_quiet():
    leaves = [p for p in cli._leaves(cli.build_parser()) if p.prog != "aecrypt"]
    assert len(leaves) == 20  # 18 commands, fetch counted once per source, archive once per verb
    for leaf in leaves:
        options = {o for a in leaf._actions for o in a.option_strings}
        assert {"-v", "--verbose", "-q", "--quiet"} <= options, leaf.prog


def test_usage_errors_exit_2_and_failures_at_run_time_exit_1(capsys, tmp_path):
    rc, _, err = _run(capsys, "sweep", "--profile", "nosuch")  # argparse's own
    assert rc == 2 and err.count("\n") == 1
    rc, _, err = _run(capsys, "sweep", "--profile", "tiny", "--seeds", "x", "--results", tmp_path)  # a UsageError
    assert rc == 2 and err.startswith("aecrypt: error: --seeds 'x'") and err.count("\n") == 1
    rc, _, err = _run(capsys, "fetch", "medmnist", "pneumoniamnist", "--to", tmp_path, "--mirror", "http://127.0.0.1:1")
    assert rc == 1 and "cannot reach 127.0.0.1:1" in err and err.count("\n") == 1  # the network failed at run time
    assert not any(tmp_path.iterdir())


def test_logging_is_set_per_logger_never_process_wide(capsys):
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    cli.configure_logging(verbose=0, quiet=True)
    assert logging.getLogger("aecrypt").level == logging.WARNING and not logging.getLogger("aecrypt").propagate
    assert logging.getLogger("papermill").level == logging.WARNING
    cli.configure_logging(verbose=1)
    assert logging.getLogger("aecrypt").level == logging.DEBUG
    assert (root.level, list(root.handlers)) == before and logging.root.manager.disable == 0
    logging.getLogger("aecrypt.runs.sweep").info("a progress line")
    logging.getLogger("aecrypt.link").warning("something to know")
    err = capsys.readouterr().err
    assert "a progress line\n" in err and "aecrypt: warning: something to know" in err


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("aecrypt.cipher", "aecrypt.paper.cipher", "PaperCipher"),
        ("aecrypt.statistics", "aecrypt.stats.intervals", "t_interval"),
    ],
)
def test_the_old_import_paths_of_handed_out_notebooks_work_and_warn(old, new, name):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert any(issubclass(w.category, FutureWarning) and new in str(w.message) for w in caught)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_the_reference_page_lists_every_command_with_every_option():
    from aecrypt.cli import reference

    leaves = [p for p in cli._leaves(cli.build_parser()) if p.prog != "aecrypt"]
    found = reference.commands()
    assert sorted(c.parser.prog for c in found) == sorted(p.prog for p in leaves)
    text = reference.markdown()
    for command in found:
        assert f"## `aecrypt {command.name}`" in text
        for action in command.parser._actions:
            for flag in action.option_strings:
                assert flag in ("-h", "--help", "-v", "--verbose", "-q", "--quiet") or f"`{flag}" in text, flag
    assert "`--archive ARCHIVE`" in text and "default `aes-gcm`" in text and "one of `tiny`, `default`" in text
    assert "\\<profile>" in text  # help text that looks like HTML is escaped, not swallowed


def test_a_command_whose_extra_is_missing_names_the_extra(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_jupyter_book(name, *args, **kwargs):
        if name.startswith("aecrypt.book.build"):
            raise ModuleNotFoundError("No module named 'jupyter_book'", name="jupyter_book")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_jupyter_book)
    rc, _, err = _run(capsys, "book", "--profile", "tiny")
    assert rc == 1 and err.count("\n") == 1
    assert "needs jupyter_book" in err and "pip install 'aecrypt[book]'" in err


@pytest.mark.parametrize("pixels", [20000, 10000])  # over twice Pillow's limit (an error), and over it (a warning)
def test_an_image_that_declares_too_many_pixels_is_a_one_line_error(capsys, tmp_path, pixels):
    from aecrypt.link import pngfiles
    from aecrypt.paper import cipher

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(pngfiles.png_header(pixels, pixels))
    assert _run(capsys, "keygen", "-o", tmp_path / "k.key")[0] == 0
    rc, _, err = _run(capsys, "encrypt", bomb, "--key", tmp_path / "k.key", "--payload", "png", "-o", tmp_path / "out")
    assert rc == 2 and err.count("\n") == 1 and "cannot read image" in err and "decompression bomb" in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(UsageError, match="cannot be read as an image.*decompression bomb"):
        cipher.key_from_image(bomb, 4, 4)


@pytest.mark.parametrize("size", ["-5", "0", "x", "100000"])
def test_a_png_side_outside_its_range_is_refused_not_replaced(capsys, tmp_path, size):
    assert _run(capsys, "keygen", "-o", tmp_path / "k.key")[0] == 0
    image = tmp_path / "a.png"
    from aecrypt.link import pngfiles

    image.write_bytes(pngfiles.png_bytes(np.zeros((8, 8), np.float32)))
    rc, _, err = _run(capsys, "encrypt", image, "--key", tmp_path / "k.key", "--payload", "png", "--size", size)
    assert rc == 2 and "is not a side in pixels from 8 to 4096" in err, err


def test_a_broker_address_that_cannot_be_parsed_is_a_usage_error():
    from aecrypt.link import addresses

    for url in ("mqtt://[::1", "mqtt://", "http://127.0.0.1:1883"):
        with pytest.raises(UsageError, match="give mqtt://HOST:PORT"):
            addresses.parse_broker(url)
    assert addresses.parse_broker("mqtt://[::1]:1884").port == 1884
