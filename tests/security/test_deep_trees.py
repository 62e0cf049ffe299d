"""Folder trees nested deeper than Python recurses (found in a hostile review).

Python 3.11's os.walk, shutil.rmtree and pathlib's resolving of parents call themselves once per folder
level: a cloned project's committed ``.agents/skills/NAME/d/d/d/...``, or a skill source nested a thousand
deep, ended sync, remove, install and validate in a RecursionError traceback, and remove --force after the
skill's lockfile entry was gone, so that every later install failed in its recovery.
"""

from __future__ import annotations

import tomllib

from conftest import build_source
from test_walking import nest, unnest

from skillpm.atomic import MAX_REMOVE_DEPTH


def test_an_installed_skill_nested_too_deep_is_neither_replaced_nor_removed(hostile) -> None:
    source = build_source(hostile.work, "one-skill")
    hostile.ok(hostile.run("install", source))
    installed = hostile.project / ".agents" / "skills" / "one-skill"
    nest(installed, MAX_REMOVE_DEPTH + 10)
    lock = (hostile.project / "skills.lock").read_bytes()
    for args in (["sync"], ["remove", "one-skill", "--force"], ["install", source, "--force"]):
        hostile.refused(hostile.run(*args), f"nests folders more than {MAX_REMOVE_DEPTH} deep", "nothing was changed")
        assert (hostile.project / "skills.lock").read_bytes() == lock
        assert (installed / "SKILL.md").is_file()
    assert [entry["name"] for entry in tomllib.loads(lock.decode())["skill"]] == ["one-skill"]


def test_a_source_nested_a_thousand_deep_is_refused_in_one_line(hostile) -> None:
    source = build_source(hostile.work, "one-skill")
    nest(source, 1200, file="f")
    try:
        validated = hostile.run("validate", source)
        assert validated.returncode == 1 and "Traceback" not in validated.stderr, validated.stderr[-2000:]
        assert "tree.folder-count" in validated.stdout
        hostile.refused(hostile.run("install", source), "is not a valid skill")
    finally:
        unnest(source, 1200, file="f")
