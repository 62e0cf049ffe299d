"""Static-kernel evidence end to end: a real compile, signed by a fresh build key, installed and verified.

A checkout in miniature holds kernel-builder-cuda with one variant (sm_80: one nvcc compile, since
nvcc is slow on shared cores), the real .ci scripts and a docs page with the fingerprint line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skillpm.attest.keys import load_public_key

from conftest import _console_script, needs_nvcc
from test_embedded_registry import FINGERPRINT_LINE, kernel_source_problems, private_keys_under, static_documents

REPO = Path(__file__).resolve().parent.parent
SKILL = "kernel-builder-cuda"
TARGET = "sm_80"

pytestmark = needs_nvcc


def _run(*args: Any, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SKILLPM_INDEX_KEY", "SKILLPM_REGISTRY", "SKILLPM_ARCH")}
    env |= {"SKILLPM": _console_script(), "NO_COLOR": "1"}
    return subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The miniature checkout after .ci/static-evidence and an in-place .ci/build-registry."""
    repo = tmp_path_factory.mktemp("static") / "repo"
    skill = Path(shutil.copytree(REPO / "skills" / SKILL, repo / "skills" / SKILL))
    manifest = (skill / "skillpm.toml").read_text()
    (skill / "skillpm.toml").write_text(manifest[: manifest.index("[variants.")] + f"[variants.{TARGET}]\n")
    for folder in (skill / "variants").iterdir():
        if folder.name != TARGET:
            shutil.rmtree(folder)
    (repo / ".ci").mkdir()
    shutil.copy2(REPO / ".ci" / "build-registry", repo / ".ci")
    (repo / "docs").mkdir()
    (repo / "docs" / "attestations.md").write_text(f"{FINGERPRINT_LINE}`{'0' * 64}`\n")
    evidence = repo / "evidence" / SKILL
    made = _run(sys.executable, REPO / ".ci" / "static-evidence", skill, evidence)
    assert made.returncode == 0, made.stderr
    registry = _run("bash", repo / ".ci" / "build-registry")
    assert registry.returncode == 0, registry.stderr
    pub = repo / "skillpm" / "trust" / "embedded-registry.pub"
    return {"repo": repo, "skill": skill, "evidence": evidence / f"static-kernel-{TARGET}.json",
            "registry": repo / "registry", "pub": pub}


def test_the_evidence_records_what_the_compile_measured(built: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    from skillpm.pack import pack

    document = json.loads(built["evidence"].read_text())
    schema = json.loads((REPO / "schemas" / "static-kernel-evidence.schema.json").read_text())
    Draft202012Validator(schema).validate(document)
    (archive,) = pack(built["skill"], built["repo"] / "dist")
    assert document["skill"] == {"name": SKILL, "version": archive.metadata.version, "target": TARGET,
                                 "artifact_sha256": archive.sha256}
    nvcc = subprocess.run(["nvcc", "--version"], capture_output=True, text=True, timeout=60).stdout
    assert document["tools"]["nvcc"] == re.search(r"V([\d.]+)", nvcc).group(1)
    assert [(k["target"], k["gelu"], k["gencode"]) for k in document["kernels"]] == [
        (TARGET, "none", "arch=compute_80,code=sm_80"), (TARGET, "tanh", "arch=compute_80,code=sm_80")]
    for kernel in document["kernels"]:
        assert kernel["spill_bytes"] == 0 and 0 < kernel["sass_per_element"] <= kernel["target_budget"] == 28
        assert kernel["sass_per_element"] == round(kernel["loop_instructions"] / kernel["elements_per_thread"], 2)
        (a100,) = kernel["gpus"]  # the only GPU of the table an sm_80 cubin runs on
        # 108 SMs x 4 x 1.41 GHz x 32 / (2039 GB/s / 4 B); within that budget the ceiling is all of the bandwidth
        assert a100["name"] == "A100 SXM 80GB" and a100["budget_per_element"] == 38.24 and a100["ceiling"] == 1.0
    sources = document["kernel"]["sources"]
    project = built["skill"] / document["kernel"]["project"]
    assert sources == {name: hashlib.sha256((project / name).read_bytes()).hexdigest() for name in sources}
    assert "layernorm_gelu_cuda/layernorm_gelu.cu" in sources


def test_the_build_signs_it_with_a_fresh_key_whose_public_half_alone_is_shipped(built: dict[str, Any]) -> None:
    fingerprint = load_public_key(built["pub"]).fingerprint
    assert f"{FINGERPRINT_LINE}`{fingerprint}`" in (built["repo"] / "docs" / "attestations.md").read_text()
    assert private_keys_under(built["repo"]) == []
    assert kernel_source_problems(static_documents(built["registry"], built["evidence"].parent),
                                  built["repo"] / "skills") == []


def test_installed_from_the_build_it_verifies_with_the_shipped_key(
    built: dict[str, Any], tmp_path: Path, isolated
) -> None:
    installed = _run(_console_script(), "install", SKILL, "--registry", built["registry"], "--arch", "8.0",
                     "--require-attestations", "--trusted-key", built["pub"], cwd=isolated.project)
    assert installed.returncode == 0, installed.stderr
    assert f"({TARGET})" in installed.stdout and "warning" not in installed.stderr
    verified = _run(_console_script(), "verify", SKILL, "--arch", "8.0", "--registry", built["registry"],
                    "--key", built["pub"])
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert re.search(rf"{TARGET}\s+static-kernel\s+static: {TARGET} [\d.]+/[\d.]+ SASS/elem, \d+ regs, 0 B spilled",
                     verified.stdout), verified.stdout
    assert re.search(rf"{TARGET}\s+eval\s+not measured", verified.stdout)
    assert re.search(rf"{TARGET}\s+GPU bench\s+not measured", verified.stdout)
    info = _run(_console_script(), "info", SKILL, "--registry", built["registry"], "--json")
    shows = {item["kind"]: item["shows"] for item in json.loads(info.stdout)["measured"]}
    assert shows["eval"] == shows["GPU bench"] == "not measured"


def _edit_statement(registry: Path, edit, key: Path | None) -> Path:
    """Apply ``edit`` to the signed statement's JSON, keeping the signature (or signing it again with
    ``key``), and list the new bundle's digest in the index, as someone who controls the registry's files could."""
    (index,) = (registry / "index").rglob(f"{SKILL}.json")
    document = json.loads(index.read_text())
    (attestation,) = document["versions"][-1]["variants"][0]["attestations"]
    path = registry / attestation["path"]
    bundle = json.loads(path.read_bytes())
    payload = edit(bytearray(base64.b64decode(bundle["dsseEnvelope"]["payload"])))
    if key is None:
        bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
        path.write_bytes(json.dumps(bundle).encode())
    else:
        from skillpm.attest.bundle import sign_with_key
        from skillpm.attest.keys import load_signing_key
        from skillpm.attest.statement import parse_statement

        path.write_bytes(sign_with_key(parse_statement(payload), load_signing_key(key)))
    attestation["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    index.write_text(json.dumps(document, indent=2))
    return path


def _one_predicate_byte(payload: bytearray) -> bytes:
    at = payload.index(b'"sass_per_element":') + len(b'"sass_per_element":')
    payload[at] = ord("9") if payload[at] != ord("9") else ord("8")
    return bytes(payload)


def _other_subject(payload: bytearray) -> bytes:
    statement = json.loads(payload)
    statement["subject"][0]["digest"]["sha256"] = "f" * 64
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("edit", "resign", "failed", "refusal"),
    [
        (_one_predicate_byte, False, {"signature", "signer"}, "check 'signature' failed"),
        (_other_subject, False, {"signature", "signer", "subject"}, "check 'signature' failed"),
        (_other_subject, True, {"subject"}, "check 'subject' failed"),  # signed, by a trusted key, about other bytes
    ],
)
def test_a_tampered_statement_is_refused(
    built: dict[str, Any], tmp_path: Path, isolated, edit, resign: bool, failed: set[str], refusal: str
) -> None:
    from test_publish import write_key

    registry = Path(shutil.copytree(built["registry"], tmp_path / "registry"))
    key = write_key(tmp_path / "keys" / "forger")
    _edit_statement(registry, edit, key if resign else None)
    trust = ["--key", built["pub"], "--key", key.with_name("forger.pub")]
    verified = _run(_console_script(), "verify", SKILL, "--arch", "8.0", "--registry", registry, *trust, "--json")
    assert verified.returncode == 1
    (variant,) = json.loads(verified.stdout)["variants"]
    checks = variant["attestations"][0]["checks"]
    assert {check["check"] for check in checks if not check["ok"]} == failed
    assert variant["measured"]["static-kernel"] == "attached, but not verified under your policy"
    installed = _run(_console_script(), "install", SKILL, "--registry", registry, "--arch", "8.0",
                     "--trusted-key", built["pub"], "--trusted-key", key.with_name("forger.pub"), cwd=isolated.project)
    assert installed.returncode == 1 and refusal in installed.stderr, installed.stderr
    assert not (isolated.project / ".claude").exists()


def test_a_kernel_change_without_measuring_again_is_named(built: dict[str, Any], tmp_path: Path) -> None:
    skills = Path(shutil.copytree(built["repo"] / "skills", tmp_path / "skills"))
    kernel = skills / SKILL / "assets" / "layernorm_gelu" / "layernorm_gelu_cuda" / "layernorm_gelu.cu"
    kernel.write_text(kernel.read_text() + "\n// tuned\n")
    (kernel.parent / "extra.cuh").write_text("#pragma once\n")
    problems = kernel_source_problems(static_documents(built["registry"], built["evidence"].parent), skills)
    assert len(problems) == 2  # the evidence file and the signed statement in the registry
    assert all("layernorm_gelu_cuda/extra.cuh, layernorm_gelu_cuda/layernorm_gelu.cu" in p for p in problems)
