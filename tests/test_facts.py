"""The prose restates no fact of the code by hand, wrongly: wherever the README or a book page's text (code cells,
code blocks and glue left out) gives a profile's seeds, image size, epochs, batch, split, step budget or run
count, it is the code's value (`aecrypt.profiles`, `aecrypt.budget`, the grids). Pages quote such facts through
glue; this test catches a number typed in that the code no longer holds. Each pattern below is what such a
statement looks like in this project's prose ("3 at `default`", "`paper`'s 200²", "9,150 optimizer steps")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aecrypt import budget, paths
from aecrypt.profiles import PROFILES, get_profile
from aecrypt.runs.grids import load_grid

PROFILE = r"`(" + "|".join(PROFILES) + r")`"
#: A profile named in a command: `make book PROFILE=real`.
COMMAND = r"PROFILE=(" + "|".join(PROFILES) + r")\b"
WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
NUM = r"(\d[\d,]*|" + "|".join(WORDS) + r")"


def _num(text: str) -> int:
    return WORDS.index(text) + 1 if text in WORDS else int(text.replace(",", ""))


def _units(path: Path) -> list[str]:
    """The prose of a README or MyST page, in units a fact is stated in: sentences and table rows."""
    text = path.read_text()
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # front matter
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", text, flags=re.S | re.M)  # code cells and code blocks
    text = re.sub(r"\{glue:\w+\}`[^`]*`", "", text)  # glued values come from the code
    units = []
    for block in re.split(r"\n\s*\n", text):
        for part in block.splitlines() if block.lstrip().startswith("|") else [block]:  # a table: its rows
            units += re.split(r"(?<=[.;])\s+(?=[A-Z*(`])", " ".join(part.split()))
    return [u for u in units if u]


def _runs(profile: str) -> int:
    """Runs a build of `profile` makes on its own grid: every combination at every seed, a baseline and a
    reference run per seed."""
    p = get_profile(profile)
    return (len(load_grid(paths.GRIDS / p.default_grid).combinations) + 2) * p.seeds


def _splits() -> set[tuple[int, int]]:
    return {(p.n_train, p.n_val) for p in PROFILES.values() if p.n_train is not None}


def _check(unit: str) -> list[str]:
    """What `unit` states against the code: one line per disagreement."""
    wrong = []

    def expect(stated: str, profile: str, valid: set[int], what: str) -> None:
        if profile in PROFILES and _num(stated) not in valid:
            wrong.append(f"{what} of `{profile}`: the text says {stated}, the code {sorted(valid)} — in: {unit[:160]}")

    fields = {  # the word that says what a bare "N at `profile`" counts
        "seed": lambda p: {p.seeds},
        "epoch": lambda p: {p.ae_epochs, p.clf_epochs},
        "batch": lambda p: {p.batch_size},
    }
    for word, valid in fields.items():
        if word not in unit.lower():
            continue
        for m in re.finditer(r"\b" + NUM + r" (?:at|for|by) ((?:`\w+`(?:\s*(?:,|and|or)\s*)?)+)", unit):
            for name in re.findall(r"`(\w+)`", m.group(2)):
                if name in PROFILES and _near(unit, m.start(), word):
                    expect(m.group(1), name, valid(get_profile(name)), word + "s")
    for m in re.finditer(f"(?:{PROFILE}|{COMMAND})" + r"[^.;]{0,60}?\b" + NUM + r" (?:training )?seeds", unit):
        name = m.group(1) or m.group(2)
        expect(m.group(3), name, {get_profile(name).seeds}, "seeds")
    for m in re.finditer(PROFILE + r"(?:(?:'s| profile's)\s+(?:\w+\s+){0,2}?| (?:runs |is )?at )(\d+)²", unit):
        expect(m.group(2), m.group(1), {get_profile(m.group(1)).size}, "image size")
    for m in re.finditer(r"\b(\d+)² (?:by|at) " + PROFILE, unit):
        expect(m.group(1), m.group(2), {get_profile(m.group(2)).size}, "image size")
    for m in re.finditer(r"\b(\d+) epochs (?:at|for) " + PROFILE, unit):
        p = get_profile(m.group(2))
        expect(m.group(1), m.group(2), {p.ae_epochs, p.clf_epochs}, "epochs")
    for m in re.finditer(r"\b(\d+) runs\b", unit):
        for name in re.findall(PROFILE, unit[max(0, m.start() - 80) : m.end() + 80]):
            expect(m.group(1), name, {_runs(name)}, "runs")
    for m in re.finditer(r"\b(\d+) training and (\d+) validation images", unit):
        if (int(m.group(1)), int(m.group(2))) not in _splits():
            wrong.append(f"split: the text says {m.group(1)} / {m.group(2)}, the code {sorted(_splits())}")
    for m in re.finditer(r"\b(\d{1,3}(?:,\d{3})+|\d{4,}) (?:optimizer )?steps", unit):
        stated = int(m.group(1).replace(",", ""))
        if "paper" in unit and stated not in (budget.PAPER_STEPS, budget.PAPER_STEPS_UPPER):
            wrong.append(f"the paper's step budget: the text says {m.group(1)}, the code {budget.PAPER_STEPS:,}")
    return wrong


def _near(unit: str, at: int, word: str, reach: int = 60) -> bool:
    return word in unit[max(0, at - reach) : at + reach].lower()


SOURCES = [paths.ROOT / "README.md", *sorted(paths.BOOK.glob("*.md"))]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_the_prose_states_the_codes_facts(source):
    wrong = [line for unit in _units(source) for line in _check(unit)]
    assert not wrong, f"{source.name}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "sentence, complaint",
    [
        ("Every combination runs at each seed (3 at `default` and `real`, 1 at `tiny`, 5 at `paper`).", "seeds"),
        ("`make book PROFILE=real` runs the paper's whole grid at three training seeds.", "seeds"),
        ("Three seeds at `default`, three at `real`.", "seeds"),
        ("The `paper` profile's 180² images.", "image size"),
        ("`tiny` runs at 64².", "image size"),
        ("Images run at 32² by `real`.", "image size"),
        ("The classifier trains 20 epochs (3 at `tiny`).", "epochs"),
        ("Batch 32 (8 at `tiny`).", "batchs"),
        ("The `default` build makes 60 runs.", "runs"),
        ("Exactly 190 training and 48 validation images.", "split"),
        ("The paper's budget is 9,000 optimizer steps.", "step budget"),
    ],
)
def test_a_wrong_fact_is_caught(sentence, complaint):
    found = _check(sentence)
    assert found and complaint in found[0], found


def test_the_codes_own_facts_pass():
    p, d = get_profile("paper"), get_profile("default")
    right = (
        f"Every combination runs at each seed ({d.seeds} at `default`, {p.seeds} at `paper`). The `paper` profile's "
        f"{p.size}² images; {d.n_train} training and {d.n_val} validation images; the `default` build makes "
        f"{_runs('default')} runs; the paper's {budget.PAPER_STEPS:,} optimizer steps."
    )
    assert [line for unit in re.split(r"(?<=[.;])\s+", right) for line in _check(unit)] == []


def test_the_readme_is_a_front_door_that_measures_nothing():
    """At most 12 KB: what and why, the two commands, where each reader starts, the layout, citing, attribution.
    No timing and no verdict: what a build measures lives in the book, which the README links where the
    repository publishes it."""
    import yaml

    readme = (paths.ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 12 * 1024
    prose = " ".join(_units(paths.ROOT / "README.md"))
    assert not re.search(r"\b\d+(?:\.\d+)? ?(?:s|min|minutes|seconds|hours)\b", prose), "a timing in the README"
    assert not re.search(r"\*(?:not )?reproduced\*|\binconclusive\b", prose), "a verdict in the README"
    owner, name = yaml.safe_load((paths.ROOT / "_config.yml").read_text())["repository"]["url"].split("/")[-2:]
    book = f"https://{owner}.github.io/{name}/"
    assert book in readme
    for page in re.findall(re.escape(book) + r"book/(\w+)\.html", readme):
        assert (paths.BOOK / f"{page}.md").is_file(), page
