"""verify and info: every check of every attestation, who signed it, and the embedded registry's evidence."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skillpm.attest.keys import load_public_key
from skillpm.attest.variants import EMBEDDED_KEY
from skillpm.registry.factory import open_registry

from test_install_policy import base, tampered_statement  # noqa: F401  (the module-scoped registry fixture)
from test_publish import NAME, one_error, skillpm

ALL_CHECKS = [
    "bundle-file", "bundle", "artifact-digest", "signature", "signer", "payload-type", "statement", "subject",
    "predicate-type", "predicate-schema", "figures", "evidence-variant", "test-set", "requirements",
]


@pytest.fixture
def registry(base: dict[str, Any], tmp_path: Path, isolated) -> Path:  # noqa: F811
    import shutil

    return Path(shutil.copytree(base["root"], tmp_path / "registry"))


def test_verify_json_lists_each_check(registry: Path, base: dict[str, Any]) -> None:  # noqa: F811
    result = skillpm("verify", f"{NAME}==1.0.0", "--registry", registry, "--key", base["pub"], "--json")
    assert result.exit_code == 1, result.output  # the sm_90a variant carries no attestations: nothing vouches for it
    data = json.loads(result.stdout)
    assert (data["name"], data["version"], data["ok"]) == (NAME, "1.0.0", False)
    generic, hopper = data["variants"]
    assert hopper == {**hopper, "target": "sm_90a", "attestations": [], "ok": False, "attested": False}
    assert generic == {**generic, "ok": True, "attested": True}
    (attestation,) = generic["attestations"]
    assert [check["check"] for check in attestation["checks"]] == ALL_CHECKS
    assert all(check["ok"] for check in attestation["checks"])
    fingerprint = load_public_key(base["pub"]).fingerprint
    signer = next(check for check in attestation["checks"] if check["check"] == "signer")
    assert signer["detail"] == f"key {fingerprint} is trusted by the policy"


def test_verify_says_how_many_variants_carried_evidence(registry: Path, base: dict[str, Any]) -> None:  # noqa: F811
    """"Verified" is claimed only of variants that had something to verify; one with nothing is no success."""
    result = skillpm("verify", NAME, "--registry", registry, "--key", base["pub"])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1] == "1 of 2 variant(s) carry no attestations: nothing vouches for them"
    assert "sm_90a   -         attested          FAIL    no attestations" in result.stdout
    result = skillpm("verify", NAME, "--registry", registry, "--key", base["pub"], "--target", "generic")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines()[-1] == "1 of 1 variant(s) carry attestations, all verified"
    result = skillpm("verify", "kernel-builder-cuda")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"(\d+) of \1 variant\(s\) carry attestations, all verified", result.stderr.strip().splitlines()[-1])
    bare = skillpm("verify", f"{NAME}==0.9.0", "--registry", registry, "--json")
    assert bare.exit_code == 1, bare.output
    (variant,) = json.loads(bare.stdout)["variants"]
    assert json.loads(bare.stdout)["ok"] is False and (variant["ok"], variant["attested"]) == (False, False)


def test_verify_checks_the_version_install_would_install(
    registry: Path, base: dict[str, Any], tmp_path: Path  # noqa: F811
) -> None:
    """Not a pre-release nor a yanked version install passes over: install's own resolver picks it, unless pinned."""
    from conftest import build_source
    from test_publish import digests, make_evidence, write_json

    from skillpm.publish import KeySigner, publish
    from skillpm.registry import store

    source = build_source(tmp_path / "rc", NAME, {"generic": {}}, version="2.0.0rc1")
    sha256 = digests(source, tmp_path)["generic"]
    evidence = make_evidence("eval", target="generic", sha256=sha256, version="2.0.0rc1")
    publish(source, registry, evidence=[write_json(tmp_path / "rc.json", evidence)], signer=KeySigner(base["key"]))

    def verified(*args: str) -> tuple[int, str, list[bool]]:
        result = skillpm("verify", *args, "--registry", registry, "--key", base["pub"], "--json")
        data = json.loads(result.stdout)
        return result.exit_code, data["version"], [variant.get("attested") for variant in data["variants"]]

    def installed_version() -> str:
        result = skillpm("resolve", NAME, "--registry", registry, "--arch", "9.0", "--json")
        return json.loads(result.stdout)["version"]

    assert verified(NAME)[1] == "1.0.0"  # not 2.0.0rc1: install passes over a pre-release
    assert installed_version() == "1.0.0" and verified(NAME, "--arch", "9.0") == (1, "1.0.0", [True, False])
    assert verified(NAME, "--arch", "9.0", "--target", "generic") == (0, "1.0.0", [True])
    assert verified(f"{NAME}==2.0.0rc1") == (0, "2.0.0rc1", [True])  # pinned: that version, pre-release or not
    store.yank(registry, NAME, "1.0.0")
    assert installed_version() == "0.9.0" and verified(NAME, "--arch", "9.0") == (1, "0.9.0", [False])
    assert verified(f"{NAME}==1.0.0")[:2] == (1, "1.0.0")  # pinned: yanked too
    text = skillpm("verify", NAME, "--registry", registry, "--arch", "9.0")
    assert "verifying layer-norm 0.9.0: what 'install' would choose for capability 9.0" in text.stderr


def test_verify_fails_for_an_untrusted_signer_and_a_tampered_statement(
    registry: Path, base: dict[str, Any]  # noqa: F811
) -> None:
    result = skillpm("verify", NAME, "--registry", registry, "--target", "generic")
    assert result.exit_code == 1
    assert "signed by an unknown key" in result.stdout and "1 of 1 variant(s) failed verification" in result.stderr
    tampered_statement(registry, base)
    result = skillpm("verify", NAME, "--registry", registry, "--target", "generic", "--key", base["pub"], "--json")
    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["variants"][0]["attestations"][0]["checks"]}
    assert not checks["signature"]["ok"] and "was altered" in checks["signature"]["detail"]


def test_verify_requirements_and_usage(registry: Path, base: dict[str, Any]) -> None:  # noqa: F811
    (Path.cwd() / ".skillpm").mkdir()
    (Path.cwd() / ".skillpm" / "policy.toml").write_text("[require]\nattestations = true\n")
    result = skillpm("verify", NAME, "--registry", registry, "--key", base["pub"], "--json")
    assert result.exit_code == 1
    hopper = json.loads(result.stdout)["variants"][1]
    assert hopper["missing"] == ["the variant has no verified attestation, and policy requires one"]
    assert "is not ISSUER=IDENTITY" in one_error(skillpm("verify", NAME, "--registry", registry, "--identity", "x"))
    assert "no version of" in one_error(skillpm("verify", f"{NAME}==7", "--registry", registry))


def test_info_shows_evidence_and_signer(registry: Path, base: dict[str, Any]) -> None:  # noqa: F811
    result = skillpm("info", NAME, "--registry", registry)
    assert result.exit_code == 0, result.output
    fingerprint = load_public_key(base["pub"]).fingerprint
    assert f"1.0.0 generic eval; signed by key {fingerprint} (NOT verified: signature: signed by an unknown key" in result.stdout
    home = Path(os.environ["XDG_CONFIG_HOME"]) / "skillpm"
    home.mkdir(parents=True)
    (home / "policy.toml").write_text(f'[[trust.keys]]\nfingerprint = "{fingerprint}"\npublic-key = "{base["pub"]}"\n')
    result = skillpm("info", NAME, "--registry", registry, "--json")
    (evidence,) = json.loads(result.stdout)["evidence"]
    assert evidence["verified"] is True and evidence["signer"] == f"key {fingerprint}"
    assert evidence["summary"] == "eval: 2 model(s), pass rate 0.85-0.9, lift 0.25-0.35"


def test_the_embedded_registry_carries_static_evidence_only_and_says_the_rest_was_not_measured(isolated) -> None:
    """Each variant's kernel was counted from a real compile; no eval was run against a model and no
    benchmark on a GPU: those are 'not measured', none invented."""
    from skillpm.attest.statement import STATIC_KERNEL_PREDICATE

    document = open_registry("embedded").package("kernel-builder-cuda")
    latest = document.versions[-1]
    assert all([a.predicate_type for a in variant.attestations] == [STATIC_KERNEL_PREDICATE] for variant in latest.variants)
    result = skillpm("info", "kernel-builder-cuda", "--json")
    assert result.exit_code == 0, result.output
    shows = [item for item in json.loads(result.stdout)["measured"] if item["version"] == latest.version]
    assert len(shows) == 3 * len(latest.variants)
    for item in shows:
        if item["kind"] == "static-kernel":
            assert re.match(r"static: sm_\d+[af]? [\d.]+/[\d.]+ SASS/elem, \d+ regs, 0 B spilled", item["shows"]), item
            assert item["shows"].endswith(f"(signed by key {load_public_key(EMBEDDED_KEY).fingerprint})")
        else:
            assert item["shows"] == "not measured", item
    text = skillpm("info", "kernel-builder-cuda").stdout
    assert "eval: not measured" in text and "GPU bench: not measured" in text and "evidence: none yet" not in text
    for variant in latest.variants:  # each variant's verified figures once, under "measured", with their signer
        assert len(re.findall(rf"^  {variant.target} +static-kernel: static: ", text, re.MULTILINE)) == 1
        assert f"{latest.version} {variant.target} static:" not in text


def test_every_embedded_attestation_verifies_with_the_shipped_key(isolated) -> None:
    """What the staleness test cannot rebuild without the private key, it checks this way."""
    from skillpm.attest.variants import effective_policy, verify_variant

    registry = open_registry("embedded")
    policy = effective_policy("embedded", project_root=None)
    assert [key.fingerprint for key in policy.keys] == [load_public_key(EMBEDDED_KEY).fingerprint]
    for search in registry.search_entries():
        document = registry.package(search.name)
        for entry in document.versions:
            for variant in entry.variants:
                report = verify_variant(registry, name=document.name, version=entry.version, variant=variant,
                                        policy=policy, artifact=registry.artifact(variant.path, limit=variant.size))
                assert report.ok, report.to_json()


def test_the_shipped_key_is_trusted_for_the_embedded_registry_only() -> None:
    from skillpm.attest.variants import registry_policy

    (key,) = registry_policy("embedded").keys
    assert key.registries == ("embedded",) and key.public_key == EMBEDDED_KEY.read_bytes()
    assert registry_policy("file:///elsewhere").keys == ()
    assert registry_policy("embedded").for_registry("https://elsewhere.example").keys == ()


def test_installing_without_attestations_loads_no_crypto(registry: Path, tmp_path: Path) -> None:
    """The start-up budget: installing a variant without attestations from an unsigned index imports neither
    cryptography, sigstore nor a JSON Schema validator."""
    project = tmp_path / "fresh-project"
    (project / ".git").mkdir(parents=True)
    code = (
        f"import sys\nfrom skillpm.cli import main\nsys.argv=['skillpm','install','{NAME}==0.9.0','--registry',{str(registry)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print(sorted(m for m in ('cryptography', 'sigstore', 'jsonschema', 'jsonschema_rs') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SKILLPM_REGISTRY", "SKILLPM_ARCH")}
    env |= {"SKILLPM_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert f"warning: {NAME} 0.9.0 (generic) has no attestations" in done.stderr
