"""`skillpm sync` of 100 skills from a local HTTP registry against 100 separate `skillpm install` commands.

100 small skills (a SKILL.md and a 16 KiB reference file each) are packed and
published into a registry served on 127.0.0.1 by skillpm's `registry serve`
handler; one install of all of them writes the lockfile. Then, each with an
empty cache and a fresh project: `skillpm sync` of that lockfile (downloads in
parallel, then installs), and `skillpm install NAME` run once per skill.
Target (issue 7): sync at least 4x faster (ratio >= 4).
Usage: python bench/sync_parallel.py [--skills N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import REPO, report, skillpm_command

sys.path.insert(0, str(REPO))

from skillpm.pack import pack
from skillpm.registry import store
from skillpm.registry.serve import make_server, server_url


def write_skill(base: Path, name: str) -> Path:
    root = base / name
    description = f"Helps with {name} tasks. Use when working on {name}."
    (root / "variants" / "generic" / "references").mkdir(parents=True)
    (root / "skillpm.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "1.0.0"\ndescription = "{description}"\n'
        'license = "Apache-2.0"\n\n[variants.generic]\n'
    )
    (root / "variants" / "generic" / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nSee references/notes.md.\n"
    )
    (root / "variants" / "generic" / "references" / "notes.md").write_text(os.urandom(8192).hex() + "\n")
    return root


def build_registry(work: Path, count: int) -> tuple[Path, list[str]]:
    root = work / "registry"
    store.init(root, name="bench")
    names = [f"bench-skill-{index:03d}" for index in range(count)]
    archives = []
    for name in names:
        archives += [archive.path for archive in pack(write_skill(work / "sources", name), work / "dist" / name)]
    store.add(root, archives)
    return root, names


def fresh_project(work: Path, label: str, lockfile: Path | None = None) -> Path:
    project = work / label / "project"
    (project / ".git").mkdir(parents=True)
    if lockfile is not None:
        shutil.copy(lockfile, project / "skills.lock")
    return project


def run(argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="runs of sync (the one-by-one installs run once)")
    options = parser.parse_args()
    skillpm = skillpm_command()
    with tempfile.TemporaryDirectory(prefix="skillpm-bench-") as temporary:
        work = Path(temporary)
        root, names = build_registry(work, options.skills)
        server = make_server(root)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = server_url(server)
        base_env = {**os.environ, "SKILLPM_CONFIG": str(work / "none.toml")}
        base_env.pop("SKILLPM_REGISTRY", None)

        def env(label: str) -> dict[str, str]:
            return {**base_env, "SKILLPM_CACHE_DIR": str(work / label / "cache")}

        seed = fresh_project(work, "seed")
        run([*skillpm, "install", *names, "--registry", url, "--arch", "9.0"], cwd=seed, env=env("seed"))
        lockfile = seed / "skills.lock"

        sync_times = []
        for index in range(options.runs):
            project = fresh_project(work, f"sync{index}", lockfile)
            start = time.perf_counter()
            run([*skillpm, "sync"], cwd=project, env=env(f"sync{index}"))
            sync_times.append(time.perf_counter() - start)
            assert len(list((project / ".claude" / "skills").iterdir())) == len(names)

        project = fresh_project(work, "one-by-one")
        start = time.perf_counter()
        for name in names:
            run([*skillpm, "install", name, "--registry", url, "--arch", "9.0"], cwd=project, env=env("one-by-one"))
        one_by_one = time.perf_counter() - start
        assert (project / "skills.lock").read_text() == lockfile.read_text()
        server.shutdown()
        server.server_close()
    sync_time = statistics.median(sync_times)
    print(f"sync of {len(names)} skills: {sync_time:.2f} s (median of {options.runs}); "
          f"{len(names)} installs one by one: {one_by_one:.2f} s")
    ratio = one_by_one / sync_time
    ok = report(f"{len(names)} separate installs / one sync (cold cache, HTTP)", ratio, ">= 4", ratio >= 4)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
