"""Cold start: every skillpm command that reports, against `python -c "import click"`.

Target (issue 18, part 3): every command within 1.5x of importing click, measured in the
same run. `resolve` runs twice: from the default (embedded) registry, as most users run
it, and from a registry given by path in $SKILLPM_REGISTRY. `info`, `verify` and `search`
read the embedded registry. `install kernel-builder-cuda --arch 9.0` installs from the
default registry, verifying its signed evidence, into a fresh project each run (the
artifact cache is shared, so warm after the first round); then again without --arch, as
the README runs it, so the GPU is looked for (on a machine without one, none is found).
`list`, `outdated`, `sync` and `update` (both with nothing to do) and `remove` run in a
copy, made before each run, of a project with that skill installed. `validate` checks one
plain SKILL.md folder, then the skeleton `skillpm init` makes (with skillpm.toml and test
cases); `init` makes a new skeleton, `pack` packs the skeleton and `publish` publishes it
(unsigned) into a new registry, each in a new folder. When skills-ref's CLI (`agentskills`)
is installed beside skillpm, it validates the plain folder and skillpm's time is also shown
against it (no target).
Two floors are shown beside them, with no target (bench/floor.py): the least install's job
costs in Python (import click, hash and extract the same sm_90 archive), and the least a
validator built on PyYAML costs (import click and PyYAML, parse the same front matter), which
skillpm's validate goes under where it reads front matter without PyYAML; what a command
takes beyond its floor is what skillpm's own work and checks cost.
skillpm runs with empty user directories (XDG dirs in a temporary folder: no configured
registries, pins or policy files), and with bytecode written by the first round
($PYTHONDONTWRITEBYTECODE cleared): what is timed is start-up, not compiling.
The commands run in turn, round after round, so that load on the machine weighs on
the baseline as on the rest; the first round is a warm-up. Ratios are of medians, for
wall time and for CPU time (user + system of the child), the steadier figure on a
machine doing other work. With --instructions, each command also runs once under
valgrind's callgrind and the ratios of instructions executed are shown: within about 2%
from run to run (Python's hash seeds differ), where times on a shared machine vary by a tenth.
Usage: python bench/startup.py [--runs N] [--instructions]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Callable

from _common import REPO, instructions_once, report, run_once, skillpm_command

TARGET = 1.5  # for every skillpm command
BASELINE = "python -c 'import click'"
INSTALL = "skillpm install (fresh project)"
VALIDATE = "skillpm validate (one plain skill)"
VALIDATE_MANIFEST = "skillpm validate (the skeleton 'skillpm init' makes)"
SKILLS_REF = "skills-ref validate (agentskills, same skill)"
FLOORS = {
    "floor of install: import click, sha256 + extract the archive": INSTALL,
    "floor of a PyYAML validator: import click, yaml + parse the front matter": VALIDATE,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    arguments = parser.parse_args()
    runs = arguments.runs
    skillpm = skillpm_command()
    resolve = [*skillpm, "resolve", "kernel-builder-cuda", "--arch", "9.0"]
    with tempfile.TemporaryDirectory() as temporary:
        tmp = Path(temporary)
        bytecode: dict[str, str | None] = {"PYTHONDONTWRITEBYTECODE": None}
        default = {
            **bytecode,
            **{f"XDG_{kind}_HOME": str(tmp / "home" / kind.lower()) for kind in ("CONFIG", "DATA", "CACHE")},
            "SKILLPM_CACHE_DIR": str(tmp / "cache"),
            "SKILLPM_CONFIG": None,
            "SKILLPM_REGISTRY": None,
        }
        by_path = {**default, "SKILLPM_REGISTRY": str(REPO / "registry")}
        install = [*skillpm, "install", "kernel-builder-cuda", "--arch", "9.0"]
        skill, skeleton = _plain_skill(tmp), _skeleton(tmp, skillpm)
        fresh = partial(_fresh_project, tmp)
        installed = partial(_copy, _installed_project(tmp, install, default), tmp)
        commands: dict[str, tuple[list[str], dict[str, str | None], Callable[[], Path] | None]] = {
            BASELINE: ([sys.executable, "-c", "import click"], bytecode, None),
            "skillpm --help": ([*skillpm, "--help"], default, None),
            "skillpm install --help": ([*skillpm, "install", "--help"], default, None),
            "skillpm resolve (embedded registry)": (resolve, default, None),
            "skillpm resolve ($SKILLPM_REGISTRY=registry/)": (resolve, by_path, None),
            "skillpm search kernel (embedded registry)": ([*skillpm, "search", "kernel"], default, None),
            "skillpm info (embedded registry)": ([*skillpm, "info", "kernel-builder-cuda"], default, None),
            "skillpm verify (embedded registry)": ([*skillpm, "verify", "kernel-builder-cuda"], default, None),
            INSTALL: (install, default, fresh),
            "skillpm install (no --arch: asks the driver for the GPU)": (install[:-2], default, fresh),
            "skillpm list": ([*skillpm, "list"], default, installed),
            "skillpm outdated": ([*skillpm, "outdated"], default, installed),
            "skillpm sync (nothing to do)": ([*skillpm, "sync"], default, installed),
            "skillpm update (nothing to do)": ([*skillpm, "update"], default, installed),
            "skillpm remove": ([*skillpm, "remove", "kernel-builder-cuda"], default, installed),
            "skillpm registry list": ([*skillpm, "registry", "list"], default, None),
            VALIDATE: ([*skillpm, "validate", str(skill)], default, None),
            VALIDATE_MANIFEST: ([*skillpm, "validate", str(skeleton)], default, None),
            "skillpm init (a new skeleton)": ([*skillpm, "init", "new-skill"], default, fresh),
            "skillpm pack (the skeleton)": ([*skillpm, "pack", str(skeleton), "-o", "dist"], default, fresh),
            "skillpm publish (the skeleton, into a new registry)": (
                [*skillpm, "publish", str(skeleton), "--registry", "registry"],
                default,
                partial(_copy, _empty_registry(tmp, skillpm, default), tmp, "registry"),
            ),
        }
        floor = [sys.executable, str(REPO / "bench" / "floor.py")]
        install_floor, validate_floor = FLOORS
        commands[install_floor] = ([*floor, "install", str(_archive("sm_90")), "tree"], bytecode, fresh)
        commands[validate_floor] = ([*floor, "validate", str(skill)], bytecode, None)
        agentskills = Path(sys.executable).with_name("agentskills")
        if agentskills.exists():
            commands[SKILLS_REF] = ([str(agentskills), "validate", str(skill)], bytecode, None)
        else:
            print(f"skills-ref is not installed ({agentskills} is missing): validate is compared with click only")
        walls: dict[str, list[float]] = {label: [] for label in commands}
        cpus: dict[str, list[float]] = {label: [] for label in commands}
        for round_ in range(runs + 1):
            for label, (argv, env, folder) in commands.items():
                wall, cpu = run_once(argv, env=env, cwd=folder() if folder else None)
                if round_:
                    walls[label].append(wall)
                    cpus[label].append(cpu)
        kinds = [("wall", walls), ("cpu", cpus)]
        if arguments.instructions:
            counted = {label: [instructions_once(argv, env=env, cwd=folder() if folder else None)]
                       for label, (argv, env, folder) in commands.items()}
            kinds.append(("instructions", counted))
    ok = True
    for kind, samples in kinds:
        baseline = statistics.median(samples[BASELINE])
        if kind == "instructions":
            print(f"baseline {BASELINE}: {baseline:,.0f} instructions (callgrind, one run)")
        else:
            print(f"baseline {BASELINE}: {baseline * 1000:.1f} ms {kind} (median of {runs})")
        for label in list(commands)[1:]:
            ratio = statistics.median(samples[label]) / baseline
            if label in FLOORS:
                command = FLOORS[label]
                print(f"{f'{label} / import click ({kind})':<72} {ratio:8.3f}   no target")
                beyond = statistics.median(samples[command]) / statistics.median(samples[label])
                print(f"{f'{command} / its floor ({kind})':<72} {beyond:8.3f}   no target")
            elif label == SKILLS_REF:
                versus = statistics.median(samples[VALIDATE]) / statistics.median(samples[label])
                print(f"{f'{label} / import click ({kind})':<72} {ratio:8.3f}   no target")
                print(f"{f'{VALIDATE} / skills-ref ({kind})':<72} {versus:8.3f}   no target")
            else:
                ok &= report(f"{label} / import click ({kind})", ratio, f"<= {TARGET}", ratio <= TARGET)
    return 0 if ok else 1


def _archive(target: str) -> Path:
    """The embedded registry's archive of kernel-builder-cuda's newest version for ``target``."""
    from packaging.version import Version

    found = (REPO / "registry" / "artifacts" / "kernel-builder-cuda").glob(f"*/kernel-builder-cuda-*-{target}.tar.gz")
    return max(found, key=lambda path: Version(path.parent.name))


def _plain_skill(tmp: Path) -> Path:
    """A plain SKILL.md folder (no skillpm.toml), valid for skillpm and skills-ref alike."""
    skill = tmp / "skills" / "tidy-imports"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: tidy-imports\ndescription: Sorts and groups Python imports. Use when a diff touches imports.\n"
        "---\n# Tidy imports\n\nGroup standard library, third-party and local imports.\n",
        encoding="utf-8",
    )
    return skill


def _skeleton(tmp: Path, skillpm: list[str]) -> Path:
    """What ``skillpm init`` makes (SKILL.md, skillpm.toml, skill_meta.json): what skillpm's authors validate."""
    skill = tmp / "skills" / "new-skill"
    subprocess.run([*skillpm, "init", str(skill), "--description", "Sorts and groups Python imports."],
                   check=True, capture_output=True, timeout=120)
    return skill


def _fresh_project(tmp: Path) -> Path:
    """A new empty project folder (holding ``.git``) under ``tmp``."""
    project = Path(tempfile.mkdtemp(prefix="project-", dir=tmp))
    (project / ".git").mkdir()
    return project


def _installed_project(tmp: Path, install: list[str], env: dict[str, str | None]) -> Path:
    """A project with kernel-builder-cuda installed (skills.lock, the tree and its agent links)."""
    project = _fresh_project(tmp)
    run_once(install, env=env, cwd=project)
    return project


def _empty_registry(tmp: Path, skillpm: list[str], env: dict[str, str | None]) -> Path:
    """A new, empty static registry (unsigned index)."""
    registry = tmp / "empty-registry"
    run_once([*skillpm, "registry", "init", str(registry)], env=env)
    return registry


def _copy(original: Path, tmp: Path, name: str | None = None) -> Path:
    """A new project folder under ``tmp``: a copy of the folder ``original``, or one holding it as ``name``.

    Links are copied as links: an installed project's agent links are relative."""
    project = _fresh_project(tmp)
    if name is None:
        shutil.copytree(original, project, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copytree(original, project / name, symlinks=True)
    return project


if __name__ == "__main__":
    raise SystemExit(main())
