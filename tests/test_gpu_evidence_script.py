"""bench/gpu_evidence.py, the one command for a GPU machine: its plan, its refusal without a GPU,
and its signing step (on the invented GPU evidence of tests/assets/attest: no figure here is measured).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

from skillpm.archive import archive_name
from skillpm.attest.keys import keygen, load_public_key
from skillpm.attest.policy import Policy, TrustedKey
from skillpm.attest.verify import failures, verify_attestation
from skillpm.publish import parse_signer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "gpu_evidence.py"
GPU_EVIDENCE = ROOT / "tests" / "assets" / "attest" / "bench-evidence.json"


@pytest.fixture(scope="module")
def script() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("gpu_evidence", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def run(*args: str, path: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The script under this interpreter, with PATH set to ``path`` (where nvidia-smi is, or is not)."""
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def test_the_plan_fits_in_eight_minutes(script: ModuleType, tmp_path: Path) -> None:
    steps = script.plan(ROOT / "skills" / "kernel-builder-cuda", tmp_path, "sigstore", peak_gbps=None, registry=None)
    assert [step.name for step in steps] == ["preflight", "bench", "sign", "attest"]
    assert sum(step.budget for step in steps) <= script.TOTAL_BUDGET == 8 * 60
    bench = steps[1].command
    assert bench[1:4] == ("-m", "skillpm", "bench") and "--with-tests" in bench and "--peak-gbps" not in bench
    assert bench[-2:] == ("--out", str(tmp_path / "bench-evidence.json"))


def test_attest_command(script: ModuleType) -> None:
    evidence = Path("out/bench-evidence.json")
    assert script.attest_command("kernel-builder-cuda", "0.2.0", "sm_90", evidence, "key:k", None) == (
        "skillpm", "attest", "kernel-builder-cuda==0.2.0", "--target", "sm_90", "--evidence", str(evidence),
        "--sign", "key:k",
    )  # fmt: skip
    assert script.attest_command("n", "1", "generic", evidence, "sigstore", "./reg")[-2:] == ("--registry", "./reg")


def test_dry_run_prints_the_plan_without_a_gpu(tmp_path: Path) -> None:
    done = run("--dry-run", "--sign", "key:/k", "--registry", "./reg", "--peak-gbps", "1234", path=str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "plan (480 s budgeted, 480 s at most):"
    numbered = [line for line in lines if re.match(r"[0-9]\. ", line)]
    assert [line.split()[1] for line in numbered] == ["preflight", "bench", "sign", "attest"]
    assert sum(int(re.search(r"\(([0-9]+) s\)", line)[1]) for line in numbered) <= 480
    assert "--with-tests --peak-gbps 1234.0 --out gpu-evidence/bench-evidence.json" in done.stdout
    assert "$ skillpm attest NAME==VERSION --target TARGET --evidence gpu-evidence/bench-evidence.json " \
           "--sign key:/k --registry ./reg" in done.stdout
    assert list(tmp_path.iterdir()) == []  # a plan writes nothing


def assert_refused(done: subprocess.CompletedProcess[str], contains: str) -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert lines and lines[0].startswith("error: ") and contains in lines[0], done.stderr
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:]) and "Traceback" not in done.stderr


def test_without_nvidia_smi_it_stops_at_once(tmp_path: Path) -> None:
    done = run("--sign", "key:/does/not/exist", path=str(tmp_path), cwd=tmp_path)
    assert_refused(done, "an NVIDIA GPU is needed: nvidia-smi is not on PATH")
    assert list(tmp_path.iterdir()) == []  # the GPU check comes before the key, the build and any file


def test_a_driver_that_lists_no_gpu_is_refused(tmp_path: Path) -> None:
    smi = tmp_path / "nvidia-smi"  # stands in for the driver's tool on a machine whose GPU is gone
    smi.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    smi.chmod(0o755)
    done = run("--sign", "sigstore", path=str(tmp_path), cwd=tmp_path)
    assert_refused(done, "an NVIDIA GPU is needed: nvidia-smi lists none (No devices were found)")


def test_sign_writes_a_bundle_that_verifies(script: ModuleType, tmp_path: Path) -> None:
    key = keygen(tmp_path / "key")
    evidence = tmp_path / "bench-evidence.json"
    evidence.write_bytes(GPU_EVIDENCE.read_bytes())
    document, bundle = script.sign_evidence(evidence, parse_signer(f"key:{key.private_path}"))
    skill = document["skill"]
    name = archive_name(skill["name"], skill["version"], skill["target"])
    assert bundle == tmp_path / f"{name}.bench.sigstore.json"
    policy = Policy(keys=(TrustedKey(key.fingerprint),))
    checks = verify_attestation(
        bundle.read_bytes(), artifact_name=name, artifact_sha256=skill["artifact_sha256"],
        expected=(skill["name"], skill["version"], skill["target"]), policy=policy,
        keys=[load_public_key(key.public_path)],
    )  # fmt: skip
    assert failures(checks) == []
    assert {check.name for check in checks} >= {"signature", "gpu-evidence"}


def test_sign_refuses_what_is_not_gpu_evidence(script: ModuleType, tmp_path: Path) -> None:
    key = keygen(tmp_path / "key")
    document = json.loads(GPU_EVIDENCE.read_text())
    document["gpu_evidence"] = False
    evidence = tmp_path / "bench-evidence.json"
    evidence.write_text(json.dumps(document))
    with pytest.raises(script.Refused, match="is not GPU evidence"):
        script.sign_evidence(evidence, parse_signer(f"key:{key.private_path}"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bench-evidence.json", "key", "key.pub"]
