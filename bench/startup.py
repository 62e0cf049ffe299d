"""Cold start: `skillpm --help` and `skillpm resolve ... --arch 9.0` against `python -c "import click"`.

Target (issue 3): both within 1.5x of importing click, measured in the same run.
Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys

from _common import REPO, report, skillpm_command, time_command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    env = {"SKILLPM_REGISTRY": str(REPO / "registry")}
    baseline = time_command([sys.executable, "-c", "import click"], runs=runs)
    skillpm = skillpm_command()
    help_time = time_command([*skillpm, "--help"], runs=runs, env=env)
    resolve_time = time_command([*skillpm, "resolve", "kernel-builder-cuda", "--arch", "9.0"], runs=runs, env=env)
    print(f"baseline python -c 'import click': {baseline * 1000:.1f} ms (median of {runs})")
    ok = report("skillpm --help / import click", help_time / baseline, "<= 1.5", help_time / baseline <= 1.5)
    ok &= report(
        "skillpm resolve kernel-builder-cuda --arch 9.0 / import click",
        resolve_time / baseline,
        "<= 1.5",
        resolve_time / baseline <= 1.5,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
