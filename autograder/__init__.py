"""TF Grimoire's autograder: hidden checks, a sandbox for submissions, points.

Public face: ``autograder grade DIR --json FILE`` (or ``python -m autograder grade ...``), and
:func:`autograder.engine.grade` for code.
"""
