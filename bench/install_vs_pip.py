"""Cold install over HTTP: `skillpm install kernel-builder-cuda` against `pip install` of a wheel of the same size.

Both come from one local server (skillpm's `registry serve` handler on 127.0.0.1):
the embedded registry under /reg, and a PEP 503 simple index under /simple holding
a generated wheel (a package with one incompressible data file) whose size equals
the archive of the variant it installs (sm_90, for --arch 9.0). Every run starts with an empty cache: a fresh
SKILLPM_CACHE_DIR for skillpm, --no-cache-dir for pip; each installs into a fresh
folder. Target (issue 7): skillpm's median time <= pip's (ratio <= 1.0).
Usage: python bench/install_vs_pip.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from _common import REPO, report, skillpm_command

sys.path.insert(0, str(REPO))

from skillpm.registry.serve import make_server, server_url

PACKAGE = "kernel-builder-cuda"
WHEEL_NAME = "skillpm_bench_payload"


TARGET = "sm_90"  # what --arch 9.0 installs


def artifact_size() -> int:
    """The size of the archive skillpm installs, as the embedded index lists it (newest version)."""
    import json

    document = json.loads((REPO / "registry/index/ke/rn/kernel-builder-cuda.json").read_text())
    variants = document["versions"][-1]["variants"]
    return next(variant["size"] for variant in variants if variant["target"] == TARGET)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, size: int) -> Path:
    """A valid pure-Python wheel of exactly ``size`` bytes (within a few), padded with random data."""
    path = folder / f"{WHEEL_NAME}-1.0-py3-none-any.whl"
    padding = size
    for _ in range(4):
        files = {
            f"{WHEEL_NAME}/__init__.py": b"",
            f"{WHEEL_NAME}/payload.bin": os.urandom(max(0, padding)),
            f"{WHEEL_NAME}-1.0.dist-info/METADATA": (
                f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: 1.0\n".encode()
            ),
            f"{WHEEL_NAME}-1.0.dist-info/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            ),
        }
        record = f"{WHEEL_NAME}-1.0.dist-info/RECORD"
        lines = [_record_line(name, data) for name, data in files.items()] + [f"{record},,"]
        files[record] = ("\n".join(lines) + "\n").encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        padding += size - path.stat().st_size
        if abs(path.stat().st_size - size) <= 16:
            break
    return path


def build_site(root: Path) -> Path:
    """``root/reg`` (a copy of the embedded registry) and ``root/simple/<wheel>/`` (PEP 503)."""
    shutil.copytree(REPO / "registry", root / "reg")
    project = root / "simple" / WHEEL_NAME.replace("_", "-")
    project.mkdir(parents=True)
    wheel = build_wheel(project, artifact_size())
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (project / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>\n'
    )
    (root / "simple" / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{project.name}/">{project.name}</a></body></html>\n'
    )
    return wheel


def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="skillpm-bench-") as temporary:
        work = Path(temporary)
        wheel = build_site(work / "site")
        server = make_server(work / "site")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = server_url(server)
        print(f"artifact {artifact_size()} bytes, wheel {wheel.stat().st_size} bytes, served at {url}")
        env = {**os.environ, "SKILLPM_CONFIG": str(work / "none.toml")}
        env.pop("SKILLPM_REGISTRY", None)
        skillpm = [*skillpm_command(), "install", PACKAGE, "--registry", f"{url}/reg", "--arch", "9.0"]
        pip = [sys.executable, "-m", "pip", "install", "--index-url", f"{url}/simple", "--no-deps",
               "--no-cache-dir", "--disable-pip-version-check", "--no-input", "-q"]
        samples: dict[str, list[float]] = {"skillpm": [], "pip": []}
        for index in range(runs + 1):  # run 0 warms the OS file cache and is dropped
            run = work / f"run{index}"
            (run / "project" / ".git").mkdir(parents=True)
            skillpm_time = timed(skillpm, cwd=run / "project", env={**env, "SKILLPM_CACHE_DIR": str(run / "cache")})
            pip_time = timed([*pip, "--target", str(run / "target"), WHEEL_NAME], cwd=run, env=env)
            assert (run / "project" / ".claude" / "skills" / PACKAGE / "SKILL.md").is_file()
            assert (run / "target" / WHEEL_NAME / "payload.bin").is_file()
            if index:
                samples["skillpm"].append(skillpm_time)
                samples["pip"].append(pip_time)
        server.shutdown()
        server.server_close()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in medians.items():
        print(f"{name:<8} median {value * 1000:7.1f} ms over {runs} cold runs")
    ratio = medians["skillpm"] / medians["pip"]
    ok = report("skillpm install (cold, HTTP) / pip install of a same-size wheel", ratio, "<= 1.0", ratio <= 1.0)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
