"""The built book's internal links: every `href` and `src` that points inside the site must name a file the
build wrote, and every `#anchor` an element id of that page. Sphinx's own `-n` catches broken cross-references
in the sources; this checks what a reader clicks, offline (Sphinx's linkcheck builder goes to the network for
external links and does not open local ones), so the publishing workflow runs it before it deploys.

    python -m aecrypt.book.links _build/html
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Pages Sphinx writes whose links are generated for every page alike (their targets are checked there).
SKIPPED = ("genindex.html", "search.html", "_static/", "_sources/", "_images/")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            elif name in ("href", "src") and value and not (tag == "a" and name == "src"):
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(errors="replace"))
    return page


@dataclass
class LinkReport:
    pages: int = 0
    links: int = 0
    broken: list[str] = field(default_factory=list)


def check(html: Path) -> LinkReport:
    """Every internal link of every page under `html` (a built book's _build/html)."""
    html = Path(html).resolve()
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html}: no index.html (give a built book's _build/html)")
    cache: dict[Path, _Page] = {}
    report = LinkReport()
    for page_path in sorted(html.rglob("*.html")):
        relative = page_path.relative_to(html).as_posix()
        if relative.startswith(SKIPPED):
            continue
        page = cache.setdefault(page_path, _parse(page_path))
        report.pages += 1
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue  # outside the site
            report.links += 1
            target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(html) or not target.is_file():
                report.broken.append(f"{relative}: {link} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = cache.setdefault(target, _parse(target)).ids
                if parts.fragment not in ids and unquote(parts.fragment) not in ids:  # browsers try both
                    report.broken.append(f"{relative}: {link} (no element with id {parts.fragment!r})")
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m aecrypt.book.links BUILT_HTML_FOLDER", file=sys.stderr)
        return 2
    try:
        report = check(Path(args[0]))
    except FileNotFoundError as exc:
        print(f"aecrypt: error: {exc}", file=sys.stderr)
        return 2
    for line in report.broken:
        print(f"broken link: {line}", file=sys.stderr)
    verdict = f"{len(report.broken)} broken" if report.broken else "all resolve"
    print(f"{report.links} internal links on {report.pages} pages: {verdict}")
    return 1 if report.broken else 0


if __name__ == "__main__":
    sys.exit(main())
