"""Coursework: exercises in the book, the student edition (no solution leaks, checked against a marker
planted in every solution), and otter-graded assignments scored both ways."""

from __future__ import annotations

import copy
import json
import re

import pytest

from aecrypt import AecryptError, paths
from aecrypt.book import editions
from aecrypt.cli import main as cli
from aecrypt.coursework import assignments

REQUIRED = {
    "ex-latent-size",
    "ex-new-combination",
    "ex-known-plaintext",
    "ex-two-combinations",
    "ex-own-xrays",
    "ex-compression-rate",
}


def _solutions(text: str) -> list[str]:
    """The bodies of a page's {solution} blocks (the parts the student edition must lose)."""
    kept, _ = editions.strip_solutions(text)
    removed = []
    for block in re.split(r"^(`{3,}|:{3,})\{solution", text, flags=re.M)[2::2]:
        removed.append(block)
    assert len(removed) == text.count("{solution}"), "every solution block is found"
    assert "{solution}" not in kept
    return removed


def test_strip_solutions_handles_both_fences_nested_code_and_reports_unclosed_blocks():
    page = (
        "intro\n"
        "```{exercise} One\n:label: one\nDo it.\n```\n"
        "````{solution} one\n:class: dropdown\nWorked solution: x\n```python\nprint(1)\n```\nstill inside\n````\n"
        "between\n"
        ":::{solution} one\nhidden\n:::\n"
        "end\n"
    )
    kept, n = editions.strip_solutions(page)
    assert n == 2 and kept == "intro\n```{exercise} One\n:label: one\nDo it.\n```\nbetween\nend\n"
    with pytest.raises(AecryptError, match="opened with ```` on line 1 is never closed"):
        editions.strip_solutions("````{solution} one\n```\ntext\n```\n")


def test_five_chapters_have_exercises_each_with_a_marked_solution():
    table = editions.exercises()
    assert table["page"].nunique() >= 5 and REQUIRED <= set(table["label"])
    assert {"reading", "doing"} <= set(table["kind"])
    for page in sorted(paths.BOOK.glob("*.md")):
        text = page.read_text()
        labels = re.findall(r"^:label: (\S+)", text, flags=re.M)
        solved = re.findall(r"^`{3,}\{solution\} (\S+)", text, flags=re.M)
        assert sorted(labels) == sorted(solved), f"{page.name}: every exercise has exactly one solution"
        for body in _solutions(text):
            assert editions.SOLUTION_MARKER in body, f"{page.name}: a solution without the marker"
            assert ":class: dropdown" in body.split("\n", 3)[1], f"{page.name}: solutions are collapsed"
        if page.name != "instructors.md":
            outside = editions.strip_solutions(text)[0]
            assert editions.SOLUTION_MARKER not in outside, f"{page.name}: the marker outside a solution"


def _files_with(folder, marker: str) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and marker.encode() in p.read_bytes()
    )


def test_the_student_edition_has_the_exercises_and_no_solution_anywhere(embedded_student_book):
    """(That the marker is in the instructor edition, so that this check is not vacuous: test_book.)"""
    _, student_book = embedded_student_book
    assert _files_with(student_book, editions.SOLUTION_MARKER) == []  # HTML, search index, _sources, notebooks
    premise = (student_book / "book" / "premise.html").read_text()
    assert "Recover the key from one known pair" in premise and "Exercise" in premise
    compression = (student_book / "book" / "compression.html").read_text()
    assert "A codec at the bottleneck" in compression and "1.0625" not in compression  # exercise kept, answer gone
    assert "student edition" in (student_book / "book" / "intro.html").read_text()


@pytest.fixture(scope="session")
def assigned(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    return out, assignments.assign(out)


def _answer(notebook: dict, answers: dict[str, str], extra: str | None = None) -> dict:
    """A submission: the student notebook with some functions' bodies filled in, and maybe one more cell."""
    nb = copy.deepcopy(notebook)
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        for head, body in answers.items():
            if cell["cell_type"] == "code" and source.startswith(head):
                cell["source"] = f"{head}\n{body}"
    if extra:
        nb["cells"].insert(
            3, {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": extra}
        )
    return nb


def test_student_notebooks_hold_no_solution_and_no_hidden_test(assigned):
    out, zips = assigned
    assert set(zips) == {"autoencoder", "cipher", "classifier"}
    for name in zips:
        student = out / name / "student"
        text = (student / f"{name}.ipynb").read_text() + "".join(p.read_text() for p in student.glob("tests/*.py"))
        assert "BEGIN SOLUTION" not in text and "'hidden': True" not in text and "grader.check" in text
        assert editions.SOLUTION_MARKER not in text
    assert "(z + K[:, :, None]) ** 2" not in (out / "cipher" / "student" / "cipher.ipynb").read_text()


def test_grading_full_blank_partial_crashing_endless_and_public_only_submissions(assigned, tmp_path, capsys):
    out, zips = assigned
    subs = tmp_path / "submissions"
    for name in zips:
        student = json.loads((out / name / "student" / f"{name}.ipynb").read_text())
        full = json.loads((out / name / "autograder" / f"{name}.ipynb").read_text())
        for who, nb in (("full", full), ("blank", student)):
            (subs / who).mkdir(parents=True, exist_ok=True)
            (subs / who / f"{name}.ipynb").write_text(json.dumps(nb))
    student = json.loads((out / "cipher" / "student" / "cipher.ipynb").read_text())
    encrypt = {"def encrypt(z, K):": "    return (z + K[:, :, None]) ** 2"}
    public_only = encrypt | {
        "def recover_key(z, E):": "    return K  # the global key: right for the public checks only",
        "def decrypt(E, K):": "    return np.sqrt(E) - K[:, :, None]",
    }
    for who, nb in (
        ("partial", _answer(student, encrypt)),
        ("crashing", _answer(student, encrypt, extra="raise RuntimeError('my code is broken')")),
        ("public-only", _answer(student, public_only)),
    ):
        (subs / who).mkdir()
        (subs / who / "cipher.ipynb").write_text(json.dumps(nb))
    (subs / "stray.ipynb").write_text(json.dumps(student | {"metadata": {}}))  # not a known assignment

    assert cli.main(["grade", str(subs), "--out", str(out)]) == 0
    assert "grades:" in capsys.readouterr().out
    table = assignments.pd.read_csv(out / "grades.csv").set_index("submission")
    for name in zips:
        assert table.loc[f"full/{name}", "percent"] == 100.0, name  # the reference solutions
        blank = table.loc[f"blank/{name}"]
        assert blank["status"] == "graded" and blank["score"] == 0.0, name  # every task needs work
    assert table.loc["partial/cipher", "score"] == 2.0 and table.loc["partial/cipher", "cipher:q1"] == 2.0
    assert table.loc["crashing/cipher", "status"] == "graded" and table.loc["crashing/cipher", "score"] == 2.0
    public = table.loc["public-only/cipher"]
    assert 0 < public["score"] < public["possible"]  # every public check passes, a hidden one does not
    assert (
        table.loc["stray", "status"] == "error"
        and "not a submission of a known assignment" in table.loc["stray", "message"]
    )

    endless = tmp_path / "endless"
    endless.mkdir()
    (endless / "cipher.ipynb").write_text(json.dumps(_answer(student, encrypt, extra="while True:\n    pass")))
    row = assignments.grade(endless, out, timeout_s=3).iloc[0]
    assert row["status"] == "timeout" and row["score"] == 0 and "stopped after 3 s" in row["message"]


def test_grading_bad_input_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "nothing")]) == 2
    assert "is not a folder of submitted notebooks" in capsys.readouterr().err
    with pytest.raises(AecryptError, match="timeout must be a whole number of seconds ≥ 1"):
        assignments.grade(tmp_path, timeout_s=0)
    with pytest.raises(AecryptError, match="no .ipynb files under"):
        assignments.grade(tmp_path)
