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

from skillpm.evaluation.cases import MAX_CASES, EvalCase, parse_case
from skillpm.reading import MAX_EVAL_FILE_SIZE
from skillpm.records import Record

#: The most bytes of files all evals show together (a file counted once per eval showing it): the
#: most skill_meta.json, whose cases hold their files, can show.
MAX_SHOWN = MAX_EVAL_FILE_SIZE

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
    """Read a parsed evals.json; every problem is reported (``evals.N: ...``), none raised.

    At most :data:`MAX_CASES` evals, showing at most :data:`MAX_SHOWN` bytes of files in all (a
    file counted once per eval that shows it); each file is read once, its text shared by the cases.
    """
    import hashlib

    evals = data.get("evals") if isinstance(data, dict) else None
    if not isinstance(evals, list):
        return ParsedEvals((), [], {}, (), ['(root): needs an "evals" list'])
    if len(evals) > MAX_CASES:
        return ParsedEvals((), evals, {}, (), [f"evals: {len(evals):,} evals, more than the {MAX_CASES:,} skillpm reads"])
    texts = _Texts(read)
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
            text, problem = texts.shown(path)
            if texts.total > MAX_SHOWN:
                too_much = f"{where}.files: {path!r} takes the files the evals show past {MAX_SHOWN >> 20} MiB in all"
                return ParsedEvals((), evals, {}, (), [f"{too_much} (a file counts once for each eval showing it)"])
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


class _Texts:
    """The files evals show: each read once (by its normal path), and the bytes shown so far."""

    def __init__(self, read: Callable[[str], bytes | None]) -> None:
        self._read = read
        self._texts: dict[str, tuple[str, int, str | None]] = {}
        self.total = 0

    def shown(self, path: str) -> tuple[str, str | None]:
        """The text of a file an eval shows, or why it cannot be shown; counted in :attr:`total`."""
        from pathlib import PurePosixPath

        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            return "", f"{path!r} is not a file of the skill"
        key = relative.as_posix()
        if key not in self._texts:
            self._texts[key] = _text(self._read(key))
        text, size, reason = self._texts[key]
        self.total += size
        return text, None if reason is None else f"{path!r} {reason}"


def _text(data: bytes | None) -> tuple[str, int, str | None]:
    """The text of a file's bytes and their number, or why it cannot be shown."""
    if data is None:
        return "", 0, "is not a file of the skill"
    try:
        return data.decode("utf-8"), len(data), None
    except UnicodeDecodeError:
        return "", 0, "is not UTF-8 text, and skillpm shows files to the model as text"
