"""Run validate -> pack -> publish -> install on every skill of real public repositories.

Not a test (it needs the repositories, which CI does not fetch): point it at folders holding
exported snapshots, e.g. ``git --git-dir=... archive HEAD | tar -x -C /tmp/corpus/NAME``::

    python bench/corpus.py /tmp/corpus/*            # counts and failure classes
    python bench/corpus.py /tmp/corpus/* --list     # and every failing skill, by class

Each skill (a folder holding SKILL.md, found as ``skillpm validate`` discovers them) is copied
into a temporary folder and taken through the CLI, in this process (click's runner):
``validate``, ``pack`` (falling back to ``init --from`` and ``pack`` again, counted apart, when
pack refuses a plain folder), ``publish`` into a fresh registry, and ``install --dir``; the
installed tree is then compared with the source, byte for byte. A skill's failure class is the
step that failed and, for validate, its error rules; for the others, the error's first words.
The script also runs ``validate`` on each repository's root and counts the skills it reports.
With ``--links-within-repo`` each skill is taken through in place, with ``--links-within`` its
repository, so that its links into the repository (a plugin's shared scripts) are packed as files;
the ``init --from`` fallback, which writes into the folder, is then not tried. A failing folder that lies
inside another one holding a SKILL.md (not the repository's root) (``deploy/SKILL.md``, a page of its parent skill; a test fixture in
``assets/``) is counted under its own class, ``inside a skill: ...``: no agent loads it as a skill, and
its parent packs it as one of its files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from click.testing import CliRunner

SKIPPED_DIRS = {".git", "node_modules"}


def find_skills(root: Path) -> list[Path]:
    """Every folder under ``root`` holding a SKILL.md (not inside .git or node_modules)."""
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        if "SKILL.md" in filenames:
            found.append(Path(directory))
    return found


def _cli(*args: str | os.PathLike[str]) -> tuple[int, str]:
    """Run ``skillpm ARGS`` in this process: its exit code and its output (stderr, or the exception)."""
    from skillpm.cli import cli

    result = CliRunner().invoke(cli, [os.fspath(arg) for arg in args], catch_exceptions=True)
    text = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += str(getattr(result.exception, "message", result.exception))
    return result.exit_code, text


def _json(text: str) -> dict:
    """The first JSON object in a command's output (its stderr, warnings included, follows stdout)."""
    return json.JSONDecoder().raw_decode(text, text.index("{"))[0]


def _words(text: str) -> str:
    """An error's class: its first words, with paths, names and numbers masked."""
    line = next((line for line in text.splitlines() if line.strip() and not line.startswith("warning")), text)
    line = re.sub(r"(/[^\s:'\"]+)+", "PATH", line)
    line = re.sub(r"'[^']*'", "'X'", line)
    line = re.sub(r"\d+", "N", line)
    return " ".join(line.split()[:9])


def _tree(root: Path, within: Path | None = None) -> dict[str, bytes]:
    """Every file under ``root`` (relative posix path -> bytes): a link to a file inside ``root`` (or
    ``within``) is read as that file, as pack stores it; a link leading out is left out, as validate refuses it."""
    files = {}
    inside = (within or root).resolve()
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        for name in filenames:
            path = Path(directory, name)
            if path.is_file() and path.resolve().is_relative_to(inside):
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def run_skill(skill: Path, work: Path, within: Path | None = None) -> tuple[str, list[str]]:
    """Take one skill through the pipeline in ``work``: ``(class, notes)``; class ``ok`` when it got through.

    With ``within`` (its repository), the skill is taken in place, its links allowed into ``within``.
    """
    if within is None:
        source = work / "src" / skill.name
        shutil.copytree(skill, source, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED_DIRS))
        links: tuple[str | Path, ...] = ()
    else:
        source, links = skill, ("--links-within", within)
    notes = []
    code, out = _cli("validate", source, *links, "--json")
    try:
        report = _json(out) if "{" in out else {}
    except ValueError:
        report = {}
    rules = sorted({f["rule"] for r in report.get("results", []) for f in r["findings"] if f["severity"] == "error"})
    if code:
        return "validate: " + " ".join(rules or [_words(out)]), notes
    code, out = _cli("pack", source, "-o", work / "dist", *links)
    if code and "has no skillpm.toml" in out and within is None:
        notes.append("pack needed init --from")
        code, out = _cli("init", "--from", source)
        if code:
            return "init --from: " + _words(out), notes
        code, out = _cli("pack", source, "-o", work / "dist")
    if code:
        return "pack: " + _words(out), notes
    registry = work / "registry"
    code, out = _cli("registry", "init", registry)
    code, out = _cli("publish", source, "--registry", registry, *links, "--json")
    if code:
        return "publish: " + _words(out), notes
    name = _json(out)["variants"][0]["name"]
    code, out = _cli("install", name, "--registry", registry, "--dir", work / "installed")
    if code:
        return "install: " + _words(out), notes
    want = {p: b for p, b in _tree(source, within).items() if p != "skillpm.toml"}
    got = _tree(work / "installed" / name)
    if got == want:
        return "ok", notes
    dropped = sorted(set(want) - set(got))
    if set(got) <= set(want) and all(got[p] == want[p] for p in got):
        hidden = all(any(part.startswith(".") or part == "__pycache__" for part in p.split("/")) for p in dropped)
        return ("ok, hidden files left out" if hidden else "installed tree lacks files"), notes + dropped
    return "installed tree differs", notes


def count_discovered(repo: Path) -> tuple[int, int]:
    """``validate REPO --json`` on a repository root: how many skills it reported, and how many valid."""
    code, out = _cli("validate", repo, "--json")
    try:
        results = _json(out)["results"]
    except (ValueError, KeyError):
        return 0, 0
    return len(results), sum(result["valid"] for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", nargs="+", type=Path, help="folders holding exported repositories")
    parser.add_argument("--list", action="store_true", help="list each failing skill under its class")
    parser.add_argument("--links-within-repo", action="store_true",
                        help="take each skill in place, its links allowed into its repository")
    args = parser.parse_args()
    repos = [repo.resolve() for repo in args.repos]  # before the chdir below
    with tempfile.TemporaryDirectory(prefix="skillpm-corpus-") as tmp:
        for variable in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
            os.environ[variable] = str(Path(tmp, variable.lower()))
        os.chdir(tmp)
        classes: Counter[str] = Counter()
        members: defaultdict[str, list[str]] = defaultdict(list)
        notes: Counter[str] = Counter()
        total = 0
        for repo in repos:
            skills = find_skills(repo)
            folders = set(skills) - {repo}  # a root SKILL.md may be a list of the skills (jscraik/Agent-Skills)
            for index, skill in enumerate(skills):
                total += 1
                work = Path(tmp, "work", f"{repo.name}-{index}")
                work.mkdir(parents=True)
                os.chdir(work)
                outcome, skill_notes = run_skill(skill, work, repo if args.links_within_repo else None)
                os.chdir(tmp)
                shutil.rmtree(work, ignore_errors=True)
                if not outcome.startswith("ok") and folders.intersection(skill.parents):
                    outcome = "inside a skill: " + outcome
                classes[outcome] += 1
                members[outcome].append(str(skill.relative_to(repo.parent)))
                notes.update(n for n in skill_notes if n.startswith("pack needed"))
            found, valid = count_discovered(repo)
            print(f"{repo.name}: validate on the repository root reports {found} skills, {valid} valid")
    through = sum(n for outcome, n in classes.items() if outcome.startswith("ok"))
    print(f"\n{total} skills; {through} through validate -> pack -> publish -> install "
          f"({classes['ok']} byte-identical, {classes['ok, hidden files left out']} all but hidden files)")
    for note, n in notes.items():
        print(f"  {n}: {note}")
    for outcome, n in classes.most_common():
        if not outcome.startswith("ok"):
            print(f"{n:5d}  {outcome}")
            if args.list:
                for member in members[outcome]:
                    print(f"         {member}")


if __name__ == "__main__":
    sys.exit(main())
