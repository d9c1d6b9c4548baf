"""The book's two editions from one source: the instructor edition (every page as written, solutions
collapsed) and the student edition, built from a copy of the pages with every `{solution}` block removed
from the source. Removing them from the source, not hiding them, keeps them out of everything Sphinx writes:
the HTML, the search index, `_sources` and the downloadable pages. sphinx-exercise's `hide_solutions` is
set as well, so a solution written in a form the stripper missed still fails the leak test, never ships."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from aecrypt import AecryptError, UsageError, paths

EDITIONS = ("instructor", "student")
#: Planted in the visible text of every solution: present in the instructor build, absent from the student one.
SOLUTION_MARKER = "Worked solution:"
_OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution(?:-start)?\}")


def strip_solutions(text: str) -> tuple[str, int]:
    """The page without its `{solution}` blocks (backtick or colon fences; a block ends at a bare fence of the
    same character at least as long as its opening), and how many were removed."""
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    removed, i = 0, 0
    while i < len(lines):
        match = _OPENING.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        fence = match["fence"]
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise AecryptError(f"a {{solution}} block opened with {fence} on line {i + 1} is never closed")
        removed += 1
        i = end + 1
    return "".join(out), removed


_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}\s*(?P<title>.*)$")


def toc_pages() -> list[str]:
    """The book's pages in reading order, as `_toc.yml` names them (root first, then each part's chapters)."""
    toc = yaml.safe_load((paths.BOOK / "_toc.yml").read_text())
    parts = toc.get("parts", [{"chapters": toc.get("chapters", [])}])
    return [toc["root"]] + [c["file"] for part in parts for c in part["chapters"]]


def exercises() -> pd.DataFrame:
    """Every exercise in the book: its page, label, title, and kind (the *Reading.* or *Doing.* it opens with)."""
    rows = []
    for entry in toc_pages()[1:]:
        lines = (paths.ROOT / f"{entry}.md").read_text().splitlines()
        for i, line in enumerate(lines):
            if match := _EXERCISE.match(line):
                label = next((x.split(":", 2)[2].strip() for x in lines[i + 1 : i + 4] if x.startswith(":label:")), "")
                body = " ".join(x for x in lines[i + 1 : i + 8] if x and not x.startswith(":"))
                kind = "doing" if body.lstrip().startswith("*Doing.*") else "reading"
                rows.append({"page": Path(entry).name, "label": label, "exercise": match["title"], "kind": kind})
    return pd.DataFrame(rows)


def student_source(build_dir: Path) -> tuple[Path, Path, int]:
    """Write the student edition's source under `build_dir`: the pages with their solutions removed and a
    configuration that also hides solutions. Returns (config, toc, number of solutions removed)."""
    src = build_dir / "student-source"
    if src.exists():
        shutil.rmtree(src)
    book = src / paths.BOOK.name
    book.mkdir(parents=True)
    total = 0
    for page in sorted(paths.BOOK.iterdir()):
        if page.suffix == ".md":
            text, n = strip_solutions(page.read_text())
            (book / page.name).write_text(text)
            total += n
        elif page.is_file():
            shutil.copy2(page, book / page.name)
    config = yaml.safe_load((paths.ROOT / "_config.yml").read_text())
    config["title"] = f"{config['title']} — student edition"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return src / "_config.yml", book / "_toc.yml", total


def check_edition(edition: str) -> str:
    if edition not in EDITIONS:
        raise UsageError(f"unknown edition {edition!r}; valid: {', '.join(EDITIONS)}")
    return edition
