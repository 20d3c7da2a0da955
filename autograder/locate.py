"""Finding a topic's module inside a submitted folder."""

from __future__ import annotations

from pathlib import Path


def find_module(root: Path, topic: str, module: str) -> Path | None:
    """``root/NN_topic/module.py``; else any ``root/*/module.py``; else ``root/module.py``.

    A symbolic link, or a file that is not a regular file, counts as not submitted: the grader
    copies only what the learner wrote, never what a link points at.
    """
    candidates = [root / topic / f"{module}.py", *sorted(root.glob(f"*/{module}.py")), root / f"{module}.py"]
    for path in candidates:
        if path.is_symlink() or not path.is_file():
            continue
        return path
    return None
