"""The mistake catalog: realistic wrong implementations, and correct-but-different ones.

One module per topic, named after the topic's module (``catalog/parameter_counting.py``), with

- ``MISTAKES``: :class:`Mistake` entries. ``code`` redefines one or more functions/classes; it
  is appended to the reference solution, so everything else stays correct. ``kills`` names the
  hidden checks it must fail (each must lose its points, with every seed); ``concept`` is a
  word or phrase naming the real cause, which every one of those checks' messages must hold
  (case-insensitive); ``visible`` says whether a visible test catches it too.
- ``VARIANTS``: :class:`Variant` entries, correct implementations written differently, which
  must earn every point and pass every visible test.

Every hidden check must be killed by at least one mistake: a check nothing can fail is a defect.
A mistake that hands the work to Keras (``Dense(...).count_params()``, a wrapped ``F1Score``,
an inherited ``train_step``) kills every check of its task: the checks file's ``OWN_WORK``
says what the learner writes themselves, and the grader enforces it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mistake:
    name: str
    code: str
    kills: tuple[str, ...]
    visible: bool = True
    concept: str = ""
    delegates: bool = False  # hands a task to Keras: must lose every check of that task


@dataclass(frozen=True)
class Variant:
    name: str
    code: str
    notes: str = field(default="")


def load(module: str):
    """(MISTAKES, VARIANTS) of a topic; a topic without a catalog is an error."""
    catalog = importlib.import_module(f"tests.catalog.{module}")
    return list(catalog.MISTAKES), list(getattr(catalog, "VARIANTS", []))
