"""exercises/ and release/ are the learner's: generation, reset and the self-checks respect edits.

One topic is generated once into a scratch course (nbgrader included); every test installs that
generation into its own scratch workspace, so nothing here touches the repository's files.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from grimoire.authoring import GENERATED_HEADER, VISIBLE_TESTS_HEADER
from grimoire.generate import MANIFEST, install, render, report_lines, reset, stale_files
from grimoire.topics import ROOT, load_topic

TOPIC = load_topic(ROOT / "solutions" / "01_parameter_counting")
STUB = f"exercises/{TOPIC.folder}/{TOPIC.module}.py"
NOTEBOOK = f"release/{TOPIC.folder}/{TOPIC.folder}.ipynb"


@pytest.fixture(scope="module")
def authored(tmp_path_factory):
    """A scratch kit holding one topic's authored files."""
    root = tmp_path_factory.mktemp("kit")
    shutil.copytree(ROOT / "solutions" / TOPIC.folder, root / "solutions" / TOPIC.folder)
    (root / "autograder" / "checks").mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "checks" / f"test_{TOPIC.folder}.py", root / "autograder" / "checks")
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


@pytest.fixture(scope="module")
def fresh(authored, tmp_path_factory):
    out = tmp_path_factory.mktemp("fresh")
    render(out, authored, [TOPIC])
    return out


@pytest.fixture
def workspace(authored, fresh, tmp_path):
    """A learner's clone: the authored files plus the generated ones, as committed."""
    root = tmp_path / "clone"
    shutil.copytree(authored, root)
    install(fresh, root)
    return root


def _git(root, *args):
    subprocess.run(["git", "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", *args],
                   cwd=root, check=True, capture_output=True)


def _edit(root, path, text="\n# my own work\n"):
    file = root / path
    file.write_text(file.read_text() + text)
    return file.read_text()


def test_generation_leaves_an_edited_exercise_and_notebook_alone_and_says_so(workspace, fresh):
    mine = {path: _edit(workspace, path) for path in (STUB, NOTEBOOK)}
    result = install(fresh, workspace)
    assert sorted(result["kept"]) == sorted(mine) and result["written"] == []
    assert {path: (workspace / path).read_text() for path in mine} == mine
    said = "\n".join(report_lines(result))
    assert STUB in said and NOTEBOOK in said and "--force" in said


def test_generation_overwrites_what_it_wrote_itself(workspace, fresh):
    """An instructor who regenerates twice without committing is not mistaken for a learner."""
    stale = workspace / f"exercises/{TOPIC.folder}/README.md"
    stale.write_text("an older generation\n")
    manifest = (workspace / MANIFEST).read_text()
    (workspace / MANIFEST).write_text(manifest.replace(
        manifest.split(f'"exercises/{TOPIC.folder}/README.md": "')[1][:64],
        __import__("hashlib").sha256(b"an older generation\n").hexdigest()))
    result = install(fresh, workspace)
    assert result["written"] == [f"exercises/{TOPIC.folder}/README.md"] and result["kept"] == []
    assert stale.read_text() == (fresh / f"exercises/{TOPIC.folder}/README.md").read_text()


def test_force_overwrites_but_saves_the_learners_version_beside_it(workspace, fresh):
    mine = _edit(workspace, STUB)
    result = install(fresh, workspace, force=True)
    assert STUB in result["written"] and len(result["saved"]) == 1
    saved = workspace / result["saved"][0]
    assert saved.name.startswith(f"{TOPIC.module}.py.saved-") and saved.read_text() == mine
    assert (workspace / STUB).read_text() == (fresh / STUB).read_text()


def test_reset_restores_the_stub_and_keeps_the_learners_file(workspace, fresh):
    mine = _edit(workspace, STUB, "\ndef dense_params(input_dim, units):\n    return 1\n")
    result = reset(TOPIC.folder, workspace, fresh=fresh)
    assert result["written"] == [STUB]
    assert (workspace / STUB).read_text() == (fresh / STUB).read_text()
    saved = list((workspace / STUB).parent.glob(f"{TOPIC.module}.py.saved-*"))
    assert [p.read_text() for p in saved] == [mine]
    assert reset(TOPIC.folder, workspace, fresh=fresh)["written"] == []  # nothing more to do


def test_without_a_manifest_git_tells_a_learners_edit_from_a_stale_file(workspace, fresh):
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-qm", "kit")
    (workspace / MANIFEST).unlink()
    _edit(workspace, STUB)
    assert install(fresh, workspace)["kept"] == [STUB]


def test_the_freshness_check_compares_with_git_not_with_the_learners_copy(workspace, fresh):
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-qm", "kit")
    _edit(workspace, STUB)
    _edit(workspace, NOTEBOOK)
    (workspace / STUB).with_name(f"{TOPIC.module}.py.saved-1").write_text("an old try\n")
    assert stale_files(workspace, fresh) == []
    # ...and still catches a stale committed file.
    _git(workspace, "commit", "-qam", "a generated file edited by hand and committed")
    assert stale_files(workspace, fresh) == [f"{STUB} is out of date", f"{NOTEBOOK} is out of date"]


def test_a_file_no_longer_generated_goes_unless_a_learner_changed_it(workspace, fresh):
    gone = f"exercises/{TOPIC.folder}/old_helper.py"
    (workspace / gone).write_text("generated once\n")
    manifest = (workspace / MANIFEST).read_text().replace(
        "{", '{\n "%s": "%s",' % (gone, __import__("hashlib").sha256(b"generated once\n").hexdigest()), 1)
    (workspace / MANIFEST).write_text(manifest)
    (workspace / f"exercises/{TOPIC.folder}/my_notes.py").write_text("mine\n")
    result = install(fresh, workspace)
    assert result["removed"] == [gone] and not (workspace / gone).exists()
    assert (workspace / f"exercises/{TOPIC.folder}/my_notes.py").exists()


def test_stub_headers_speak_to_the_learner(fresh):
    for path in (STUB, f"exercises/{TOPIC.folder}/test_{TOPIC.module}.py"):
        head = "".join((fresh / path).read_text().splitlines(keepends=True)[:2])
        assert "solutions" not in head and "make feedback TOPIC=" in head
    assert "solutions/" not in GENERATED_HEADER + VISIBLE_TESTS_HEADER

