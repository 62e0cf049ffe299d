"""Results upskill wrote: ``runs/<batch>/batch_summary.json`` and ``runs/<batch>/run_N/run_result.json``.

Each of upskill's run results (``RunResult`` in upskill's ``src/upskill/models.py``) covers
one pass over the test cases for one model, with the skill or without (``run_type``):
``assertions_passed`` of ``assertions_total`` tests passed, with ``stats`` holding the
tokens and the model's time. A batch's ``batch_summary.json`` lists them all; without it,
each ``run_N/run_result.json`` is read. ``path`` may be the runs folder or one batch.

upskill's benchmark mode (several models or runs) runs no baseline: its models have no
baseline tally and no lift, never a baseline of 0 of 0. A count a run result does not
hold is refused, and tokens or a time it does not hold are unknown (``None``), not 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from skillpm.evaluation.errors import EvalError
from skillpm.attest.statement import is_finite_number
from skillpm.evaluation.stats import ARMS, ModelResult, Tally, measured_sum
from skillpm.containment import resolves_inside
from skillpm.jsonfile import read_json
from skillpm.reading import MAX_EVAL_FILE_SIZE, problem

SUMMARY = "batch_summary.json"
RUN_RESULT = "run_result.json"


@dataclass(frozen=True)
class UpskillRun:
    """One of upskill's runs, as counted here."""

    model: str
    arm: str
    passed: int
    total: int
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None


def load_upskill_results(
    path: Path, *, models: Sequence[str] = (), cases: int | None = None
) -> tuple[list[ModelResult], int]:
    """Per model (all, or those in ``models``): the two arms' tallies; and the most runs of any arm.

    ``cases``: the size of the test set the runs are claimed for, when upskill counts one
    assertion per test (no case has a validator): a run that counted another number ran
    another test set, and is refused.
    """
    runs = [run for run in read_runs(path) if not models or run.model in models]
    if not runs:
        wanted = f" for {', '.join(models)}" if models else ""
        raise EvalError(f"no upskill run results{wanted} under {path}", hint="point at upskill's runs/ folder or one batch in it")
    other = next((run for run in runs if cases is not None and run.total != cases), None)
    if other is not None:
        raise EvalError(
            f"upskill's {other.arm} run of {other.model} under {path} counted {other.total} test(s), but the variant's "
            f"test set has {cases}: it ran other test cases, and its results cannot be tied to this test set",
            hint="import the runs upskill made with this skill_meta.json, or run 'upskill eval' again",
        )
    names = list(dict.fromkeys(models or [run.model for run in runs]))  # each once, as eval -m counts them
    grouped: dict[tuple[str, str], list[UpskillRun]] = {}  # once: a file may name tens of thousands of models
    for run in runs:
        grouped.setdefault((run.model, run.arm), []).append(run)
    results = []
    for name in names:
        arms = {arm: _tally(name, arm, grouped.get((name, arm), [])) for arm in ARMS}
        with_skill = arms["with_skill"]
        if with_skill is None:
            raise EvalError(
                f"upskill's results for {name} under {path} hold no run with the skill: nothing with the skill was measured",
                hint="import a batch that ran the skill (upskill eval)",
            )
        results.append(ModelResult(name, with_skill, arms["baseline"]))
    return results, max(len(group) for group in grouped.values())


def read_runs(path: Path) -> list[UpskillRun]:
    """Every run result under ``path``; EvalError naming each file that cannot be read."""
    batches = [path] if _is_batch(path) else sorted(child for child in path.iterdir() if _is_batch(child))
    runs, problems = [], []
    root = path.resolve()
    for batch in batches:
        for where, data in _documents(batch, problems, root):
            try:
                runs.append(_run(data))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"{where}: not an upskill run result ({error})")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise EvalError(problems[0] + more)
    return runs


def _is_batch(folder: Path) -> bool:
    return folder.is_dir() and ((folder / SUMMARY).is_file() or any(folder.glob(f"run_*/{RUN_RESULT}")))


def _documents(batch: Path, problems: list[str], root: Path) -> list[tuple[str, Any]]:
    summary = batch / SUMMARY
    if summary.is_file():
        data = _read_json(summary, problems, root)
        results = data.get("results") if isinstance(data, dict) else None
        if data is not None and not isinstance(results, list):
            problems.append(f"{summary}: has no list of results")
            return []
        return [(f"{summary}: results.{index}", item) for index, item in enumerate(results or [])]
    found = []
    for file in sorted(batch.glob(f"run_*/{RUN_RESULT}")):
        data = _read_json(file, problems, root)
        if data is not None:
            found.append((str(file), data))
    return found


def _read_json(path: Path, problems: list[str], root: Path) -> Any:
    """The JSON file ``path``, read when it lies in the folder given (``root``) after links; else None, and why."""
    if not resolves_inside(path, root):  # a batch folder or result linked from elsewhere, or a loop of links
        problems.append(f"{path}: leads out of {root} through a link; not read")
        return None
    try:
        return read_json(path, MAX_EVAL_FILE_SIZE)
    except (OSError, ValueError) as error:
        problems.append(f"{path}: cannot read: {problem(error)}")
        return None


def _run(data: Any) -> UpskillRun:
    model = data["metadata"]["model"]
    arm = data.get("run_type", "with_skill")  # upskill's own default
    passed, total = data["assertions_passed"], data["assertions_total"]
    stats = data.get("stats") or {}
    if not isinstance(stats, dict):
        raise ValueError("stats is not an object")
    tokens = [stats.get("input_tokens"), stats.get("output_tokens")]
    if not isinstance(model, str) or not model:
        raise ValueError("metadata.model is not a name")
    if arm not in ARMS:
        raise ValueError(f"run_type {arm!r} is neither 'with_skill' nor 'baseline'")
    if not all(_is_count(count) for count in (passed, total)) or passed > total:
        raise ValueError("assertions_passed and assertions_total are not counts")
    if not all(count is None or _is_count(count) for count in tokens):
        raise ValueError("stats.input_tokens or stats.output_tokens is not a count")
    llm_ms = stats.get("llm_time_ms")
    if llm_ms is not None and (not is_finite_number(llm_ms) or llm_ms < 0):
        raise ValueError("stats.llm_time_ms is not a duration")
    return UpskillRun(model, arm, passed, total, tokens[0], tokens[1], None if llm_ms is None else llm_ms / 1000)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tally(model: str, arm: str, runs: list[UpskillRun]) -> Tally | None:
    """The arm's tally; ``None`` when it was not run (benchmark mode runs no baseline)."""
    if not runs:
        return None
    total = sum(run.total for run in runs)
    if total == 0:
        raise EvalError(f"upskill's {arm} runs of {model} counted no assertions: nothing was measured")
    return Tally(
        passed=sum(run.passed for run in runs),
        total=total,
        prompt_tokens=measured_sum(run.prompt_tokens for run in runs),
        completion_tokens=measured_sum(run.completion_tokens for run in runs),
        latency_s=measured_sum(run.latency_s for run in runs),
        requests=total,
    )
