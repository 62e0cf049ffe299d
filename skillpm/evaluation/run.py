"""Running an evaluation: every case, for every model, with and without the skill, ``trials`` times.

Trials run on ``concurrency`` daemon threads (:mod:`skillpm.evaluation.workers`), sharing one
:class:`ChatClient`; an interrupted run kills the programs its checks started and does not
wait for a check that overruns.
Each answer is cached under a key derived from the request itself (URL, model, messages,
parameters) and the trial number: the skill's text is in the with-skill messages, so a
changed SKILL.md asks again, while the baseline's answers, which never saw the skill, are
reused. Checks are decided again on every run. The first endpoint error stops the run;
what was answered until then stays cached, and the next run resumes from there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from skillpm import __version__
from skillpm.evaluation.cache import AnswerCache
from skillpm.evaluation.cases import canonical_json, messages
from skillpm.evaluation.checks import CheckResult, Programs, can_fail, evaluate
from skillpm.evaluation.client import ChatClient, Completion, endpoint_host
from skillpm.evaluation.errors import EvalError
from skillpm.evaluation.evidence import build_evidence
from skillpm.evaluation.stats import ARMS, Arm, ModelResult, TrialOutcome, summarize
from skillpm.evaluation.subject import Subject
from skillpm.evaluation.workers import run_on_threads
from skillpm.manifest import EVAL_FILE, EVALS_FILE

ENDPOINT_KIND = "openai-chat-completions"
UPSKILL_KIND = "upskill"


@dataclass(frozen=True)
class Settings:
    """What to ask: the models, how many trials, how many at once, and sampling parameters."""

    models: tuple[str, ...]
    trials: int = 1
    concurrency: int = 4
    temperature: float | None = None
    max_tokens: int | None = None
    use_cache: bool = True

    @property
    def parameters(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class Job:
    """One trial to run."""

    model: str
    arm: Arm
    case: int
    trial: int


@dataclass(frozen=True)
class TrialRecord:
    """A trial's outcome, each check's verdict, and whether the answer came from the cache."""

    outcome: TrialOutcome
    checks: tuple[CheckResult, ...]
    cached: bool


@dataclass(frozen=True)
class Report:
    """The results per model, the evidence document, and the trials behind them."""

    results: list[ModelResult]
    evidence: dict[str, object]
    records: list[TrialRecord] = field(default_factory=list)

    @property
    def new_requests(self) -> int:
        return sum(not record.cached for record in self.records)


def plan(subject: Subject, settings: Settings) -> list[Job]:
    """Every trial, trial by trial, so an interrupted run has covered whole rounds first."""
    return [
        Job(model, arm, case, trial)
        for trial in range(settings.trials)
        for model in settings.models
        for case in range(len(subject.cases))
        for arm in ARMS
    ]


def request_body(subject: Subject, job: Job, settings: Settings) -> dict[str, Any]:
    """The chat completions request of one job (parameters left unset are not sent)."""
    system = subject.system_prompt if job.arm == "with_skill" else None
    body: dict[str, Any] = {"model": job.model, "messages": messages(subject.cases[job.case], system)}
    body.update({name: value for name, value in settings.parameters.items() if value is not None})
    return body


def answer_key(url: str, body: dict[str, Any], trial: int) -> str:
    """The cache key of an answer: sha256 of the canonical JSON of the URL, request and trial."""
    return hashlib.sha256(canonical_json({"url": url, "request": body, "trial": trial})).hexdigest()


def run_trials(
    subject: Subject,
    settings: Settings,
    *,
    client: ChatClient,
    cache: AnswerCache,
    programs: Programs,
    on_done: Callable[[], None] = lambda: None,
) -> list[TrialRecord]:
    """Run every job of :func:`plan`; the records come back in plan order."""
    refuse_ungraded(subject)
    programs.require(subject.test_set.checks)
    jobs = plan(subject, settings)

    def run_one(job: Job) -> TrialRecord:
        body = request_body(subject, job, settings)
        key = answer_key(client.url, body, job.trial)
        completion = Completion.from_json(cache.get(key)) if settings.use_cache else None
        cached = completion is not None
        if completion is None:
            completion = client.complete(body)
            cache.put(key, completion.to_json())
        verdicts = evaluate(subject.checks[job.case], completion.text, programs=programs, scripts=subject.scripts)
        outcome = TrialOutcome(
            job.model,
            job.arm,
            job.case,
            job.trial,
            all(verdict.passed for verdict in verdicts),
            completion.prompt_tokens,
            completion.completion_tokens,
            completion.latency_s,
        )
        return TrialRecord(outcome, verdicts, cached)

    records: dict[Job, TrialRecord] = {}

    def keep(job: Job, record: TrialRecord) -> None:
        records[job] = record
        on_done()

    run_on_threads(jobs, run_one, workers=settings.concurrency, on_result=keep, on_stop=programs.stop)
    return [records[job] for job in jobs]


def evaluate_endpoint(
    subject: Subject,
    settings: Settings,
    *,
    base_url: str,
    client: ChatClient,
    cache: AnswerCache,
    programs: Programs,
    on_done: Callable[[], None] = lambda: None,
    created: datetime | None = None,
) -> Report:
    """Run the trials against a chat completions endpoint and build the evidence."""
    records = run_trials(subject, settings, client=client, cache=cache, programs=programs, on_done=on_done)
    results = summarize((record.outcome for record in records), settings.models)
    evidence = _evidence(
        subject, results, ENDPOINT_KIND, endpoint_host(base_url), settings.trials, settings.parameters, created
    )
    return Report(results, evidence, records)


def refuse_ungraded(subject: Subject, *, by_upskill: bool = False) -> None:
    """EvalError when some cases have no check that can fail, so that they would pass whatever the
    answer: evals.json evals with only sentences for a grader, and cases whose ``expected.contains``
    is empty (or holds only ``""``) with no validator skillpm runs (``by_upskill``: with no validator,
    as upskill runs validators skillpm does not know)."""
    from skillpm.display import few

    if subject.ungraded:
        raise EvalError(
            f"{subject.tests_file}: {few(subject.ungraded)} have only expectations for a grader to judge, "
            "which skillpm cannot decide",
            hint='give each eval upskill\'s "expected": {"contains": [...]} beside its expectations (docs/evaluation.md)',
        )
    label = "evals" if subject.tests_file.endswith(EVALS_FILE) else "tests"
    vacuous = [
        f"{label}.{index}"
        for index, (case, checks) in enumerate(zip(subject.cases, subject.checks))
        if not any(map(can_fail, checks)) and not (by_upskill and case.validator is not None)
    ]
    if vacuous:
        raise EvalError(
            f"{subject.tests_file}: {few(vacuous)} have no check that can fail (expected.contains is empty and "
            "no validator skillpm runs is given), so they would pass whatever the answer",
            hint='give each a string the answer must hold ("expected": {"contains": [...]}) or a validator '
            "(docs/evaluation.md)",
        )


def import_upskill(subject: Subject, runs: Path, *, models: Sequence[str] = (), created: datetime | None = None) -> Report:
    """Results upskill wrote under ``runs``, counted and written up as skillpm's own, tied to the
    variant's test set (upskill ran skill_meta.json's tests; their count must match)."""
    from skillpm.evaluation.upskill import load_upskill_results

    if not subject.tests_file.endswith(EVAL_FILE):
        raise EvalError(
            f"the {subject.skill.target} variant's test cases are {subject.tests_file}, which upskill does not run: "
            "its results cannot be tied to them",
            hint=f"import upskill's results for a variant whose cases are in {EVAL_FILE}",
        )
    refuse_ungraded(subject, by_upskill=True)
    unscored = all(case.validator is None for case in subject.cases)
    results, trials = load_upskill_results(runs, models=models, cases=subject.test_set.count if unscored else None)
    return Report(results, _evidence(subject, results, UPSKILL_KIND, None, trials, {}, created))


def _evidence(
    subject: Subject,
    results: list[ModelResult],
    kind: str,
    host: str | None,
    trials: int,
    parameters: dict[str, Any],
    created: datetime | None,
) -> dict[str, object]:
    return build_evidence(
        skill=subject.skill,
        test_set=subject.test_set,
        endpoint_kind=kind,
        endpoint_host=host,
        trials=trials,
        parameters=parameters,
        results=results,
        created=created or datetime.now(timezone.utc),
        tool_version=__version__,
    )
