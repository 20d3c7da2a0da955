"""Feedback for learners: short "not started" lines, a per-topic summary, hints."""

from grimoire.student_plugin import *  # noqa: F401,F403
