"""Test cases in agentskills.io's ``evals/evals.json``, as upskill-format cases.

The format (https://agentskills.io/skill-creation/evaluating-skills; agentskills/agentskills
``docs/skill-creation/evaluating-skills.mdx``, and anthropics/skills
``skills/skill-creator/references/schemas.md``)::

    {"skill_name": "csv-analyzer",
     "evals": [{"id": 1, "prompt": "...", "expected_output": "...",
                "files": ["evals/files/sales.csv"], "expectations": ["The output ...", ...]}]}

Each eval becomes a case: ``prompt`` is the user message and each of ``files`` (paths in the
skill) is shown with it as a fenced block, as upskill shows ``context.files``. Its
``expected_output`` and ``expectations`` are sentences for a grader (an LLM or a person),
which skillpm cannot decide; an eval may carry upskill's ``expected`` (and ``validator``,
``validator_config``) beside them, and then skillpm checks those. Evals without are listed
as ungraded. Pure: files are read through ``read``.
"""

from __future__ import annotations

from typing import Any, Callable

from skillpm.evaluation.cases import EvalCase, parse_case
from skillpm.records import Record

#: upskill's fields an eval may carry so that skillpm can check it.
UPSKILL_KEYS = ("expected", "validator", "validator_config")


class ParsedEvals(Record):
    """The evals as cases, the file's own list (for the digest), the files they show, and what is wrong."""

    cases: tuple[EvalCase, ...]
    raw: list[Any]
    files: dict[str, str]  # path -> sha256 of the files the evals show
    ungraded: tuple[str, ...]  # "evals.N (id X)" of evals with no check skillpm can decide
    problems: list[str]


def parse_evals(data: object, read: Callable[[str], bytes | None]) -> ParsedEvals:
    """Read a parsed evals.json; every problem is reported (``evals.N: ...``), none raised."""
    import hashlib

    evals = data.get("evals") if isinstance(data, dict) else None
    if not isinstance(evals, list):
        return ParsedEvals((), [], {}, (), ['(root): needs an "evals" list'])
    cases, files, ungraded, problems = [], {}, [], []
    for index, item in enumerate(evals):
        where = f"evals.{index}"
        if not isinstance(item, dict) or not isinstance(item.get("prompt"), str) or not item["prompt"].strip():
            problems.append(f"{where}: needs a \"prompt\" (the user's message)")
            continue
        shown: dict[str, str] = {}
        paths = item.get("files", [])
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            problems.append(f"{where}.files: must be a list of paths in the skill")
            continue
        for path in paths:
            text, problem = _text(path, read)
            if problem:
                problems.append(f"{where}.files: {problem}")
            else:
                shown[path] = text
                files[path] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        graded = "expected" in item
        fields = {key: item[key] for key in UPSKILL_KEYS if key in item}
        case, case_problems = parse_case(
            {"input": item["prompt"], "context": {"files": shown} if shown else None,
             "expected": {"contains": []}, **fields}
        )
        if case is None:
            problems.append(f"{where}.{case_problems[0]}")
            continue
        cases.append(case)
        if not graded:
            ungraded.append(f"{where}" + (f" (id {item['id']})" if "id" in item else ""))
    return ParsedEvals(tuple(cases), evals, files, tuple(ungraded), problems)


def _text(path: str, read: Callable[[str], bytes | None]) -> tuple[str, str | None]:
    """The text of a file an eval shows, or why it cannot be shown."""
    from pathlib import PurePosixPath

    relative = PurePosixPath(path)
    data = None if relative.is_absolute() or ".." in relative.parts else read(relative.as_posix())
    if data is None:
        return "", f"{path!r} is not a file of the skill"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return "", f"{path!r} is not UTF-8 text, and skillpm shows files to the model as text"
