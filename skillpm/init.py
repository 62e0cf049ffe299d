"""Start a skill source: a new skeleton, or adopt a skill folder (upskill's output or any SKILL.md folder) in place."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.atomic import atomic_write
from skillpm.errors import ManifestError
from skillpm.locks import lock_for
from skillpm.reading import MAX_EVAL_FILE_SIZE, MAX_SKILL_MD_SIZE, problem, read_inside
from skillpm.manifest import EVAL_FILE, MANIFEST_NAME, SKILL_MD, check_not_linked
from skillpm.records import Record

if TYPE_CHECKING:
    from skillpm.validation.frontmatter import SkillMd

_SKELETON = """\
---
name: {name}
description: {description}
---

# {title}

Steps the agent should follow, the commands it should run, and the mistakes to avoid.
Put long material in references/ and link it from here.
"""


#: upskill's skill_meta.json with one case to replace: what ``skillpm eval`` runs (docs/evaluation.md).
_EXAMPLE_TESTS = """\
{
  "tests": [
    {
      "input": "A task this skill should help with: replace it with a real one.",
      "expected": {"contains": ["a phrase a good answer holds"]}
    }
  ]
}
"""


def manifest_text(*, name: str, version: str, description: str, license: str | None) -> str:
    """A minimal skillpm.toml with one generic variant."""
    import tomli_w

    package: dict[str, object] = {"name": name, "version": version, "description": description}
    if license:
        package["license"] = license
    return tomli_w.dumps({"package": package, "variants": {"generic": {}}})


def init_skeleton(directory: Path, *, name: str, description: str) -> list[Path]:
    """Create a new skill source in ``directory``: SKILL.md, skillpm.toml, and skill_meta.json holding one
    example test case for ``skillpm eval`` (never packed) unless one is there."""
    from skillpm.index.model import MAX_NAME_LENGTH, is_valid_name

    if not is_valid_name(name):
        raise ManifestError(
            f"{name[:80]!r} is not a valid skill name",
            hint=f"pass --name NAME: lowercase letters and digits, single hyphens between them, "
            f"at most {MAX_NAME_LENGTH} characters",
        )
    with _claimed(directory):
        skill_md = directory / SKILL_MD
        if skill_md.exists():
            raise ManifestError(f"{skill_md} already exists", hint="use 'skillpm init --from DIR' to adopt it")
        title = name.replace("-", " ").capitalize()
        atomic_write(skill_md, _SKELETON.format(name=name, description=description, title=title).encode())
        manifest = manifest_text(name=name, version="0.1.0", description=description, license=None)
        atomic_write(directory / MANIFEST_NAME, manifest.encode())
        created = [skill_md, directory / MANIFEST_NAME]
        if not (directory / EVAL_FILE).exists():  # test cases of the user's own are kept
            atomic_write(directory / EVAL_FILE, _EXAMPLE_TESTS.encode())
            created.append(directory / EVAL_FILE)
    return created


class Repairs(Record):
    """What ``init --from`` changed in SKILL.md so that YAML reads its front matter as meant: the keys
    whose values it quoted (an unquoted ``": "``), and whether it removed a byte-order mark."""

    quoted: tuple[str, ...] = ()
    unmarked: bool = False


class Adopted(Record):
    """What :func:`adopt_upskill` wrote and changed."""

    manifest: Path
    repairs: Repairs
    renamed: tuple[str, str] | None  # SKILL.md's name and the package's, when SKILL.md got the package's


def adopt_upskill(directory: Path) -> Adopted:
    """Write skillpm.toml for a skill folder (SKILL.md, and skill_meta.json from upskill if any), in place.

    SKILL.md is repaired where YAML would not read its front matter as meant (see
    :func:`derive_package`) and, when its name was not one a skill source may have
    (``SEO Optimizer``), given the package's (``seo-optimizer``), as a source's SKILL.md and
    manifest must agree.
    """
    with _claimed(directory):
        package, repaired, repairs, skill_md = _derive(directory)
        renamed = None
        written = (skill_md.fields or {}).get("name")
        if isinstance(written, str) and written != package["name"]:
            fixed = _with_name(repaired, skill_md.key_lines.get("name"), str(package["name"]))
            if fixed is not None:
                repaired, renamed = fixed, (written, str(package["name"]))
        if repairs.quoted or repairs.unmarked or renamed:
            atomic_write(directory / SKILL_MD, repaired)
        path = directory / MANIFEST_NAME
        atomic_write(path, manifest_text(**package).encode())
    return Adopted(path, repairs, renamed)


def _with_name(raw: bytes, line: int | None, name: str) -> bytes | None:
    """SKILL.md ``raw`` with its one-line ``name:`` at ``line`` (1-based) saying ``name``; None when it is not one line."""
    lines = raw.split(b"\n")
    if line is None or not 1 < line < len(lines) or not lines[line - 1].startswith(b"name:"):
        return None
    if lines[line][:1] in (b" ", b"\t"):  # the value goes on: a multi-line scalar, left alone
        return None
    lines[line - 1] = b"name: " + name.encode() + (b"\r" if lines[line - 1].endswith(b"\r") else b"")
    return b"\n".join(lines)


def derive_package(directory: Path) -> dict[str, str | None]:
    """The ``[package]`` fields of a skill folder with no skillpm.toml: what ``init --from`` writes.

    Name, description and license come from SKILL.md's front matter (see
    :func:`license_field`; a display name such as ``SEO Optimizer`` gives the name the
    skills CLI installs it under, :func:`~skillpm.validation.spec.plain_name`); the version
    as :func:`skill_md_version` finds it. A front matter that YAML refuses only for an unquoted
    ``": "`` in a value, as upskill writes it, or for a byte-order mark before it, is read as its
    author meant (``init --from`` writes it back quoted, without the mark).
    """
    return _derive(directory)[0]


def _derive(directory: Path) -> tuple[dict[str, str | None], bytes, Repairs, SkillMd]:
    """The package fields, SKILL.md's bytes as they should be, what was repaired to make them so, and
    those bytes parsed."""
    from skillpm.validation.frontmatter import BOM, parse_skill_md
    from skillpm.validation.lenient import quote_colon_values
    from skillpm.validation.spec import plain_name

    try:
        raw = read_inside(directory, SKILL_MD, MAX_SKILL_MD_SIZE)
    except (OSError, ValueError) as error:
        raise ManifestError(
            f"{directory} has no readable {SKILL_MD} ({problem(error)}); is it a skill folder?"
        ) from None
    skill_md, problems = parse_skill_md(raw, file=SKILL_MD)
    quoted: tuple[str, ...] = ()
    unmarked = False
    if skill_md.fields is None and _is_utf8(raw):
        text = raw.decode("utf-8")
        unmarked = text.startswith(BOM)
        text, quoted = quote_colon_values(text.removeprefix(BOM))
        repaired, _ = parse_skill_md(text.encode("utf-8"), file=SKILL_MD) if quoted or unmarked else (skill_md, problems)
        if repaired.fields is not None:
            skill_md, raw = repaired, text.encode("utf-8")
        else:
            quoted, unmarked = (), False
    fields = skill_md.fields or {}
    name, description = fields.get("name"), fields.get("description")
    if not isinstance(name, str) or not isinstance(description, str):
        first = f": {problems[0].message}" if problems else ""
        raise ManifestError(f"{directory / SKILL_MD} lacks a name and description in its front matter{first}")
    meta = _read_meta(directory / EVAL_FILE)
    license = fields.get("license") or meta.get("license")
    package = {
        "name": plain_name(name),
        "version": skill_md_version(fields),
        "description": description,
        "license": license_field(license, directory) if isinstance(license, str) else None,
    }
    return package, raw, Repairs(quoted, unmarked), skill_md


def skill_md_version(fields: dict[str, object]) -> str:
    """The version in SKILL.md's ``metadata.version`` when it is PEP 440, else 0.1.0.

    Without one there, a PEP 440 top-level ``version`` (where many skills put it; validate
    warns that the specification's place is metadata) is taken. Not skill_meta.json's
    ``metadata.version``: that is upskill's own ("1.0" unless set), not the skill's."""
    from packaging.version import InvalidVersion, Version

    metadata = fields.get("metadata")
    placed = metadata.get("version") if isinstance(metadata, dict) else None
    for version in (placed, fields.get("version")):
        if isinstance(version, (str, int, float)) and not isinstance(version, bool):
            try:
                Version(str(version))
            except InvalidVersion:
                continue
            return str(version)
    return "0.1.0"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def license_field(text: str, directory: Path) -> str:
    """A SKILL.md ``license`` line as a package's license: an SPDX expression, else a licence-file reference.

    A line that is not SPDX ("Complete terms in LICENSE.txt") names the file holding the terms
    when one of its words is a file in ``directory``: ``SEE LICENSE IN LICENSE.txt`` (npm's form
    for custom terms); otherwise the terms are the line itself, in SKILL.md.
    """
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        return str(canonicalize_license_expression(text))
    except InvalidLicenseExpression:
        pass
    named = next((word for word in re.findall(r"[\w.-]+", text) if _is_file(directory / word)), None)
    return f"SEE LICENSE IN {named or SKILL_MD}"


def _is_file(path: Path) -> bool:
    try:
        return not path.name.startswith(".") and path.is_file() and not path.is_symlink()
    except OSError:  # a word of the licence too long for a file name (ENAMETOOLONG)
        return False


def _read_meta(path: Path) -> dict[str, object]:
    """upskill's ``metadata`` object from skill_meta.json; empty when the file is absent or cannot be read.

    Only a licence is taken from it, and only when SKILL.md has none, so one that cannot be read
    is passed over as ``validate`` passes it over: a folder holds no test cases, and for a file
    that is not JSON ``validate`` warns (``tests.unusable``) and ``pack`` records no test set.
    """
    from skillpm.jsonfile import parse_json

    try:
        data = parse_json(read_inside(path.parent, path.name, MAX_EVAL_FILE_SIZE))
    except (OSError, ValueError):
        return {}
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return metadata if isinstance(metadata, dict) else {}


@contextmanager
def _claimed(directory: Path) -> Iterator[None]:
    """``directory`` (made if need be), locked while skillpm.toml is written there; ManifestError when it has one,
    or is a link (a cloned repository's ``skills/notes`` may lead to the user's own skill, which init would rewrite).
    Two inits of one folder at once: one writes it, the other finds it written (they mixed their files)."""
    check_not_linked(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with lock_for(directory):
        if (directory / MANIFEST_NAME).exists():
            raise ManifestError(f"{directory / MANIFEST_NAME} already exists")
        yield
