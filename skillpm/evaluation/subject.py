"""What is evaluated: one variant of a skill source, its SKILL.md body, its test cases.

Reads the source: the variant ``install`` would choose for ``--arch`` (or the one
``--target`` names, or ``generic``), the artifact digest of the archive ``skillpm pack``
builds for it, and the cases of ``variants/<target>/skill_meta.json`` (else the
source's ``skill_meta.json``). Every problem in the cases is reported at once.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping

from skillpm.evaluation.cases import (
    EvalCase,
    Suite,
    parse_suite,
    suite_digest,
    system_prompt,
)
from skillpm.evaluation.checks import Check, CheckConfigError, PythonTest, checks_for
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.evidence import TestSet
from skillpm.evidence import SkillRef
from skillpm.jsonfile import parse_json
from skillpm.manifest import (
    EVAL_FILE,
    OVERLAYS_DIR,
    SKILL_MD,
    SkillSource,
    choose_variant,
)
from skillpm.reading import MAX_EVAL_FILE_SIZE, MAX_SKILL_MD_SIZE, problem, read_at_most
from skillpm.targets import parse_capability
from skillpm.validation.frontmatter import parse_skill_md


@dataclass(frozen=True)
class Subject:
    """A variant ready to evaluate: the prompt with the skill, the cases and their checks."""

    skill: SkillRef
    system_prompt: str
    cases: tuple[EvalCase, ...]
    checks: tuple[tuple[Check, ...], ...]  # per case
    scripts: Mapping[str, bytes]  # python_test scripts, by their path in the source
    test_set: TestSet
    tests_file: Path


def load_subject(root: Path, *, arch: str | None = None, target: str | None = None) -> Subject:
    """Read the source at ``root`` and prepare the chosen variant for evaluation."""
    source = SkillSource.load(root)
    chosen = choose_variant(source.targets, parse_capability(arch) if arch else None, target=target)
    files = source.variant_files(chosen)
    if SKILL_MD not in files:
        raise EvalError(f"the {chosen} variant of {source.name} has no {SKILL_MD}")
    parsed, _ = parse_skill_md(_read(files[SKILL_MD], MAX_SKILL_MD_SIZE), file=SKILL_MD)
    tests_file, suite = _read_suite(root, chosen)
    checks, problems = [], []
    for index, case in enumerate(suite.tests):
        try:
            checks.append(checks_for(case, target=chosen))
        except CheckConfigError as error:
            problems.append(f"tests.{index}: {error}")
    _raise_problems(tests_file, problems)
    scripts = _read_scripts(root, tests_file, checks)
    kinds = Counter(check.name for case_checks in checks for check in case_checks)
    return Subject(
        skill=SkillRef(source.name, source.version, chosen, artifact_sha256(root, chosen)),
        system_prompt=system_prompt(source.name, parsed.body),
        cases=suite.tests,
        checks=tuple(checks),
        scripts=scripts,
        test_set=TestSet(suite_digest(suite, scripts), len(suite.tests), dict(kinds)),
        tests_file=tests_file,
    )


def artifact_sha256(root: Path, target: str) -> str:
    """The sha256 of the archive ``skillpm pack`` builds for ``target`` (validating the source, as it does)."""
    from skillpm.pack import pack

    with tempfile.TemporaryDirectory(prefix="skillpm-eval-") as scratch:
        (built,) = pack(root, Path(scratch), targets=[target])
        return built.sha256


def _read_suite(root: Path, target: str) -> tuple[Path, Suite]:
    candidates = [root / OVERLAYS_DIR / target / EVAL_FILE, root / EVAL_FILE]
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        raise EvalError(
            f"no test cases for the {target} variant: neither {candidates[0]} nor {candidates[1]} exists",
            hint="write upskill-format test cases (see docs/evaluation.md)",
        )
    try:
        data = parse_json(_read(path, MAX_EVAL_FILE_SIZE))
    except ValueError as error:
        raise EvalError(f"{path}: {error}") from None
    suite, problems = parse_suite(data)
    _raise_problems(path, problems)
    assert suite is not None
    return path, suite


def _read_scripts(root: Path, tests_file: Path, checks: list[tuple[Check, ...]]) -> dict[str, bytes]:
    """The python_test scripts the cases name, read from inside the source."""
    scripts: dict[str, bytes] = {}
    problems = []
    top = root.resolve()
    for index, case_checks in enumerate(checks):
        for check in case_checks:
            if not isinstance(check, PythonTest) or check.script in scripts:
                continue
            relative = PurePosixPath(check.script)
            path = (root / relative).resolve()
            if relative.is_absolute() or not path.is_relative_to(top):
                problems.append(f"tests.{index}: script {check.script!r} is outside the skill source")
            elif not path.is_file():
                problems.append(f"tests.{index}: script {check.script!r} does not exist in {root}")
            else:
                scripts[check.script] = _read(path, MAX_EVAL_FILE_SIZE)
    _raise_problems(tests_file, problems)
    return scripts


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_at_most(path, limit)
    except (OSError, ValueError) as error:
        raise EvalError(f"cannot read {path}: {problem(error)}") from None


def _raise_problems(path: Path, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise EvalError(f"{path}: {problems[0]}{more}")
