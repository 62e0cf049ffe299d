"""`skillpm validate` against `skills-ref validate` on the same 1,000 generated skills.

Target (issue 3): at least 5x the throughput of skills-ref. Two measurements,
both in this run: in-process (each library's validate function over every
skill) and command line (`skillpm validate` given every path at once, against
`agentskills validate` (skills-ref's command) run once per skill, as its CLI takes one path; timed over
a sample and scaled to per-skill throughput).
Usage: python bench/validate_throughput.py [--skills N] [--cli-sample N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, report, require, skillpm_command

sys.path.insert(0, str(REPO))

_BODY = """
# {title}

Use this skill when the user asks to {task}.

## Steps
1. Read the input files and check their format with `scripts/check.py`.
2. Apply the procedure in [the reference](references/guide.md).
3. Report what changed and anything that could not be done.

## Pitfalls
- Never overwrite the input; write results beside it.
- Keep outputs deterministic so reruns give the same bytes.
"""


def generate(root: Path, count: int) -> list[Path]:
    """Write ``count`` valid skills, each with SKILL.md, a script and a reference."""
    paths = []
    for number in range(count):
        name = f"generated-skill-{number:04d}"
        skill = root / name
        (skill / "scripts").mkdir(parents=True)
        (skill / "references").mkdir()
        front = (
            f"---\nname: {name}\n"
            f"description: Process data set {number} and report the result. Use when asked about data set {number}.\n"
            "license: Apache-2.0\ncompatibility: Requires Python 3.11+\n"
            f"metadata:\n  author: bench\n  version: \"1.{number % 7}\"\n---\n"
        )
        (skill / "SKILL.md").write_text(front + _BODY.format(title=name, task=f"process data set {number}"))
        (skill / "scripts" / "check.py").write_text("print('ok')\n")
        (skill / "references" / "guide.md").write_text("# Guide\n\nThe procedure.\n")
        paths.append(skill)
    return paths


def in_process(paths: list[Path]) -> tuple[float, float]:
    from skills_ref.validator import validate as skills_ref_validate

    from skillpm.validation import validate_skill_dir

    start = time.perf_counter()
    ours = [validate_skill_dir(path) for path in paths]
    mine = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [skills_ref_validate(path) for path in paths]
    reference = time.perf_counter() - start
    if any(ours) or any(theirs):
        sys.exit("generated skills must be valid for both validators")
    return mine, reference


def command_line(paths: list[Path], sample: int) -> tuple[float, float]:
    skills_ref = require("agentskills")  # skills-ref's console script
    start = time.perf_counter()
    subprocess.run([*skillpm_command(), "validate", *map(str, paths)], check=True, stdout=subprocess.DEVNULL)
    mine = (time.perf_counter() - start) / len(paths)
    start = time.perf_counter()
    for path in paths[:sample]:
        subprocess.run([skills_ref, "validate", str(path)], check=True, stdout=subprocess.DEVNULL)
    reference = (time.perf_counter() - start) / sample
    return mine, reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--cli-sample", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.skills)
        mine, reference = in_process(paths)
        cli_mine, cli_reference = command_line(paths, args.cli_sample)
    print(f"{args.skills} skills; in-process: skillpm {mine:.3f} s, skills-ref {reference:.3f} s")
    print(
        f"command line, per skill: skillpm {cli_mine * 1000:.2f} ms, "
        f"skills-ref {cli_reference * 1000:.2f} ms (over {args.cli_sample} runs)"
    )
    ok = report("throughput ratio, in-process (skillpm / skills-ref)", reference / mine, ">= 5", reference / mine >= 5)
    ok &= report(
        "throughput ratio, command line (skillpm / skills-ref)",
        cli_reference / cli_mine,
        ">= 5",
        cli_reference / cli_mine >= 5,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
