"""What is evaluated: one variant of a skill source, its SKILL.md body, its test cases.

Reads the source: the variant ``install`` would choose for ``--arch`` (or the one
``--target`` names, or ``generic``), the artifact digest of the archive ``skillpm pack``
builds for it, and its test cases (:mod:`skillpm.evaluation.testset`):
``variants/<target>/skill_meta.json`` (else the source's ``skill_meta.json``), else the
variant's ``evals/evals.json``. Every problem in the cases is reported at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Mapping

from skillpm.evaluation.cases import system_prompt
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.evidence import TestSet
from skillpm.evaluation.testset import Reader, load_tests
from skillpm.evidence import SkillRef
from skillpm.manifest import EVAL_FILE, OVERLAYS_DIR, SKILL_MD, SkillSource, choose_variant
from skillpm.reading import MAX_EVAL_FILE_SIZE, MAX_SKILL_MD_SIZE, problem, read_at_most
from skillpm.records import Record
from skillpm.targets import parse_capability
from skillpm.validation.frontmatter import parse_skill_md

if TYPE_CHECKING:
    from skillpm.evaluation.cases import EvalCase
    from skillpm.evaluation.checks import Check


class Subject(Record):
    """A variant ready to evaluate: the prompt with the skill, the cases and their checks."""

    skill: SkillRef
    system_prompt: str
    cases: tuple[EvalCase, ...]
    checks: tuple[tuple[Check, ...], ...]  # per case
    scripts: Mapping[str, bytes]  # python_test scripts, by their path in the variant's tree
    test_set: TestSet
    tests_file: str  # where the cases came from
    ungraded: tuple[str, ...] = ()  # evals.json evals no check of skillpm's can decide
    warnings: tuple[str, ...] = ()  # validators skillpm does not know, output_file cases


def load_subject(
    root: Path, *, arch: str | None = None, target: str | None = None, links_within: Path | None = None
) -> Subject:
    """Read the source at ``root`` (or a plain SKILL.md folder, as ``pack`` reads it, its links to files
    allowed into ``links_within``) and prepare the chosen variant for evaluation."""
    source = SkillSource.load_or_derive(root)
    chosen = choose_variant(source.targets, parse_capability(arch) if arch else None, target=target)
    # First, as pack does: an invalid source (a linked overlay, which variant_files passes over; a variant
    # without SKILL.md) is refused for what is wrong with it before its files are read.
    sha256 = artifact_sha256(root, chosen, links_within)
    files = source.variant_files(chosen)
    parsed, _ = parse_skill_md(_read(files[SKILL_MD], MAX_SKILL_MD_SIZE), file=SKILL_MD)
    read, name = test_reader(root, chosen, files)
    tests = load_tests(read, target=chosen, name=name)
    return Subject(
        skill=SkillRef(source.name, source.version, chosen, sha256),
        system_prompt=system_prompt(source.name, parsed.body),
        cases=tests.cases,
        checks=tests.checks,
        scripts=tests.scripts,
        test_set=tests.test_set,
        tests_file=tests.file,
        ungraded=tests.ungraded,
        warnings=tests.warnings,
    )


def test_reader(root: Path, target: str, files: Mapping[str, Path]) -> tuple[Reader, Callable[[str], str]]:
    """How the variant's test files are read, and named in messages: skill_meta.json, and files in a
    hidden folder such as ``.eval/`` (test scripts that are never packed), from the variant's overlay,
    else the top; any other (evals/evals.json, the files and scripts the cases name) from the
    variant's tree (``files``)."""

    def where(relative: str) -> Path | None:
        if relative == EVAL_FILE or (relative not in files and _test_only(relative)):
            candidates = [root / OVERLAYS_DIR / target / relative, root / relative]
            return next((candidate for candidate in candidates if candidate.is_file()), None)
        return files.get(relative)

    return (lambda relative: _read_test_file(root, where(relative))), (lambda relative: str(where(relative) or root / relative))


def _test_only(relative: str) -> bool:
    """Whether ``relative`` lies in a hidden folder (``.eval/check.py``), which pack leaves out; never a VCS folder."""
    from skillpm.containment import vcs_component

    parts = PurePosixPath(relative).parts
    return (len(parts) > 1 and parts[0].startswith(".") and ".." not in parts
            and vcs_component(PurePosixPath(relative)) is None)


def variant_test_set(root: Path, target: str, files: Mapping[str, Path]) -> str:
    """The digest of the variant's test set, for ``pack`` to record; EvalError, naming the file and
    what is wrong, when there are no cases or they cannot be read as ``skillpm eval`` reads them."""
    read, _ = test_reader(root, target, files)
    return load_tests(read, target=target).test_set.digest


def artifact_sha256(root: Path, target: str, links_within: Path | None = None) -> str:
    """The sha256 of the archive ``skillpm pack`` builds for ``target`` (validating the source, as it does)."""
    from skillpm.pack import pack

    with tempfile.TemporaryDirectory(prefix="skillpm-eval-") as scratch:
        (built,) = pack(root, Path(scratch), targets=[target], links_within=links_within)
        return built.sha256


def _read_test_file(root: Path, path: Path | None) -> bytes | None:
    """A test file's bytes (bounded), ``None`` when absent; refused when it resolves outside the source."""
    if path is None:
        return None
    from skillpm.containment import resolves_inside

    if not resolves_inside(path, root):
        raise EvalError(f"{path} is outside the skill source", hint="test files must be files of the skill, not links out of it")
    return _read(path, MAX_EVAL_FILE_SIZE)


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_at_most(path, limit)
    except (OSError, ValueError) as error:
        raise EvalError(f"cannot read {path}: {problem(error)}") from None
