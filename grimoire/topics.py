"""Topics: numbered folders with the same name in exercises/, solutions/, source/ and release/.

A topic folder is named ``NN_module_name`` and holds the module ``module_name.py``. The authored
material of a topic lives in ``solutions/NN_module_name/``:

- ``module_name.py``: the reference, solution code inside ``### BEGIN SOLUTION`` regions;
- ``test_module_name.py``: the visible tests, each marked ``@pytest.mark.task("name")``;
- ``topic.toml``: the lesson (title, introduction, one section and hints per task).

Its hidden checks live in ``autograder/checks/test_NN_module_name.py``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDER_PATTERN = re.compile(r"^(\d\d)_([a-z][a-z0-9_]*)$")


def module_name(folder: str) -> str:
    match = FOLDER_PATTERN.match(folder)
    if not match:
        raise ValueError(f"{folder!r} is not a topic folder name like '01_parameter_counting'")
    return match.group(2)


@dataclass
class Task:
    name: str
    lesson: str
    hints: list[str]


@dataclass
class Topic:
    folder: str
    title: str
    introduction: str
    tasks: list[Task]
    demonstration: str = ""
    further_reading: list[str] = field(default_factory=list)

    @property
    def module(self) -> str:
        return module_name(self.folder)

    @property
    def number(self) -> str:
        return self.folder[:2]

    def task(self, name: str) -> Task:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"topic {self.folder} has no task {name!r}")


def load_topic(folder: Path) -> Topic:
    """Read ``topic.toml`` from a topic folder; errors name the file and the missing key."""
    path = folder / "topic.toml"
    data = tomllib.loads(path.read_text())
    try:
        tasks = [Task(t["name"], t["lesson"].strip(), list(t.get("hints", []))) for t in data["tasks"]]
        return Topic(
            folder=folder.name,
            title=data["title"],
            introduction=data["introduction"].strip(),
            tasks=tasks,
            demonstration=data.get("demonstration", "").strip(),
            further_reading=list(data.get("further_reading", [])),
        )
    except KeyError as missing:
        raise ValueError(f"{path}: missing key {missing}") from None


def topic_folders(base: Path) -> list[Path]:
    return sorted(p for p in base.iterdir() if p.is_dir() and FOLDER_PATTERN.match(p.name))


def all_topics(root: Path = ROOT) -> list[Topic]:
    return [load_topic(folder) for folder in topic_folders(root / "solutions")]
