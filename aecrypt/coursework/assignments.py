"""Autograded assignments with otter-grader: master notebooks (solutions and tests, in otter's format) in
notebooks/assignments/ → `otter assign` → a student notebook with public checks and an autograder zip that
also holds the hidden tests → `otter run` grades a submission on this machine, without Docker.

`make assignments` writes _build/assignments/<name>/{student,autograder}/; `make grade SUBMISSIONS=DIR` grades
every notebook under DIR into _build/assignments/grades.csv. A submission that raises is graded on what
ran; one that never finishes is stopped after a timeout and scored 0; neither stops the batch."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from aecrypt import AecryptError, UsageError, paths

log = logging.getLogger(__name__)

MASTERS = paths.NOTEBOOKS / "assignments"
BUILD = paths.ROOT / "_build" / "assignments"
#: Seconds one submission may take to run and be graded (a notebook that loops forever is stopped).
GRADE_TIMEOUT_S = 120


def _otter() -> list[str]:
    return [sys.executable, "-m", "otter"]


def masters() -> dict[str, Path]:
    """The master notebooks by assignment name (the file stem, which is also otter's assignment name)."""
    found = {p.stem: p for p in sorted(MASTERS.glob("*.ipynb"))}
    if not found:
        raise AecryptError(f"no master notebooks in {MASTERS}")
    return found


def assign(out: Path = BUILD) -> dict[str, Path]:
    """Run `otter assign` on every master: student notebooks and an autograder zip per assignment (the
    reference solutions are checked against their own tests on the way). Returns the autograder zips."""

    def one(name: str, master: Path) -> Path:
        target = out / name
        for old in target.glob("autograder/*.zip"):  # one zip per assignment, the newest
            old.unlink()
        done = subprocess.run(
            [*_otter(), "assign", "--no-pdfs", str(master), str(target)], capture_output=True, text=True
        )
        found = sorted(target.glob("autograder/*.zip"))
        if done.returncode != 0 or not found:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            why = next((line for line in lines if line.startswith(("RuntimeError", "ValueError", "Error"))), lines[-1])
            raise AecryptError(
                f"otter assign failed on {master.name}: {why.strip()} (run `otter assign` on it to see all)"
            )
        return found[-1]

    with ThreadPoolExecutor(_workers()) as pool:  # each assignment is its own otter process
        futures = {name: pool.submit(one, name, master) for name, master in masters().items()}
        return {name: future.result() for name, future in futures.items()}


def _workers() -> int:
    return max(1, os.cpu_count() or 1)


def questions(master: Path) -> list[dict]:
    """The questions of a master notebook as otter reads them (name, points), with the first line of the
    prompt that follows each, for the instructors' page."""
    cells = json.loads(master.read_text())["cells"]
    found = []
    for i, cell in enumerate(cells):
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            config = dict(line.split(":", 1) for line in text.splitlines()[1:] if ":" in line)
            prompt = next((c for c in cells[i + 1 :] if c["cell_type"] == "markdown"), {"source": [""]})
            first = re.sub(r"^\*\*Question \d+[^*]*\*\*\s*", "", " ".join("".join(prompt["source"]).split()))
            found.append(
                {"question": config["name"].strip(), "points": float(config.get("points", 1)), "prompt": first}
            )
    return found


def assignment_table(html: bool = False) -> pd.DataFrame:
    """Each assignment's questions and points, read from the master notebooks; with `html`, the prompts'
    inline code and emphasis as HTML (for a page)."""
    import html as html_lib

    def shown(text: str) -> str:
        if not html:
            return text
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html_lib.escape(text, quote=False))
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)

    rows = []
    for name, master in masters().items():
        for q in questions(master):
            rows.append(
                {"assignment": name, "question": q["question"], "points": q["points"], "asks": shown(q["prompt"])}
            )
    return pd.DataFrame(rows)


def autograders(out: Path = BUILD) -> dict[str, Path]:
    """The autograder zip of every assignment, generating them if any is missing."""
    zips = {name: sorted((out / name).glob("autograder/*.zip")) for name in masters()}
    if all(zips.values()):
        return {name: found[-1] for name, found in zips.items()}
    return assign(out)


def assignment_of(notebook: Path, known: dict[str, Path]) -> str:
    """Which assignment a submission answers: otter's notebook metadata, else the file name."""
    try:
        meta = json.loads(notebook.read_text()).get("metadata", {})
    except (OSError, ValueError):
        meta = {}
    name = meta.get("otter", {}).get("assignment_name") or notebook.stem
    if name not in known:
        raise AecryptError(f"{notebook}: not a submission of a known assignment ({', '.join(known)})")
    return name


@dataclass
class Grade:
    submission: str
    assignment: str
    status: str  # graded | timeout | error
    score: float
    possible: float
    questions: dict[str, float]
    message: str = ""


def grade_one(notebook: Path, autograder: Path, timeout_s: int = GRADE_TIMEOUT_S) -> tuple[str, dict, str]:
    """(status, {question: (score, possible)}, message) for one submission, run by `otter run` in its own
    process group so a timeout stops the notebook's kernel too."""
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.Popen(
            [*_otter(), "run", "--no-logo", "-a", str(autograder), "-o", out, str(notebook)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            log, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "timeout", {}, f"stopped after {timeout_s} s"
        results = Path(out) / "results.json"
        if not results.is_file():
            return "error", {}, (log.strip().splitlines() or ["otter wrote no results"])[-1][:200]
        tests = json.loads(results.read_text())["tests"]
    scores = {t["name"]: (float(t["score"]), float(t["max_score"])) for t in tests if t.get("max_score") is not None}
    return "graded", scores, ""


def grade(submissions: Path, out: Path = BUILD, timeout_s: int = GRADE_TIMEOUT_S) -> pd.DataFrame:
    """Grade every .ipynb under `submissions` (named by its path there) into out/grades.csv."""
    submissions = Path(submissions)
    if not isinstance(timeout_s, int) or timeout_s < 1:
        raise UsageError(f"the timeout must be a whole number of seconds ≥ 1, got {timeout_s!r}")
    if not submissions.is_dir():
        raise UsageError(f"SUBMISSIONS={submissions} is not a folder of submitted notebooks")
    notebooks = sorted(p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise UsageError(f"no .ipynb files under {submissions}")
    zips = autograders(out)
    possible = {name: _possible(zips[name]) for name in zips}

    def one(nb: Path) -> Grade:
        who = nb.relative_to(submissions).with_suffix("").as_posix()
        try:
            name = assignment_of(nb, zips)
        except AecryptError as exc:
            return Grade(who, "", "error", 0.0, 0.0, {}, str(exc))
        status, scores, message = grade_one(nb, zips[name], timeout_s)
        questions = {q: scores.get(q, (0.0, p))[0] for q, p in possible[name].items()}
        total = sum(possible[name].values())
        log.info(f"{who}: {name} {status} {sum(questions.values()):g} / {total:g}")
        return Grade(who, name, status, sum(questions.values()), total, questions, message)

    with ThreadPoolExecutor(_workers()) as pool:  # submissions are independent otter processes
        rows = list(pool.map(one, notebooks))
    table = pd.DataFrame(
        [
            {"submission": g.submission, "assignment": g.assignment, "status": g.status, "score": g.score}
            | {"possible": g.possible, "percent": round(100 * g.score / g.possible, 1) if g.possible else 0.0}
            | {f"{g.assignment}:{q}": s for q, s in g.questions.items()}
            | {"message": g.message}
            for g in rows
        ]
    )
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "grades.csv", index=False)
    return table


def _possible(autograder: Path) -> dict[str, float]:
    """Points per question, read from the autograder's test files (so a question a crashed submission never
    reached still counts as 0 of its points)."""
    import ast
    import zipfile

    points = {}
    with zipfile.ZipFile(autograder) as z:
        for name in sorted(z.namelist()):
            if name.startswith("tests/") and name.endswith(".py"):  # otter's OK format: `test = {...}`, a literal
                tree = ast.parse(z.read(name).decode())
                test = next(
                    ast.literal_eval(node.value)
                    for node in tree.body
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "test"
                )
                points[test["name"]] = float(test["points"])
    return points
