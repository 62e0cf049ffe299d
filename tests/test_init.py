"""Tests for skillpm.init and ``skillpm init``: new skeletons and adopting upskill output."""

from __future__ import annotations

import json
import tarfile
import tomllib
from pathlib import Path

import pytest

from skillpm.errors import ManifestError
from skillpm.init import adopt_upskill, init_skeleton

from conftest import skill_md

UPSKILL_SKILL_MD = """\
---
name: fast-softmax
description: Write a numerically stable fused softmax kernel. Use when a softmax is a bottleneck.
license: MIT
---

# Fast softmax

Subtract the row maximum before exponentiating.
"""


def upskill_dir(base: Path, meta: object = None) -> Path:
    """An upskill output directory: SKILL.md and skill_meta.json (test cases)."""
    root = base / "fast-softmax"
    root.mkdir(parents=True)
    (root / "SKILL.md").write_text(UPSKILL_SKILL_MD)
    if meta is None:
        meta = {"metadata": {"version": "1.2.0", "model": "some-model"}, "tests": [{"input": "q", "expected": "a"}]}
    (root / "skill_meta.json").write_text(json.dumps(meta) if not isinstance(meta, str) else meta)
    return root


def archive_names(path: Path) -> list[str]:
    with tarfile.open(path, "r:gz") as tar:
        return tar.getnames()


def test_init_creates_a_source_that_validates_and_packs(isolated, run_cli) -> None:
    result = run_cli("init", "my-skill")
    assert result.exit_code == 0, result.output
    source = isolated.project / "my-skill"
    manifest = tomllib.loads((source / "skillpm.toml").read_text())
    assert manifest["package"]["name"] == "my-skill" and manifest["package"]["version"] == "0.1.0"
    assert list(manifest["variants"]) == ["generic"]
    assert "name: my-skill" in (source / "SKILL.md").read_text()

    validated = run_cli("validate", "my-skill")
    assert validated.exit_code == 0, validated.output
    assert "my-skill: valid" in validated.stdout

    packed = run_cli("pack", "my-skill", "--json")
    assert packed.exit_code == 0, packed.output
    [built] = json.loads(packed.stdout)
    assert Path(built["path"]) == Path("dist/my-skill-0.1.0-generic.tar.gz")
    assert archive_names(isolated.project / built["path"]) == ["skillpm-variant.json", "skill/SKILL.md"]


def test_init_with_name_and_description(tmp_path: Path) -> None:
    created = init_skeleton(tmp_path / "folder", name="other-name", description="Does a thing. Use for things.")
    assert [p.name for p in created] == ["SKILL.md", "skillpm.toml", "skill_meta.json"]
    package = tomllib.loads((tmp_path / "folder" / "skillpm.toml").read_text())["package"]
    assert (package["name"], package["description"]) == ("other-name", "Does a thing. Use for things.")


def test_init_refuses_an_existing_source(isolated, run_skillpm, snapshot) -> None:
    assert run_skillpm("init", "my-skill").returncode == 0
    before = snapshot(isolated.project)
    result = run_skillpm("init", "my-skill")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "already exists" in result.stderr
    assert snapshot(isolated.project) == before


@pytest.mark.parametrize(
    "args", [["Bad_Name"], ["ok-dir", "--name", "bad name"], ["ok-dir", "--name", "double--hyphen"], ["x" * 65]]
)
def test_init_refuses_a_name_validate_would_reject(isolated, run_skillpm, snapshot, args: list[str]) -> None:
    """A skeleton is only written under a valid name, so a new source always validates."""
    before = snapshot(isolated.project)
    result = run_skillpm("init", *args)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and "is not a valid skill name" in result.stderr
    assert "hint: pass --name NAME" in result.stderr
    assert snapshot(isolated.project) == before


def test_init_refuses_to_overwrite_a_skill_md(tmp_path: Path) -> None:
    (tmp_path / "SKILL.md").write_text("mine")
    with pytest.raises(ManifestError, match="already exists") as caught:
        init_skeleton(tmp_path, name="x", description="d")
    assert "--from" in caught.value.hint
    assert (tmp_path / "SKILL.md").read_text() == "mine"
    assert not (tmp_path / "skillpm.toml").exists()


def test_init_from_upskill_output(isolated, run_cli) -> None:
    source = upskill_dir(isolated.project)

    result = run_cli("init", "--from", source)

    assert result.exit_code == 0, result.output
    package = tomllib.loads((source / "skillpm.toml").read_text())["package"]
    assert package == {
        "name": "fast-softmax",
        "version": "0.1.0",  # skill_meta.json's metadata.version (1.2.0) is upskill's, not the skill's
        "description": "Write a numerically stable fused softmax kernel. Use when a softmax is a bottleneck.",
        "license": "MIT",
    }
    assert run_cli("validate", source).exit_code == 0
    packed = run_cli("pack", source, "-o", isolated.tmp / "dist", "--json")
    assert packed.exit_code == 0, packed.output
    [built] = json.loads(packed.stdout)
    assert Path(built["path"]).name == "fast-softmax-0.1.0-generic.tar.gz"
    names = archive_names(Path(built["path"]))
    assert names == ["skillpm-variant.json", "skill/SKILL.md"]
    assert not any("skill_meta.json" in name for name in names)


@pytest.mark.parametrize(
    ("front", "version"),
    [
        ("metadata:\n  version: 2.0.0rc1\n", "2.0.0rc1"),
        ('metadata:\n  author: me\n  version: "1.4"\n', "1.4"),
        ("metadata:\n  version: not a version\n", "0.1.0"),
        ("", "0.1.0"),
        ("version: 1.2.0\n", "1.2.0"),  # top level, where many public skills put it
        ("version: 1.2.0\nmetadata:\n  version: 2.0.0\n", "2.0.0"),  # the specification's place wins
        ("version: 1.5\nmetadata:\n  version: not a version\n", "1.5"),
        ("version: latest\n", "0.1.0"),
        ("version: true\n", "0.1.0"),
    ],
)
def test_adopt_upskill_version_is_skill_md_metadata_version(tmp_path: Path, front: str, version: str) -> None:
    """The Agent Skills specification keeps a skill's version in SKILL.md's ``metadata`` map
    (agentskills/agentskills docs/specification.mdx); skill_meta.json's ``metadata.version`` is
    upskill's SkillMetadata.version, "1.0" unless set, and is not read."""
    root = upskill_dir(tmp_path, {"metadata": {"version": "1.0"}, "tests": []})
    (root / "SKILL.md").write_text(UPSKILL_SKILL_MD.replace("license: MIT\n", f"license: MIT\n{front}"))
    path, *_ = adopt_upskill(root)
    assert tomllib.loads(path.read_text())["package"]["version"] == version


def test_adopt_upskill_without_meta_file(tmp_path: Path) -> None:
    root = upskill_dir(tmp_path)
    (root / "skill_meta.json").unlink()
    assert tomllib.loads(adopt_upskill(root)[0].read_text())["package"]["version"] == "0.1.0"


@pytest.mark.parametrize(
    ("prepare", "match"),
    [
        (lambda root: (root / "SKILL.md").unlink(), "no readable SKILL.md"),
        (lambda root: (root / "SKILL.md").write_text("no front matter here\n"), "lacks a name and description"),
        (lambda root: (root / "skillpm.toml").write_text(""), "already exists"),
    ],
)
def test_adopt_upskill_refuses(tmp_path: Path, prepare, match: str) -> None:
    root = upskill_dir(tmp_path)
    prepare(root)
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(ManifestError, match=match):
        adopt_upskill(root)
    assert sorted(p.name for p in root.iterdir()) == before


@pytest.mark.parametrize("kind", ["not-json", "folder"])
def test_a_skill_meta_json_that_cannot_be_read_stops_pack_no_more_than_validate(isolated, run_skillpm, kind) -> None:
    """A plain folder whose skill_meta.json holds NaN, or is a folder: validate called it valid, but pack,
    publish and init --from refused it ("cannot read skill_meta.json") for the licence they might take
    from it. They now pass it over as validate does; pack says why it records no test set."""
    folder = isolated.project / "plain"
    folder.mkdir()
    (folder / "SKILL.md").write_text(skill_md("plain", "Does one thing. Use in tests."))
    if kind == "folder":
        (folder / "skill_meta.json").mkdir()
    else:
        (folder / "skill_meta.json").write_text('{"tests": [{"input": "x", "expected": {"contains": ["y"]}}], "metadata": {"x": NaN}}')
    validated = run_skillpm("validate", folder)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    packed = run_skillpm("pack", folder, "-o", isolated.project / "dist")
    assert packed.returncode == 0 and "Traceback" not in packed.stderr, packed.stderr
    assert (isolated.project / "dist" / "plain-0.1.0-generic.tar.gz").is_file()
    if kind == "not-json":
        assert "warning: skill_meta.json: not valid JSON (NaN is not finite); no test-set digest is recorded" in packed.stderr
        assert "[tests.unusable] not valid JSON" in validated.stdout
    adopted = run_skillpm("init", "--from", folder)
    assert adopted.returncode == 0, adopted.stderr
    assert tomllib.loads((folder / "skillpm.toml").read_text())["package"]["name"] == "plain"


def test_init_from_with_another_directory_is_a_usage_error(isolated, run_skillpm) -> None:
    source = upskill_dir(isolated.project)
    result = run_skillpm("init", "elsewhere", "--from", source)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert not (source / "skillpm.toml").exists() and not (isolated.project / "elsewhere").exists()


def test_a_byte_order_mark_is_named_by_validate_and_removed_by_init_from(isolated, run_cli) -> None:
    """Some editors save UTF-8 with a byte-order mark; skills-ref (and agents that read front matter
    strictly) then find no front matter. validate says what is wrong and init --from removes the mark."""
    source = isolated.project / "marked"
    source.mkdir()
    body = "---\nname: marked\ndescription: Saved by an editor that marks UTF-8.\n---\n\n# Marked\n"
    (source / "SKILL.md").write_bytes(b"\xef\xbb\xbf" + body.encode())

    refused = run_cli("validate", source, "--json")
    assert refused.exit_code == 1
    [finding] = json.loads(refused.stdout)["results"][0]["findings"]
    assert finding["rule"] == "spec.frontmatter.missing" and "byte-order mark (U+FEFF)" in finding["message"]

    adopted = run_cli("init", "--from", source, "--json")
    assert adopted.exit_code == 0, adopted.output
    assert json.loads(adopted.stdout)["unmarked"] is True
    assert (source / "SKILL.md").read_bytes() == body.encode()
    assert tomllib.loads((source / "skillpm.toml").read_text())["package"]["name"] == "marked"
    assert run_cli("validate", source).exit_code == 0


def test_init_from_reads_an_unquoted_colon_in_the_description_and_writes_it_back_quoted(isolated, run_cli) -> None:
    """upskill's ``Skill.render`` (src/upskill/models.py) writes ``f"description: {self.description}"``
    unquoted; a description with ": " is then YAML that strict parsers refuse. init --from reads
    it as its author meant, quotes it in SKILL.md (valid YAML), and says so."""
    source = upskill_dir(isolated.project)
    description = "Write a fused softmax kernel. Use when: a softmax is the bottleneck, e.g. attention: QK^T"
    rendered = "\n".join(["---", "name: fast-softmax", f"description: {description}", "allowed-tools: Read, Bash", "---"])
    (source / "SKILL.md").write_text(rendered + "\n\n# Fast softmax\n\nSubtract the row maximum.\n")

    result = run_cli("init", "--from", source)

    assert result.exit_code == 0, result.output
    assert "note: quoted description in" in result.stderr
    assert tomllib.loads((source / "skillpm.toml").read_text())["package"]["description"] == description
    text = (source / "SKILL.md").read_text()
    assert f'description: "{description}"' in text and text.endswith("# Fast softmax\n\nSubtract the row maximum.\n")
    import yaml

    assert yaml.safe_load(text.split("---")[1])["description"] == description
    assert run_cli("validate", source).exit_code == 0


@pytest.mark.parametrize(
    ("front", "renamed", "written"),
    [
        ("name: SEO Optimizer\r\ndescription: d\r\n", ("SEO Optimizer", "seo-optimizer"), b"name: seo-optimizer\r\n"),
        ('name: "SEO Optimizer"\ndescription: d\n', ("SEO Optimizer", "seo-optimizer"), b"name: seo-optimizer\n"),
        ("name: >\n  SEO Optimizer\ndescription: d\n", None, b"name: >\n  SEO Optimizer\n"),  # not one line: left
        ("name: seo-optimizer\ndescription: d\n", None, b"name: seo-optimizer\n"),
    ],
)
def test_adopting_a_folder_gives_skill_md_the_package_s_name(
    tmp_path: Path, front: str, renamed: tuple | None, written: bytes
) -> None:
    root = tmp_path / "seo-optimizer"
    root.mkdir()
    (root / "SKILL.md").write_bytes(f"---\n{front}---\n# SEO\n".replace("\n", "\r\n" if "\r" in front else "\n")
                                    .replace("\r\r", "\r").encode())
    path, repairs, done = adopt_upskill(root)
    assert (repairs.quoted, done) == ((), renamed)
    assert written in (root / "SKILL.md").read_bytes()
    assert tomllib.loads(path.read_text())["package"]["name"] == "seo-optimizer"
