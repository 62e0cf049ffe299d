"""Build a skill source's variant archives (validating it first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skillpm.archive import BuiltArchive, build_archive, write_archive
from skillpm.errors import ManifestError, ValidationFailed
from skillpm.manifest import EVALS_FILE, SkillSource
from skillpm.validation import Finding, Severity
from skillpm.validation.source import validate_path

#: The warnings of validation that pack tells as it goes: what the archives leave out, or hold that may not belong.
PACK_WARNINGS = frozenset({"tree.left-out", "tree.link-duplicate", "tree.git-ignored"})


def pack(
    source_dir: Path,
    out_dir: Path,
    *,
    targets: list[str] | None = None,
    warn: Callable[[Finding], None] | None = None,
    links_within: Path | None = None,
) -> list[BuiltArchive]:
    """Validate ``source_dir`` and write one reproducible archive per variant into ``out_dir``.

    ``source_dir`` is a skill source, or a plain SKILL.md folder (its manifest derived from the
    front matter, as ``init --from`` writes it). ``targets`` limits the variants built; by
    default all are. ``warn`` is called with each warning a user packing should see: a hidden entry
    or the output folder (inside ``source_dir``) left out (``tree.left-out``), a link to a folder dropped
    (``tree.link-duplicate``), a file git ignores (``tree.git-ignored``), test cases that cannot be read, so that no test-set digest is
    recorded (``tests.unusable``, worded as ``skillpm eval`` would say it).
    A file that is a link is packed as the bytes it leads to, which must lie inside ``source_dir``
    or inside ``links_within`` (:func:`~skillpm.validation.tree.validate_tree`).
    """
    warn = warn or (lambda finding: None)
    out = _output_inside(source_dir, out_dir)
    source = SkillSource.load_or_derive(source_dir, leave_out=frozenset(filter(None, [out])))
    findings = validate_path(source_dir, links_within=links_within, leave_out=source.leave_out)
    if out:
        warn(Finding(out, None, "tree.left-out", Severity.WARNING,
                     f"{out!r} is left out of the archives: it is the folder they are written to (-o)"))
    for finding in findings:
        if finding.rule in PACK_WARNINGS and not finding.is_error:
            warn(finding)
    errors = [finding for finding in findings if finding.is_error]
    if errors:
        raise ValidationFailed(
            f"{source_dir} is not a valid skill: {errors[0]}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            hint=f"run 'skillpm validate {source_dir}' to see every problem",
        )
    chosen = targets or source.targets
    unknown = sorted(set(chosen) - set(source.targets))
    if unknown:
        raise ManifestError(
            f"{source.name} has no variant {', '.join(unknown)} (variants: {', '.join(source.targets)})"
        )
    package = source.manifest.package
    built = []
    for target in sorted(chosen):
        fields = {
            "name": package.name,
            "version": package.version,
            "target": target,
            "description": package.description,
            "license": package.license,
            "authors": package.authors,
            "keywords": package.keywords,
            "agents": package.agents,
        }
        files = source.variant_files(target)
        test_set = _test_set(source, target, files, warn)
        data, metadata = build_archive({**fields, "test_set": test_set}, files)
        built.append(write_archive(out_dir, data, metadata))
    return built


def _output_inside(source_dir: Path, out_dir: Path) -> str | None:
    """``out_dir`` relative to ``source_dir`` (posix) when it is there inside it, else None (``pack .`` writes
    ./dist, which the next ``pack .`` would otherwise pack); ManifestError when it is ``source_dir`` itself."""
    source, out = source_dir.resolve(), out_dir.resolve()
    if out == source:
        raise ManifestError(f"{out_dir} is the skill folder itself; its archives would be packed into the next ones",
                            hint="write them elsewhere with -o DIR (the default is ./dist)")
    return out.relative_to(source).as_posix() if out.is_relative_to(source) and out.is_dir() else None


def _test_set(source: SkillSource, target: str, files: dict[str, Path], warn: Callable[[Finding], None]) -> str | None:
    """The digest of the variant's test cases, which the archive records but never holds; ``None``
    without test files (checked first, so packing a skill without them imports no test code) or
    when they cannot be read, which ``warn`` is told."""
    if not source.has_test_files(target, files):
        return None
    from skillpm.evaluation.errors import EvalError
    from skillpm.evaluation.subject import variant_test_set

    try:
        return variant_test_set(source.root, target, files)
    except EvalError as error:
        file = source.skill_meta(target)
        where = file.relative_to(source.root).as_posix() if file is not None else EVALS_FILE
        variant = f"the {target} variant: " if len(source.targets) > 1 else ""
        warn(Finding(where, None, "tests.unusable", Severity.WARNING,
                     f"{variant}{error.message}; no test-set digest is recorded, so no evidence can name the tests "
                     "it ran"))
        return None
