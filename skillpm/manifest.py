"""The skill source format: ``skillpm.toml`` and how each variant's tree is assembled.

docs/manifest.md describes the format; schemas/manifest.schema.json is generated
from :class:`Manifest` (``python -m skillpm.manifest``) and a test keeps it current.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillpm.agents import AgentName
from skillpm.errors import ManifestError, TargetError
from skillpm.fieldproblems import field_problems
from skillpm.targets import Capability, best_target, parse_target
from skillpm.reading import MAX_MANIFEST_SIZE, problem, read_at_most
from skillpm.tomlfile import parse_toml

if TYPE_CHECKING:
    from skillpm.validation.hidden import Named

MANIFEST_NAME = "skillpm.toml"
SKILL_MD = "SKILL.md"
OVERLAYS_DIR = "variants"
EVAL_FILE = "skill_meta.json"
EVALS_FILE = "evals/evals.json"  # agentskills.io's test cases (packed, unlike skill_meta.json)

Name = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
]


class PackageTable(BaseModel):
    """The ``[package]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    version: str = Field(description="PEP 440 version")
    description: str = Field(min_length=1, max_length=1024)
    license: str | None = None
    authors: tuple[str, ...] = ()
    keywords: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = ()
    agents: tuple[AgentName, ...] = ()

    @field_validator("version")
    @classmethod
    def _pep440(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion:
            shown = repr(value) if len(value) <= 80 else f"{value[:80]!r}... ({len(value)} characters)"
            raise ValueError(f"{shown} is not a PEP 440 version") from None
        return value


class VariantTable(BaseModel):
    """A ``[variants.<target>]`` table. Its files come from ``variants/<target>/``."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Manifest(BaseModel):
    """The whole of ``skillpm.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    package: PackageTable
    variants: dict[str, VariantTable] = Field(
        min_length=1,
        json_schema_extra={"propertyNames": {"pattern": r"^(generic|sm_[1-9][0-9]?[0-9][af]?)$"}},
    )

    @field_validator("variants")
    @classmethod
    def _targets(cls, value: dict[str, VariantTable]) -> dict[str, VariantTable]:
        for key in value:
            try:
                parse_target(key)
            except TargetError as error:
                raise ValueError(error.message) from None
        return value


def manifest_errors(data: object) -> list[tuple[str, str]]:
    """Validate parsed TOML against :class:`Manifest`: ``(field path, message)`` pairs."""
    try:
        Manifest.model_validate(data)
    except ValidationError as error:
        return field_problems(error.errors())
    return []


class SkillSource:
    """A skill source directory: its manifest and the file tree of each variant.

    ``plain`` marks a folder with no skillpm.toml whose manifest was derived from SKILL.md
    (:meth:`load_or_derive`): its one ``generic`` variant is the folder as ``validate`` walks it.
    """

    def __init__(self, root: Path, manifest: Manifest, *, plain: bool = False) -> None:
        self.root = root
        self.manifest = manifest
        self.plain = plain

    @classmethod
    def load(cls, root: Path) -> SkillSource:
        """Read ``root/skillpm.toml``; raise ManifestError when it is absent or invalid."""
        data = read_manifest_data(root)
        problems = manifest_errors(data)
        if problems:
            where, message = problems[0]
            raise ManifestError(
                f"{root / MANIFEST_NAME}: {where}: {message}",
                hint=f"run 'skillpm validate {root}' to see every problem",
            )
        return cls(root, Manifest.model_validate(data))

    @classmethod
    def load_or_derive(cls, root: Path) -> SkillSource:
        """:meth:`load`, or for a plain SKILL.md folder a manifest derived as ``init --from`` writes it."""
        if (root / MANIFEST_NAME).exists() or not (root / SKILL_MD).is_file():
            return cls.load(root)
        from skillpm.init import derive_package

        package = derive_package(root)
        problems = manifest_errors({"package": package, "variants": {"generic": {}}})
        if problems:
            where, message = problems[0]
            raise ManifestError(
                f"{root / SKILL_MD}: its front matter does not make a package: {where}: {message}",
                hint=f"run 'skillpm validate {root}' to see every problem",
            )
        return cls(root, Manifest.model_validate({"package": package, "variants": {"generic": {}}}), plain=True)

    @property
    def name(self) -> str:
        return self.manifest.package.name

    @property
    def version(self) -> str:
        return self.manifest.package.version

    @property
    def targets(self) -> list[str]:
        return sorted(self.manifest.variants)

    def variant_files(self, target: str) -> dict[str, Path]:
        """The variant's tree as installed: relative posix path -> file on disk, sorted."""
        return self.variant_tree(target)[0]

    def variant_tree(self, target: str) -> tuple[dict[str, Path], list[str]]:
        """:meth:`variant_files`, and the hidden entries it leaves out (see :mod:`skillpm.validation.hidden`)."""
        from skillpm.validation.hidden import Named

        if self.plain:
            from skillpm.validation.tree import skill_dir_files

            found, skipped = skill_dir_files(self.root)
            return {path: Path(real) for path, real in sorted(found.items())}, skipped
        overlay = self.root / OVERLAYS_DIR / target
        use_overlay = overlay.is_dir() and not overlay.is_symlink()
        named = Named(self.root, *([overlay] if use_overlay else []))
        left_out: list[str] = []
        files = _walk(self.root, skip_top={MANIFEST_NAME, OVERLAYS_DIR}, named=named, left_out=left_out)
        if use_overlay:
            overlay_left: list[str] = []
            files.update(_walk(overlay, skip_top=set(), named=named, left_out=overlay_left))
            left_out += [f"{OVERLAYS_DIR}/{target}/{path}" for path in overlay_left]
        return dict(sorted(files.items())), sorted(left_out)


def choose_variant(targets: list[str], capability: Capability | None, *, target: str | None = None) -> str:
    """The variant to work on: ``target`` when named, else the one ``install`` would choose."""
    listed = ", ".join(targets)
    if target is not None:
        if target not in targets:
            raise ManifestError(f"the skill has no variant {target!r} (variants: {listed})")
        return target
    chosen = best_target(targets, capability)
    if chosen is None:
        gpu = f"compute capability {capability}" if capability else "a machine with no GPU (only generic applies)"
        raise ManifestError(
            f"no variant of the skill suits {gpu} (variants: {listed})",
            hint="choose a GPU with --arch or a variant with --target",
        )
    return chosen


def read_manifest_data(root: Path) -> dict[str, object]:
    """Parse ``root/skillpm.toml`` as TOML; raise ManifestError when absent or not TOML."""
    path = root / MANIFEST_NAME
    try:
        raw = read_at_most(path, MAX_MANIFEST_SIZE)
    except FileNotFoundError:
        raise ManifestError(
            f"{root} has no {MANIFEST_NAME}",
            hint=f"run 'skillpm init {root}' to create one",
        ) from None
    except (OSError, ValueError) as error:
        raise ManifestError(f"cannot read {path}: {problem(error)}") from None
    try:
        return parse_toml(raw)
    except ValueError as error:
        raise ManifestError(f"{path}: not valid TOML: {error}") from None


def _walk(top: Path, *, skip_top: set[str], named: Named, left_out: list[str]) -> dict[str, Path]:
    """Files under ``top`` (symlinks listed, not followed), skipping eval files and hidden names.

    A hidden name is kept when SKILL.md names it (``named``); each one skipped is added to ``left_out``.
    """
    from skillpm.validation.hidden import is_hidden

    found: dict[str, Path] = {}
    for directory, dirnames, filenames in os.walk(top):
        here = Path(directory)
        at_top = here == top
        prefix = "" if at_top else here.relative_to(top).as_posix() + "/"

        def kept(name: str) -> bool:
            if at_top and name in skip_top:
                return False
            if is_hidden(name) and not named.keeps(prefix + name):
                left_out.append(prefix + name)
                return False
            return True

        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in linked_dirs and kept(d))
        for filename in [*filenames, *linked_dirs]:
            if filename != EVAL_FILE and kept(filename):
                path = here / filename
                found[path.relative_to(top).as_posix()] = path
    return found


def schema() -> dict[str, object]:
    """The manifest's JSON Schema, as shipped in schemas/manifest.schema.json."""
    generated = Manifest.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://skillpm.dev/schemas/manifest.schema.json",
        "title": "skillpm.toml",
        **{key: value for key, value in generated.items() if key != "title"},
    }


if __name__ == "__main__":
    print(json.dumps(schema(), indent=2, sort_keys=True))
