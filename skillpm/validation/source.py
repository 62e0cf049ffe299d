"""Validate a path: a skill source (with skillpm.toml) or a plain Agent Skills directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillpm.errors import ManifestError
from skillpm.validation.discover import MANIFEST_NAME
from skillpm.validation.findings import Finding, Severity, error
from skillpm.validation.hidden import left_out_findings
from skillpm.validation.tree import SKILL_MD, validate_skill_dir, validate_tree

if TYPE_CHECKING:
    from skillpm.manifest import SkillSource


def validate_paths(
    paths: Sequence[Path], *, strict: bool = False, links_within: Path | None = None
) -> list[tuple[Path, list[Finding]]]:
    """Each skill ``paths`` hold (a folder of several is searched as :func:`discover` searches it), and its
    findings (:func:`validate_path`); two skills of one folder that install under one name, with other
    files, are a warning of each (``spec.name.shared``, :mod:`skillpm.validation.skillnames`), also when
    one of them only the deeper search finds (:func:`~skillpm.validation.discover.unlisted`)."""
    from skillpm.validation.discover import discover, unlisted

    reports = []
    for path in paths:
        skills = discover(path)
        others = unlisted(path, skills)
        shared = {}
        if len(skills) + len(others) > 1:
            from skillpm.validation.skillnames import shared_name_findings

            shared = shared_name_findings([*skills, *others], path)
        for skill in skills:
            findings = validate_path(skill, strict=strict, links_within=links_within)
            if skill in shared:
                findings = sorted([*findings, shared[skill]], key=Finding.sort_key)
            reports.append((skill, findings))
    return reports


def validate_path(
    path: Path, *, strict: bool = False, links_within: Path | None = None, leave_out: frozenset[str] = frozenset()
) -> list[Finding]:
    """Every finding for ``path``: a skill source's manifest and each variant, or a plain skill; only that it is a
    link, when it is one (:func:`~skillpm.containment.folder_link`).

    ``links_within``: a folder links to files may also lead into (:func:`validate_tree`); ``leave_out``: relative
    paths its trees leave out without a word (``pack``'s output folder).
    """
    from skillpm.containment import folder_link

    linked = folder_link(path)
    if linked is not None:
        return [error(".", None, "tree.root", f"{linked[0]}; {linked[1]}")]
    if (path / MANIFEST_NAME).is_file():
        return validate_source(path, strict=strict, links_within=links_within, leave_out=leave_out)
    findings = validate_skill_dir(path, strict=strict, links_within=links_within, leave_out=leave_out)
    skill_meta = path / "skill_meta.json"  # skillpm.manifest.EVAL_FILE, whose module validating a plain skill never loads
    if (path / SKILL_MD).is_file() and skill_meta.is_file():
        findings = sorted([*findings, *_unusable_tests(path, skill_meta)], key=Finding.sort_key)
    return findings


def validate_source(
    root: Path, *, strict: bool = False, links_within: Path | None = None, leave_out: frozenset[str] = frozenset()
) -> list[Finding]:
    """The manifest's findings, then each variant's tree as it will be installed, and the files git ignores."""
    from skillpm.manifest import SkillSource, checked_manifest, read_manifest_data
    from skillpm.validation.gitignored import ignored_findings

    try:
        data = read_manifest_data(root)
    except ManifestError as problem:
        return [error(MANIFEST_NAME, None, "manifest.toml", problem.message)]
    manifest, problems = checked_manifest(data)
    if manifest is None:
        return [error(MANIFEST_NAME, None, "manifest.schema", f"{where}: {message}") for where, message in problems]
    source = SkillSource(root, manifest, leave_out=leave_out)
    findings: set[Finding] = set()
    on_disk: set[Path] = set()
    for target in source.targets:
        files, left_out = source.variant_tree(target)
        on_disk.update(files.values())
        findings.update(validate_tree(files, root=root, dir_name=source.name, strict=strict,
                                      links_within=links_within))
        findings.update(left_out_findings(left_out))
        findings.update(_unusable_tests(root, source.skill_meta(target)))
    findings.update(_overlay_findings(source))
    findings.update(ignored_findings(root, sorted(on_disk)))
    return sorted(findings, key=Finding.sort_key)


def _unusable_tests(root: Path, path: Path | None) -> list[Finding]:
    """A warning when ``path``, a variant's skill_meta.json, is not test cases 'skillpm eval' can read (not JSON,
    cases of the wrong shape): pack then records no test-set digest, so no evidence can name the tests it ran.
    Only the file's JSON and schema are checked here (cheap); pack and eval check the rest (evals/evals.json,
    validators' settings, the scripts cases run)."""
    if path is None:
        return []
    from skillpm.evaluation.cases import parse_suite
    from skillpm.jsonfile import parse_json
    from skillpm.reading import MAX_EVAL_FILE_SIZE, problem, read_inside

    try:
        problems = parse_suite(parse_json(read_inside(path.parent, path.name, MAX_EVAL_FILE_SIZE)))[1]
    except (OSError, ValueError) as error:
        problems = [problem(error)]
    if not problems:
        return []
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return [Finding(path.relative_to(root).as_posix(), None, "tests.unusable", Severity.WARNING,
                    f"{problems[0]}{more}: 'skillpm eval' cannot read these test cases, and pack records no "
                    "test-set digest for evidence to name")]


def _overlay_findings(source: SkillSource) -> list[Finding]:
    """An overlay no variant uses (a warning), and one a variant would use but that is not a real folder (an error:
    the variant would be packed with the generic files instead, without a word)."""
    from skillpm.containment import resolves_inside
    from skillpm.manifest import OVERLAYS_DIR

    overlays = source.root / OVERLAYS_DIR
    # A variants/ linked out of the source is not listed: its files are reported as links out of the source.
    if not overlays.is_dir() or not resolves_inside(overlays, source.root):
        return []
    findings = []
    for child in sorted(overlays.iterdir()):
        where = f"{OVERLAYS_DIR}/{child.name}"
        if child.name not in source.manifest.variants:
            if child.is_dir():
                findings.append(Finding(where, None, "manifest.overlay-unused", Severity.WARNING,
                                        f"{where}/ is not a variant in {MANIFEST_NAME}; it is never packed"))
        elif child.is_symlink() or not child.is_dir():
            what = "a link" if child.is_symlink() else "not a folder"
            findings.append(error(where, None, "manifest.overlay-link",
                                  f"{where} is {what}; a variant's overlay must be a real folder, or the "
                                  f"{child.name} variant would be packed without it (copy the files in)"))
    return findings
