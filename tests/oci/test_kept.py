"""Tests for skillpm.registry.oci.kept: what an OCI registry answered, kept for --offline, read as hostile."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.cache import cache_root
from skillpm.errors import IndexFormatError
from skillpm.reading import MAX_DOCUMENT_SIZE
from skillpm.registry.oci.kept import KeptReads


def test_tags_and_indexes_read_back_as_kept(tmp_path: Path) -> None:
    kept = KeptReads(cache_root() / "oci")
    assert kept.tags("skills/demo", where="kept") is None and kept.index("skills/demo", "1.0.0") is None
    kept.keep_tags("skills/demo", ["1.0.0", "2.0.0_local", "latest"])
    kept.keep_index("skills/demo", "1.0.0", b'{"schemaVersion": 2}')
    kept.keep_index("skills/demo", "2.0.0_local", None)  # the registry had no such tag
    assert kept.tags("skills/demo", where="kept") == ["1.0.0", "2.0.0_local", "latest"]
    assert kept.index("skills/demo", "1.0.0") == b'{"schemaVersion": 2}'
    assert kept.index("skills/demo", "2.0.0_local") == b""


def test_a_repository_and_its_namesake_below_stay_apart(tmp_path: Path) -> None:
    """skills/a's index of the tag 'tags.json' and the tags of skills/a/indexes are two files."""
    kept = KeptReads(cache_root() / "oci")
    kept.keep_index("skills/a", "tags.json", b"an index")
    kept.keep_tags("skills/a/indexes", ["1.0.0"])
    assert kept.index("skills/a", "tags.json") == b"an index"
    assert kept.tags("skills/a/indexes", where="kept") == ["1.0.0"]


@pytest.mark.parametrize(
    "written",
    [b"not json", b'{"tags": ["1.0.0"]}', b'["1.0.0", 7]', b'["../../x"]', b'["' + b"a" * 129 + b'"]',
     b"[" + b" " * MAX_DOCUMENT_SIZE + b"]", b"[" * 100_000],
    ids=["not JSON", "not a list", "not strings", "a path", "too long a tag", "too large", "nested too deep"],
)
def test_a_kept_tag_list_that_is_not_one_is_as_if_none_was_kept(tmp_path: Path, written: bytes) -> None:
    kept = KeptReads(cache_root() / "oci")
    kept.keep_tags("skills/demo", ["1.0.0"])
    (next(tmp_path.rglob("tags.json"))).write_bytes(written)
    assert kept.tags("skills/demo", where="kept") is None


def test_a_kept_index_that_is_not_a_regular_file_or_too_large_is_not_read(tmp_path: Path) -> None:
    kept = KeptReads(cache_root() / "oci")
    kept.keep_index("skills/demo", "1.0.0", b"{}")
    path = next(tmp_path.rglob("1.0.0"))
    path.write_bytes(b" " * (MAX_DOCUMENT_SIZE + 1))
    assert kept.index("skills/demo", "1.0.0") is None
    path.unlink()
    path.mkdir()
    assert kept.index("skills/demo", "1.0.0") is None


@pytest.mark.parametrize("repository", ["../escape", "skills/../../x", "Skills/Upper", "/abs"])
def test_a_repository_that_is_no_oci_name_never_becomes_a_path(tmp_path: Path, repository: str) -> None:
    kept = KeptReads(tmp_path / "kept")
    with pytest.raises(IndexFormatError):
        kept.keep_tags(repository, ["1.0.0"])
    assert not (tmp_path / "kept").exists()


@pytest.mark.parametrize("tag", ["..", ".hidden", "a/b", "x" * 129, "", " 1.0"])
def test_a_tag_that_is_no_oci_tag_never_becomes_a_path(tmp_path: Path, tag: str) -> None:
    """A registry's tag list may hold anything (' 1.0' even reads as a version): such a tag is never kept."""
    kept = KeptReads(cache_root() / "oci")
    kept.keep_index("skills/demo", tag, b"{}")
    assert kept.index("skills/demo", tag) is None
    assert list(tmp_path.rglob("*")) == []
    kept.keep_tags("skills/demo", ["1.0.0", tag])
    assert kept.tags("skills/demo", where="kept") == ["1.0.0"]


def test_a_cache_that_cannot_be_written_fails_no_command(tmp_path: Path) -> None:
    cache_root().mkdir()
    (cache_root() / "file").write_text("a file where the cache's folder would be")
    kept = KeptReads(cache_root() / "file")
    kept.keep_tags("skills/demo", ["1.0.0"])
    kept.keep_index("skills/demo", "1.0.0", b"{}")
    assert kept.tags("skills/demo", where="kept") is None and kept.index("skills/demo", "1.0.0") is None
