"""Resolve in a generated index of 10,000 packages x 20 versions x 4 variants.

Targets (issue 3): one `resolve` reads only config.json and that package's
document, and answers in under 50 ms beyond start-up (start-up = `skillpm
--version`, measured in the same run).
Usage: python bench/resolve_large_index.py [--packages N] [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import report, skillpm_command, time_command
from _synthetic import TARGETS, documents

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from skillpm.index.model import RegistryConfig, SearchEntry, search_document, shard_path  # noqa: E402

_AUDIT = """
import sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(ROOT):
        opened.append(args[0][len(ROOT):])
sys.addaudithook(hook)
from skillpm.cli import main
try:
    main()
finally:
    sys.stderr.write("OPENED " + " ".join(sorted(set(opened))) + "\\n")
"""


def generate(root: Path, packages: int, versions: int) -> None:
    """Write a registry with ``packages`` packages of ``versions`` versions x 4 variants each."""
    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps(RegistryConfig("bench").to_json()))
    entries = []
    for document in documents(packages, versions):
        path = root / "index" / shard_path(document.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document.to_json()))
        latest = document.versions[-1]
        entries.append(SearchEntry(document.name, latest.version, latest.description, latest.keywords, TARGETS))
    (root / "search.json").write_text(json.dumps(search_document(entries)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "registry"
        generate(root, args.packages, args.versions)
        name = f"pkg-{args.packages // 2:05d}"
        skillpm = skillpm_command()
        env = {"SKILLPM_REGISTRY": str(root)}
        startup = time_command([*skillpm, "--version"], runs=args.runs, env=env)
        resolve = time_command([*skillpm, "resolve", name, "--arch", "9.0"], runs=args.runs, env=env)
        audit = subprocess.run(
            [sys.executable, "-c", _AUDIT.replace("ROOT", repr(str(root) + "/")), "resolve", name, "--arch", "9.0"],
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PATH": ""},
        )
        opened = audit.stderr.split("OPENED ", 1)[1].split()
    print(f"index: {args.packages} packages x {args.versions} versions x {len(TARGETS)} variants")
    print(f"start-up (skillpm --version): {startup * 1000:.1f} ms; resolve: {resolve * 1000:.1f} ms")
    print(f"files read under the registry: {', '.join(opened)}")
    expected = sorted(["config.json", f"index/{shard_path(name)}"])
    ok = report("resolve time beyond start-up (ms)", (resolve - startup) * 1000, "< 50", resolve - startup < 0.050)
    ok &= report("index documents read", len(opened), "== 2", opened == expected)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
