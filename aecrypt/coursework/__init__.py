"""Coursework: the autograded assignments (otter-grader), generated from master notebooks and graded without
Docker (`assignments`).

A docstring only, like every subpackage's __init__."""
