"""Finding a topic's module inside a submitted folder."""

from __future__ import annotations

from pathlib import Path


def find_module(root: Path, topic: str, module: str) -> tuple[Path | None, str | None]:
    """``(path, refusal)``: ``root/NN_topic/module.py``, else ``root/*/module.py``, else ``root/module.py``.

    A symbolic link anywhere between ``root`` and the module (the topic folder included), or a
    file that is not a regular file, is refused with a message: the grader reads only what the
    learner wrote, never what a link points at (another student's folder, the solutions).
    """
    candidates = [root / topic / f"{module}.py", *sorted(root.glob(f"*/{module}.py")), root / f"{module}.py"]
    refusal = None
    for path in candidates:
        links = [p for p in (path, path.parent) if p != root and p.is_symlink()]
        if links:
            refusal = (f"{links[-1].relative_to(root)} is a symbolic link: the grader reads only "
                       "files you wrote, so a linked file or folder counts as not submitted")
            continue
        if not path.is_file():
            continue
        return path, None
    return None, refusal
