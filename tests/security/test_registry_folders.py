"""A cloned registry's folders and page files, as hostile as its index: a write never cleans what a
folder linked out of the registry holds, nor reads a page file whole (third-pass hostile review).

Each case makes a registry with the real ``registry init``, commits what an attacker would (a top
folder linking to the victim's skills folder, a link below a real folder, a huge page file), runs
the real ``registry build`` or ``rebuild``, and checks the victim's files are as they were.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from security.conftest import Hostile, tree_state

from skillpm.atomic import MARKER


def victims_folder(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Fill ``folder`` (the victim's ``~/.claude/skills``, say) with what skillpm would clean in a registry:
    a skill a killed install moved aside (the user's only copy, which the next install restores) and a
    page temporary an older skillpm wrote; its state."""
    aside = folder / ".my-skill.0badc0de.skillpm-old"
    (aside / MARKER).mkdir(parents=True)
    (aside / "tree").mkdir()
    (aside / "tree" / "SKILL.md").write_text("the user's only copy of my-skill\n")
    (folder / ".report.html.4242.deadbeef.tmp").write_text("a file of the user's\n")
    (folder / "settings.json").write_text('{"keep": true}\n')
    return tree_state(folder)


def new_registry(hostile: Hostile) -> Path:
    root = hostile.work / "reg"
    hostile.ok(hostile.run("registry", "init", root))
    return root


@pytest.mark.parametrize(
    ("linked", "command"),
    [
        ("attestations", "rebuild"),
        ("index", "rebuild"),
        ("artifacts", "rebuild"),
        ("keys", "rebuild"),
        ("keys", "build"),
        ("pages", "rebuild"),
        ("pages", "build"),
        ("attestations/demo", "rebuild"),  # a link below a real folder
        ("pages/old", "rebuild"),
    ],
)
def test_a_registry_folder_linking_out_is_never_cleaned(hostile: Hostile, linked: str, command: str) -> None:
    """'registry rebuild' removed every skillpm leftover anywhere under the folder a cloned registry's
    attestations/ linked to (the victim's home: a skill a killed install had moved aside, its only copy),
    and any write did so in the folder its keys/ or pages/ linked to, before refusing the link."""
    root = new_registry(hostile)
    outside = hostile.home / "proj" / ".claude" / "skills"
    outside.mkdir(parents=True)
    before = victims_folder(outside)
    link = root / linked
    if link.exists():
        import shutil

        shutil.rmtree(link)
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)

    completed = hostile.run("registry", command, root)

    assert "Traceback" not in completed.stderr, completed.stderr
    assert tree_state(outside) == before
    assert os.path.islink(link)
    if linked == "pages":
        hostile.refused(completed, "leads out of the registry")


@pytest.mark.parametrize("linked", ["artifacts", "artifacts/layer-norm", "artifacts/layer-norm/1.0.0",
                                    "artifacts/layer-norm/1.0.0/layer-norm-1.0.0-generic.tar.gz"])
def test_rebuild_indexes_no_archive_reached_through_a_link(hostile: Hostile, linked: str) -> None:
    """'registry rebuild' read archives through a folder linking out of the registry and indexed and signed
    them, where every reader of the registry refuses such a link (found by a hostile review)."""
    import shutil

    from conftest import build_source, publish_source

    root = new_registry(hostile)
    publish_source(root, build_source(hostile.work, "layer-norm"), hostile.work / "dist")
    outside = hostile.home / "elsewhere"
    shutil.move(root / linked, outside)
    (root / linked).symlink_to(outside, target_is_directory=outside.is_dir())
    index = {path: path.read_bytes() for path in (root / "index").rglob("*.json")}

    hostile.refused(hostile.run("registry", "rebuild", root), "is reached through a link")

    assert {path: path.read_bytes() for path in (root / "index").rglob("*.json")} == index


@pytest.mark.parametrize("page", ["index.html", "pages/pages.css"])
def test_a_huge_page_file_is_not_read_whole(hostile: Hostile, page: str) -> None:
    """A cloned registry's index.html of 1.5 GB of zeros (git stores it in 1.5 MB): 'registry build' read it
    whole to compare it with the new page, a MemoryError under the 1 GiB limit; now only a file of the new
    page's size is read, at most that many bytes and one more."""
    root = new_registry(hostile)
    with open(root / page, "wb") as sparse:
        sparse.truncate(1500 * 1024 * 1024)

    hostile.ok(hostile.run("registry", "build", root))

    assert (root / page).stat().st_size < 1024 * 1024
    assert b"\0" not in (root / page).read_bytes()
