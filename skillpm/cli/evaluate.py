"""``skillpm eval``: measure a skill variant's lift on models behind a chat completions API."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import click

from skillpm.cli.common import json_option, links_within_option
from skillpm.cli.output import emit_json, notice, say, table
from skillpm.stderr import stderr_is_terminal

if TYPE_CHECKING:
    from skillpm.evaluation.run import Report, Settings
    from skillpm.evaluation.subject import Subject

_DIR = click.Path(path_type=Path, exists=True, file_okay=False)


class _BaseUrl(click.ParamType):
    """An API root URL: refused as any bad option value is (exit 2), saying why without quoting what may be a key."""

    name = "url"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from skillpm.evaluation.client import base_url_problem

        problem = base_url_problem(value)
        if problem is not None:
            self.fail(problem, param, ctx)
        return value


@click.command("eval")
@click.argument("source", type=_DIR)
@click.option("--arch", metavar="ARCH", help="Evaluate the variant install would choose for this GPU (9.0, sm_90a, h100...).")
@click.option("--target", metavar="TARGET", help="Evaluate this variant (e.g. sm_90a). Default: generic.")
@click.option("-m", "--model", "models", multiple=True, metavar="MODEL", help="Model to evaluate (repeatable).")
@click.option("--base-url", type=_BaseUrl(), metavar="URL", help="OpenAI-compatible API root, e.g. http://localhost:8080/v1.")
@click.option("--api-key-env", metavar="VAR", help="Environment variable holding the API key (sent as a bearer token).")
@click.option("--trials", type=click.IntRange(1, 1000), default=1, show_default=True, help="Runs of each case per model and arm.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Requests in flight at once.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True, help="Deadline per request, in seconds (connecting and the whole answer).")
@click.option("--max-attempts", type=click.IntRange(1, 20), default=5, show_default=True, help="Attempts per request (429, 5xx, timeouts).")
@click.option("--temperature", type=click.FloatRange(0, 2), help="Sampling temperature (default: the server's).")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Answer length limit (default: the server's).")
@click.option("--no-cache", is_flag=True, help="Ask again even when an answer is cached (new answers are still cached).")
@click.option("--import-upskill", "upskill_runs", type=_DIR, metavar="DIR", help="Adopt results upskill wrote (its runs/ folder or one batch) instead of asking a model.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="Evidence file. Default: eval-<name>-<version>-<target>.json.")
@links_within_option
@json_option
def eval_command(
    source: Path,
    arch: str | None,
    target: str | None,
    models: tuple[str, ...],
    base_url: str | None,
    api_key_env: str | None,
    trials: int,
    concurrency: int,
    timeout_s: float,
    max_attempts: int,
    temperature: float | None,
    max_tokens: int | None,
    no_cache: bool,
    upskill_runs: Path | None,
    out: Path | None,
    links_within: Path | None,
    as_json: bool,
) -> None:
    """Run SOURCE's test cases with and without the skill, and write an evidence file.

    \b
    skillpm eval skills/kernel-builder-cuda --arch 9.0 --model qwen3-coder \\
        --base-url http://localhost:8080/v1 --trials 5 --json
    skillpm eval DIR -m claude-sonnet-4-5 -m claude-haiku-4-5 --base-url https://... --api-key-env KEY_VAR
    skillpm eval DIR --import-upskill runs/          # adopt results produced by upskill

    SOURCE is a skill source or a plain SKILL.md folder (read as 'skillpm pack' reads it).
    The cases are upskill's skill_meta.json of the chosen variant (else agentskills.io's
    evals/evals.json); answers are cached, so an interrupted run resumes. See docs/evaluation.md.
    """
    from skillpm.atomic import atomic_write
    from skillpm.evaluation.errors import EvalError
    from skillpm.evaluation.evidence import evidence_filename
    from skillpm.evidence import evidence_bytes
    from skillpm.evaluation.subject import load_subject

    if arch and target:
        raise click.UsageError("give --arch or --target, not both")
    if upskill_runs is None and not (models and base_url):
        raise click.UsageError("give --model and --base-url (or --import-upskill DIR)")
    subject = load_subject(source, arch=arch, target=target, links_within=links_within)
    for line in subject.warnings:
        notice(line)
    if upskill_runs is not None:
        from skillpm.evaluation.run import import_upskill

        report = import_upskill(subject, upskill_runs, models=models)
    else:
        from skillpm.evaluation.run import Settings

        settings = Settings(
            models=tuple(dict.fromkeys(models)),
            trials=trials,
            concurrency=concurrency,
            temperature=temperature,
            max_tokens=max_tokens,
            use_cache=not no_cache,
        )
        report = _ask_endpoint(
            subject,
            settings,
            base_url=base_url or "",
            api_key_env=api_key_env,
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            progress=not as_json and stderr_is_terminal(),
        )
    path = out or Path(evidence_filename(subject.skill))
    try:
        data = evidence_bytes(report.evidence, sort_keys=False)
    except ValueError as error:
        raise EvalError(f"{error}; nothing was written") from None
    atomic_write(path, data)
    if as_json:
        emit_json({**report.evidence, "evidence_file": str(path)})
        return
    _print_report(report, path)


def _ask_endpoint(
    subject: Subject,
    settings: Settings,
    *,
    base_url: str,
    api_key_env: str | None,
    timeout_s: float,
    max_attempts: int,
    progress: bool,
) -> Report:
    from skillpm.evaluation.cache import AnswerCache
    from skillpm.evaluation.client import ChatClient, read_api_key
    from skillpm.evaluation.programs import LocalPrograms
    from skillpm.evaluation.run import evaluate_endpoint, plan

    api_key = read_api_key(api_key_env) if api_key_env else None
    client = ChatClient(
        base_url,
        api_key=api_key,
        api_key_env=api_key_env,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        connections=settings.concurrency,
    )
    with client, _progress(len(plan(subject, settings)), enabled=progress) as advance:
        return evaluate_endpoint(
            subject,
            settings,
            base_url=base_url,
            client=client,
            cache=AnswerCache(),
            programs=LocalPrograms(),
            on_done=advance,
        )


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while trials run, or nothing."""
    if not enabled:
        yield lambda: None
        return
    with click.progressbar(length=total, label="evaluating", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _print_report(report: Report, path: Path) -> None:
    evidence = report.evidence
    skill, tests = evidence["skill"], evidence["test_set"]
    say(
        f"{skill['name']} {skill['version']} {skill['target']}: {tests['count']} cases x {evidence['trials']} trial(s), "
        f"endpoint {evidence['endpoint']['host'] or evidence['endpoint']['kind']}"
    )
    rows = []
    for model in evidence["models"]:
        arms = [model["with_skill"], model["baseline"]]
        rows.append(
            [
                model["model"],
                *(_arm(arm) for arm in arms),
                "n/a (no baseline)" if model["lift"] is None else f"{model['lift']:+.0%}",
                " / ".join(_measured(arm, "tokens", "total", "{}") for arm in arms),
                " / ".join(_measured(arm, "latency_s", "mean", "{:.2f}") for arm in arms),
            ]
        )
    table(["model", "with skill", "baseline", "lift", "tokens (skill / base)", "latency s (skill / base)"], rows)
    unmeasured = [model["model"] for model in evidence["models"] if model["baseline"] is None]
    if unmeasured:
        notice(f"note: no baseline was run for {', '.join(unmeasured)} (upskill's benchmark mode): no lift is claimed")
    if report.records:
        notice(f"{report.new_requests} new request(s), {len(report.records) - report.new_requests} answer(s) from the cache")
    say(f"wrote {path}")


def _arm(arm: dict | None) -> str:
    if arm is None:
        return "not measured"
    return f"{arm['passed']}/{arm['total']} {arm['pass_rate']:.0%} [{arm['wilson95'][0]:.0%}, {arm['wilson95'][1]:.0%}]"


def _measured(arm: dict | None, key: str, field: str, form: str) -> str:
    """One figure of an arm, or "-" when it was not measured."""
    figures = arm.get(key) if arm else None
    return form.format(figures[field]) if figures else "-"
