"""skillpm.realpaths.RealPaths resolves every path of a tree as os.path.realpath does, whatever the order.

Trees of folders and links (relative, absolute, to links, through ``..``, dangling, looping) are built at
random; every path of the tree, and each spelled with ``..`` after it, is resolved by one RealPaths (so each
answer may come from what earlier ones remembered) and compared with os.path.realpath. Where RealPaths finds
a loop of links (OSError ELOOP), the kernel cannot reach the path either.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillpm.realpaths import RealPaths

NAMES = ("a", "b", "c", ".h")
#: A step of building a tree: a folder, or a link (its target relative, or absolute from the tree's root).
STEPS = st.lists(
    st.tuples(
        st.sampled_from(("folder", "link", "absolute-link")),
        st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
        st.lists(st.sampled_from((*NAMES, "..", ".")), min_size=0, max_size=5),
    ),
    min_size=1,
    max_size=14,
)


def _build(root: Path, steps: list[tuple[str, list[str], list[str]]]) -> list[str]:
    """The tree ``steps`` make under ``root`` (a step whose folder is not there is skipped); each path made."""
    made = []
    for kind, where, target in steps:
        path = root.joinpath(*where)
        if not path.parent.is_dir() or os.path.lexists(path):
            continue
        if kind == "folder":
            path.mkdir()
        else:
            spelled = "/".join(target) or "."
            path.symlink_to(str(root / spelled) if kind == "absolute-link" else spelled)
        made.append(str(path))
    return made


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, order=st.randoms(use_true_random=False))
def test_real_paths_are_os_path_realpath(tmp_path: Path, steps, order) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh folder for each example
    made = _build(root, steps)
    paths = [str(root), *made, *(path + "/../b" for path in made), *(path + "/./a/.." for path in made)]
    order.shuffle(paths)
    resolver = RealPaths()
    for path in paths:
        try:
            real = resolver.real(path)
        except OSError as error:
            assert error.errno == errno.ELOOP, path
            with pytest.raises(OSError):
                os.stat(path)
            continue
        assert real == os.path.realpath(path), path


def test_a_relative_path_is_resolved_from_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    monkeypatch.chdir(tmp_path)
    expected = str(tmp_path.resolve() / "real" / "x")
    assert RealPaths().real("link/../link/x") == os.path.realpath("link/../link/x") == expected


def test_a_link_to_a_path_spelled_with_leading_slashes(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("//" + str(tmp_path).lstrip("/") + "/link2")
    (tmp_path / "link2").symlink_to("///" + str(tmp_path).lstrip("/"))
    resolver = RealPaths()
    for path in ("//" + str(tmp_path / "link"), str(tmp_path / "link" / "x")):
        assert resolver.real(path) == os.path.realpath(path)
