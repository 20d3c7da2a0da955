"""What the declared dependencies cost every process that starts (see pyproject.toml)."""

from __future__ import annotations

import sys


def test_reading_a_notebook_builds_no_iri_parsers():
    """jsonschema 4.25+ imports rfc3987-syntax, which builds about thirty Earley parsers (2.5 s)
    whenever nbformat is imported: in every nbgrader command and every grade-cohort worker."""
    import jsonschema._format  # noqa: F401  (the module that would import it)
    import nbformat  # noqa: F401

    assert "rfc3987_syntax" not in sys.modules, (
        "jsonschema imported rfc3987_syntax: keep jsonschema below 4.25 in pyproject.toml")
