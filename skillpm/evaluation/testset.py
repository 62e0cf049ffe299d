"""A variant's test set: where its cases come from, their checks, and the digest that names it.

Pure: files are read through ``read`` (a posix path relative to the variant's tree, as the
source lays it out, to its bytes, or ``None`` when there is no such file). The cases are
upskill's ``skill_meta.json`` tests; when that file is absent or its ``tests`` list is empty,
agentskills.io's ``evals/evals.json`` (see :mod:`skillpm.evaluation.agentskills`).

The digest is sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"tests": [...], "scripts": {path: sha256}}`` for skill_meta.json (each test as upskill's
model holds it, unset fields left out) and of ``{"evals": [...], "files": {path: sha256},
"scripts": {path: sha256}}`` for evals.json (each eval as the file holds it).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import PurePosixPath
from typing import Callable, Mapping

from skillpm.evaluation.agentskills import parse_evals
from skillpm.evaluation.cases import MAX_CASES, EvalCase, canonical_json, case_json, parse_suite
from skillpm.evaluation.checks import VALIDATORS, Check, CheckConfigError, PythonTest, checks_for
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.evidence import TestSet
from skillpm.jsonfile import parse_json
from skillpm.manifest import EVAL_FILE, EVALS_FILE
from skillpm.records import Record

#: How a test file of the variant is read: relative path -> bytes, or None when it is absent.
Reader = Callable[[str], "bytes | None"]

HOW_TO_ADD = (
    'add cases to the "tests" list of skill_meta.json, e.g. {"input": "...", "expected": {"contains": ["..."]}}, '
    "or write evals/evals.json (see docs/evaluation.md)"
)


class Tests(Record):
    """The cases of one variant, ready to run: checks per case, the scripts they run, the test set."""

    __test__ = False  # not a pytest class

    file: str  # the file the cases came from, relative to the source
    cases: tuple[EvalCase, ...]
    checks: tuple[tuple[Check, ...], ...]
    scripts: Mapping[str, bytes]
    test_set: TestSet
    ungraded: tuple[str, ...]  # evals.json evals with no check skillpm can decide
    warnings: tuple[str, ...]


def load_tests(read: Reader, *, target: str, name: Callable[[str], str] = str) -> Tests:
    """The variant's test cases; EvalError naming the file (as ``name`` calls it) for every problem."""
    upskill = read(EVAL_FILE)
    if upskill is not None:
        suite, problems = parse_suite(_json(upskill, name(EVAL_FILE)))
        _raise(name(EVAL_FILE), problems)
        assert suite is not None
        if len(suite.tests) > MAX_CASES:
            _raise(name(EVAL_FILE), [f"tests: {len(suite.tests):,} tests, more than the {MAX_CASES:,} skillpm reads"])
        if suite.tests:
            document: dict[str, object] = {"tests": [case_json(case) for case in suite.tests]}
            return _prepared(read, name(EVAL_FILE), suite.tests, (), document, target)
    evals = read(EVALS_FILE)
    if evals is not None:
        parsed = parse_evals(_json(evals, name(EVALS_FILE)), read)
        _raise(name(EVALS_FILE), parsed.problems)
        if parsed.cases:
            document = {"evals": parsed.raw, "files": parsed.files}
            return _prepared(read, name(EVALS_FILE), parsed.cases, parsed.ungraded, document, target)
    if upskill is None and evals is None:
        raise EvalError(
            f"no test cases for the {target} variant: it has neither {name(EVAL_FILE)} nor {name(EVALS_FILE)}",
            hint=HOW_TO_ADD,
        )
    empty = name(EVAL_FILE if upskill is not None else EVALS_FILE)
    raise EvalError(f"{empty} has no test cases: there is nothing to evaluate", hint=HOW_TO_ADD)


def _prepared(
    read: Reader,
    file: str,
    cases: tuple[EvalCase, ...],
    ungraded: tuple[str, ...],
    document: dict[str, object],
    target: str,
) -> Tests:
    checks, problems = [], []
    label = "evals" if "evals" in document else "tests"
    for index, case in enumerate(cases):
        try:
            checks.append(checks_for(case, target=target))
        except CheckConfigError as error:
            problems.append(f"{label}.{index}: {error}")
    _raise(file, problems)
    scripts = _scripts(read, file, label, checks)
    digest = hashlib.sha256(canonical_json({**document, "scripts": _digests(scripts)})).hexdigest()
    kinds = Counter(check.name for case_checks in checks for check in case_checks)
    return Tests(
        file=file,
        cases=cases,
        checks=tuple(checks),
        scripts=scripts,
        test_set=TestSet(digest, len(cases), dict(kinds)),
        ungraded=ungraded,
        warnings=_fallbacks(file, cases),
    )


def _fallbacks(file: str, cases: tuple[EvalCase, ...]) -> tuple[str, ...]:
    """One warning per validator skillpm does not know, and one for ``output_file`` cases: upskill
    checks ``expected.contains`` on the answer for them, and so does skillpm."""
    unknown: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        if case.validator is not None and case.validator not in VALIDATORS:
            unknown.setdefault(case.validator, []).append(index)
    lines = [
        f"warning: {file}: skillpm has no validator {name!r} (test(s) {_indexes(indexes)}): "
        "checking expected.contains on the answer instead, as upskill does for a validator it does not know"
        for name, indexes in unknown.items()
    ]
    with_file = [index for index, case in enumerate(cases) if case.output_file is not None]
    if with_file:
        lines.append(
            f"warning: {file}: test(s) {_indexes(with_file)} name an output_file, which a chat completion never "
            "writes: their checks read the answer instead"
        )
    return tuple(lines)


def _scripts(read: Reader, file: str, label: str, checks: list[tuple[Check, ...]]) -> dict[str, bytes]:
    """The python_test scripts the cases name, read from the variant's tree."""
    scripts: dict[str, bytes] = {}
    problems = []
    for index, case_checks in enumerate(checks):
        for check in case_checks:
            if not isinstance(check, PythonTest) or check.script in scripts:
                continue
            relative = PurePosixPath(check.script)
            data = None if relative.is_absolute() or ".." in relative.parts else read(relative.as_posix())
            if data is None:
                problems.append(f"{label}.{index}: script {check.script!r} is not a file of the skill source")
            else:
                scripts[check.script] = data
    _raise(file, problems)
    return scripts


def _digests(files: Mapping[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())}


def _indexes(indexes: list[int]) -> str:
    return ", ".join(str(index) for index in indexes)


def _json(data: bytes, path: str) -> object:
    try:
        return parse_json(data)
    except ValueError as error:
        raise EvalError(f"{path}: {error}") from None


def _raise(path: str, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise EvalError(f"{path}: {problems[0]}{more}")
