"""Cold start: `skillpm --help` and `skillpm resolve ... --arch 9.0` against `python -c "import click"`.

Target (issue 3): both within 1.5x of importing click, measured in the same run.
Ratios are given for wall time and for CPU time (user + system of the child),
which is the steadier figure on a machine doing other work.
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
    skillpm = skillpm_command()
    commands = {
        "skillpm --help": [*skillpm, "--help"],
        "skillpm resolve kernel-builder-cuda --arch 9.0": [*skillpm, "resolve", "kernel-builder-cuda", "--arch", "9.0"],
    }
    ok = True
    for cpu in (False, True):
        kind = "cpu" if cpu else "wall"
        baseline = time_command([sys.executable, "-c", "import click"], runs=runs, cpu=cpu)
        print(f"baseline python -c 'import click': {baseline * 1000:.1f} ms {kind} (median of {runs})")
        for label, argv in commands.items():
            ratio = time_command(argv, runs=runs, env=env, cpu=cpu) / baseline
            ok &= report(f"{label} / import click ({kind})", ratio, "<= 1.5", ratio <= 1.5)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
