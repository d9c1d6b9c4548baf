"""`aecrypt assignments | grade`: the otter-grader assignments, generated and graded without Docker."""

from __future__ import annotations

from pathlib import Path

SUMMARY = "coursework: assignments, grade"


def cmd_assignments(args) -> int:
    from aecrypt.coursework.assignments import BUILD, assign

    for name, zip_path in assign(Path(args.out) if args.out else BUILD).items():
        print(f"{name}: student notebook in {zip_path.parent.parent / 'student'}, autograder {zip_path}")
    return 0


def cmd_grade(args) -> int:
    from aecrypt.coursework.assignments import BUILD, grade

    out = Path(args.out) if args.out else BUILD
    table = grade(Path(args.submissions), out, args.timeout)
    print(table.drop(columns=["message"]).to_string(index=False))
    print(f"grades: {out / 'grades.csv'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("assignments", help="student notebooks and autograders from notebooks/assignments (otter)")
    p.add_argument("--out", help="output folder (default: _build/assignments)")
    p.set_defaults(func=cmd_assignments)

    p = sub.add_parser("grade", help="grade a folder of submitted assignment notebooks into a CSV of scores")
    p.add_argument("submissions", help="folder of .ipynb submissions (any depth; the path names the student)")
    p.add_argument("--out", help="where the autograders are and grades.csv goes (default: _build/assignments)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per submission before it is stopped (120)")
    p.set_defaults(func=cmd_grade)
