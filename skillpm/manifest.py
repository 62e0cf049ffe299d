"""The skill source format: ``skillpm.toml`` and how each variant's tree is assembled.

docs/manifest.md describes the format and schemas/manifest.schema.json is its JSON Schema,
which :func:`manifest_errors` checks with jsonschema-rs; the few rules a schema cannot
state (a PEP 440 version, a known GPU target per variant) are checked here. No pydantic
(issue 18, start-up): the records are :mod:`skillpm.records` records, built only from a
manifest that passed.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from skillpm.errors import ManifestError, TargetError
from skillpm.records import Record
from skillpm.targets import Capability, best_target, family_members, parse_target
from skillpm.reading import MAX_MANIFEST_SIZE, problem, read_inside
from skillpm.spelling import is_plain_version

if TYPE_CHECKING:
    from packaging.version import Version

    from skillpm.validation.hidden import Named

MANIFEST_NAME = "skillpm.toml"
SKILL_MD = "SKILL.md"
OVERLAYS_DIR = "variants"
EVAL_FILE = "skill_meta.json"
EVALS_FILE = "evals/evals.json"  # agentskills.io's test cases (packed, unlike skill_meta.json)
SCHEMA_FILE = "manifest.schema.json"

#: The order of the fields skillpm reports problems in (:func:`skillpm.fieldproblems.field_order`).
_FIELD_ORDER: dict[tuple[str, ...], tuple[str, ...]] = {
    (): ("package", "variants"),
    ("package",): ("name", "version", "description", "license", "authors", "keywords", "agents"),
}


#: The deepest the schema looks: ``package.keywords.0`` is depth 3 (the document is 0).
_DEEPEST = 3


class PackageTable(Record):
    """The ``[package]`` table."""

    name: str
    version: str  # PEP 440
    description: str
    license: str | None = None
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()  # skillpm.agents' names and aliases


class Manifest(Record):
    """The whole of ``skillpm.toml``: the package and its variants (GPU target -> its table, always empty)."""

    package: PackageTable
    variants: Mapping[str, Mapping[str, Any]]


def manifest_errors(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Check parsed TOML against the manifest's schema and rules: ``(field path, reason)`` pairs, in field order."""
    from skillpm import schemacheck
    from skillpm.fieldproblems import field_order, schema_problems
    from skillpm.resources import shipped

    try:
        broken = schemacheck.errors(shipped("schemas") / SCHEMA_FILE, _json_like(data))
    except schemacheck.SchemaUnusable as error:  # a broken installation, not the user's file
        raise ManifestError(f"cannot check {MANIFEST_NAME}: {error}", hint="reinstall skillpm") from None
    # propertyNames states parse_target's rule; parse_target words it (below).
    found = schema_problems(error for error in broken if error.keyword != "propertyNames")
    package, variants = data.get("package"), data.get("variants")
    if isinstance(package, Mapping) and isinstance(package.get("version"), str):
        reason = _version_problem(package["version"])
        if reason:
            found.append((("package", "version"), reason))
    for key in variants if isinstance(variants, Mapping) else ():
        try:
            target = parse_target(key)
        except TargetError as error:
            found.append((("variants",), error.message))
            continue
        if target.suffix == "f" and not family_members(target):  # sm_90f: installed on no GPU (resolution.md)
            baseline = f"sm_{target.major}{target.minor}"
            found.append((("variants",), f"{key!r} names no GPU family (family-specific targets begin with "
                                         f"sm_100f), so no GPU would be given this variant: use {baseline} or {baseline}a"))
    found.sort(key=lambda item: field_order(item[0], data, _FIELD_ORDER))
    return [(".".join(map(str, path)) or "(root)", reason) for path, reason in found]


def checked_manifest(data: Mapping[str, Any]) -> tuple[Manifest | None, list[tuple[str, str]]]:
    """The :class:`Manifest` of parsed TOML and no problems, or None and every one of :func:`manifest_errors`."""
    problems = manifest_errors(data)
    if problems:
        return None, problems
    package = {key: tuple(value) if isinstance(value, list) else value for key, value in data["package"].items()}
    empty: Mapping[str, Any] = MappingProxyType({})
    return Manifest(PackageTable(**package), MappingProxyType({target: empty for target in data["variants"]})), []


def parse_manifest(data: Mapping[str, Any]) -> Manifest:
    """The :class:`Manifest` of parsed TOML; raise ManifestError with the first of :func:`manifest_errors`."""
    manifest, problems = checked_manifest(data)
    if manifest is None:
        where, reason = problems[0]
        raise ManifestError(f"{where}: {reason}")
    return manifest


def _version_problem(version: str) -> str | None:
    if is_plain_version(version):  # PEP 440 and public, told without compiling packaging's grammar
        return None
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except (InvalidVersion, ValueError):  # ValueError: more digits than Python turns into an int
        shown = repr(version) if len(version) <= 80 else f"{version[:80]!r}... ({len(version)} characters)"
        return f"{shown} is not a PEP 440 version"
    return local_label_problem(parsed)


def local_label_problem(version: Version) -> str | None:
    """Why a skill may not be published as ``version``: it has a local label (``1.0.0+evil``), which PEP 440
    keeps off shared indexes and which ``==1.0.0`` would match; ``None`` for a public version."""
    if version.local is None:
        return None
    public = version.public if len(version.public) <= 40 else version.public[:40] + "..."
    label = version.local if len(version.local) <= 40 else version.local[:40] + "..."
    return (f"{public}+{label} has a local version label ('+{label}'), which registries do not take (PEP 440): "
            f"use a public version such as {public} or {public}.post1")


def _json_like(document: Any) -> Any:
    """``document`` as jsonschema-rs takes it, every problem left where it stands.

    What JSON has no type for (TOML's dates and times, NaN, infinities) becomes None, which the
    schema accepts nowhere ("must be a string" as before); so do tables and arrays deeper than
    :data:`_DEEPEST`, where the schema never looks, as jsonschema-rs refuses a document nested
    a few hundred deep (TOML allows more). Iterative, for the same reason.
    """
    top = [document]
    pending: list[tuple[Any, Any, int]] = [(top, 0, 0)]
    while pending:
        holder, at, depth = pending.pop()
        value = holder[at]
        if isinstance(value, (dict, list)) and depth > _DEEPEST:
            holder[at] = None
        elif isinstance(value, dict):
            holder[at] = value = dict(value)
            pending.extend((value, key, depth + 1) for key in value)
        elif isinstance(value, list):
            holder[at] = value = list(value)
            pending.extend((value, index, depth + 1) for index in range(len(value)))
        elif not isinstance(value, (str, int)) and not (isinstance(value, float) and math.isfinite(value)):
            holder[at] = None
    return top[0]


class SkillSource:
    """A skill source directory: its manifest and the file tree of each variant.

    ``plain`` marks a folder with no skillpm.toml whose manifest was derived from SKILL.md
    (:meth:`load_or_derive`): its one ``generic`` variant is the folder as ``validate`` walks it.
    """

    def __init__(self, root: Path, manifest: Manifest, *, plain: bool = False, leave_out: frozenset[str] = frozenset()) -> None:
        self.root = root
        self.manifest = manifest
        self.plain = plain
        #: Relative posix paths its trees leave out without a word (``pack``'s output folder, which pack reports).
        self.leave_out = leave_out

    @classmethod
    def load(cls, root: Path, *, leave_out: frozenset[str] = frozenset()) -> SkillSource:
        """Read ``root/skillpm.toml``; raise ManifestError when it is absent or invalid, or ``root`` is a link."""
        check_not_linked(root)
        data = read_manifest_data(root)
        try:
            manifest = parse_manifest(data)
        except ManifestError as error:
            raise ManifestError(
                f"{root / MANIFEST_NAME}: {error.message}", hint=f"run 'skillpm validate {root}' to see every problem"
            ) from None
        return cls(root, manifest, leave_out=leave_out)

    @classmethod
    def load_or_derive(cls, root: Path, *, leave_out: frozenset[str] = frozenset()) -> SkillSource:
        """:meth:`load`, or for a plain SKILL.md folder a manifest derived as ``init --from`` writes it."""
        check_not_linked(root)
        if (root / MANIFEST_NAME).exists() or not (root / SKILL_MD).is_file():
            return cls.load(root, leave_out=leave_out)
        from skillpm.init import derive_package

        package = {key: value for key, value in derive_package(root).items() if value is not None}
        try:
            manifest = parse_manifest({"package": package, "variants": {"generic": {}}})
        except ManifestError as error:
            raise ManifestError(
                f"{root / SKILL_MD}: its front matter does not make a package: {error.message}",
                hint=f"run 'skillpm validate {root}' to see every problem",
            ) from None
        return cls(root, manifest, plain=True, leave_out=leave_out)

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

    def skill_meta(self, target: str) -> Path | None:
        """The variant ``target``'s skill_meta.json: its overlay's, else the top one; None when neither is a file."""
        overlay = self.root / OVERLAYS_DIR / target / EVAL_FILE
        return next((path for path in (overlay, self.root / EVAL_FILE) if path.is_file()), None)

    def has_test_files(self, target: str, files: Mapping[str, Path]) -> bool:
        """Whether the variant ``target`` (whose tree is ``files``) has test cases to read: a skill_meta.json
        (:meth:`skill_meta`), or evals/evals.json in its tree (told without importing any test code)."""
        return self.skill_meta(target) is not None or EVALS_FILE in files

    def variant_tree(self, target: str) -> tuple[dict[str, Path], list[str]]:
        """:meth:`variant_files`, and the hidden entries it leaves out (see :mod:`skillpm.validation.hidden`)."""
        from skillpm.validation.hidden import Named

        if self.plain:
            from skillpm.validation.folder import walk_skill_folder

            tree = walk_skill_folder(self.root, leave_out=self.leave_out)
            return {path: Path(real) for path, real in sorted(tree.files.items())}, tree.left_out
        overlay = self.root / OVERLAYS_DIR / target
        use_overlay = overlay.is_dir() and not overlay.is_symlink()
        named = Named(self.root, *([overlay] if use_overlay else []))
        left_out: list[str] = []
        files = _walk(self.root, skip={MANIFEST_NAME, OVERLAYS_DIR, EVAL_FILE, *self.leave_out}, named=named,
                      left_out=left_out)
        if use_overlay:
            overlay_left: list[str] = []
            files.update(_walk(overlay, skip={EVAL_FILE}, named=named, left_out=overlay_left))
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


def check_not_linked(root: Path) -> None:
    """Raise ManifestError when the skill folder ``root`` is itself a link (:func:`~skillpm.containment.folder_link`)."""
    from skillpm.containment import folder_link

    problem = folder_link(root)
    if problem is not None:
        message, hint = problem
        raise ManifestError(message, hint=hint)


def read_manifest_data(root: Path) -> dict[str, object]:
    """Parse ``root/skillpm.toml`` as TOML; raise ManifestError when absent or not TOML."""
    from skillpm.tomlfile import parse_toml  # here: init and pack of a plain folder read no TOML

    path = root / MANIFEST_NAME
    try:
        raw = read_inside(root, MANIFEST_NAME, MAX_MANIFEST_SIZE)
    except FileNotFoundError:
        plain = (root / SKILL_MD).is_file()
        hint = f"'skillpm init --from {root}' adopts its SKILL.md" if plain else f"'skillpm init {root}' makes one"
        raise ManifestError(f"{root} has no {MANIFEST_NAME}", hint=hint) from None
    except (OSError, ValueError) as error:
        raise ManifestError(f"cannot read {path}: {problem(error)}") from None
    try:
        return parse_toml(raw)
    except ValueError as error:
        raise ManifestError(f"{path}: not valid TOML: {error}") from None


def _walk(top: Path, *, skip: set[str], named: Named, left_out: list[str]) -> dict[str, Path]:
    """Files under ``top`` (symlinks listed, not followed), skipping the relative posix paths ``skip`` and hidden names.

    A hidden name is kept when SKILL.md names it (``named``); each one skipped is added to ``left_out``.
    """
    from skillpm.validation.hidden import is_hidden

    from skillpm.walking import walk

    found: dict[str, Path] = {}
    for directory, dirnames, filenames in walk(top):
        here = Path(directory)
        at_top = here == top
        prefix = "" if at_top else here.relative_to(top).as_posix() + "/"

        def kept(name: str) -> bool:
            if prefix + name in skip:
                return False
            if is_hidden(name) and not named.keeps(prefix + name):
                left_out.append(prefix + name)
                return False
            return True

        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if d not in linked_dirs and kept(d))
        for filename in [*filenames, *linked_dirs]:
            if kept(filename):
                path = here / filename
                found[path.relative_to(top).as_posix()] = path
    return found
