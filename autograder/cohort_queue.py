"""Which submission a free Dask worker grades next: one assignment per worker at a time.

A worker remembers Keras' answers to its checks (:mod:`autograder.oracle`), and every
submission of a run is graded with one seed, so the first submission of an assignment a worker
grades pays for the oracles and the next ones of the same assignment mostly do not. Handed out
in plain order, two workers would take turns on the same assignment and both pay. Here each
worker keeps to the assignment it has while that has submissions left, then moves to the
assignment with the most left that no other worker holds (or, when every one is held, the one
with the most left): each assignment's oracles are computed about once in the whole cluster.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Callable, Generic, Hashable, Iterable, TypeVar

Job = TypeVar("Job")


class AssignmentQueue(Generic[Job]):
    """The submissions still to hand out, by assignment, in their original order within each."""

    def __init__(self, jobs: Iterable[Job], assignment_of: Callable[[Job], Hashable]):
        self._left: OrderedDict[Hashable, deque] = OrderedDict()
        for job in jobs:
            self._left.setdefault(assignment_of(job), deque()).append(job)
        self._held: dict[str, Hashable] = {}  # worker -> the assignment it last took

    def __len__(self) -> int:
        return sum(len(jobs) for jobs in self._left.values())

    def __bool__(self) -> bool:
        return bool(self._left)

    def take(self, worker: str | None = None) -> Job:
        """The next submission for ``worker`` (None: any worker, the plain order)."""
        if not self._left:
            raise IndexError("no submission left")
        assignment = self._held.get(worker) if worker is not None else None
        if assignment not in self._left:
            assignment = self._choose(worker)
        jobs = self._left[assignment]
        job = jobs.popleft()
        if not jobs:
            del self._left[assignment]
        if worker is not None:
            self._held[worker] = assignment
        return job

    def _choose(self, worker: str | None) -> Hashable:
        if worker is None:
            return next(iter(self._left))
        held = {a for w, a in self._held.items() if w != worker}
        free = [a for a in self._left if a not in held] or list(self._left)
        return max(free, key=lambda a: len(self._left[a]))  # ties: the first in order
