"""skillpm attest: signed evidence from others about an already-published variant, weighed by its signer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skillpm.attest.keys import load_public_key
from skillpm.index.model import shard_path
from skillpm.registry import store

from conftest import build_source, tree_bytes
from test_publish import NAME, VARIANTS, digests, make_evidence, one_error, skillpm, write_json, write_key


@pytest.fixture
def published(tmp_path: Path, isolated) -> dict[str, Any]:
    """layer-norm 1.0.0 published without evidence; an H100 owner's key and bench evidence about sm_90a."""
    from skillpm.publish import publish

    source = build_source(tmp_path, NAME, VARIANTS)
    registry = tmp_path / "reg"
    store.init(registry)
    publish(source, registry)
    sums = digests(source, tmp_path)
    key = write_key(tmp_path / "keys" / "h100-owner")
    bench = write_json(tmp_path / "bench.json", make_evidence("bench", target="sm_90a", sha256=sums["sm_90a"]))
    return {"registry": registry, "key": key, "pub": key.with_name(key.name + ".pub"), "sums": sums, "bench": bench,
            "tmp": tmp_path}


def attest(p: dict[str, Any], *extra: Any, evidence: Path | None = None, target: str = "sm_90a",
           requirement: str = f"{NAME}==1.0.0"):
    return skillpm("attest", requirement, "--target", target, "--evidence", evidence or p["bench"],
                   "--registry", p["registry"], *extra)


def attestations(registry: Path, target: str) -> list[dict[str, Any]]:
    document = json.loads((registry / "index" / shard_path(NAME)).read_text())
    (entry,) = [e for e in document["versions"] if e["version"] == "1.0.0"]
    return next(v for v in entry["variants"] if v["target"] == target)["attestations"]


def test_attest_adds_a_signed_statement_without_republishing(published: dict[str, Any]) -> None:
    registry = published["registry"]
    archives = {path: data for path, data in tree_bytes(registry).items() if path.startswith("artifacts/")}
    result = attest(published, "--sign", f"key:{published['key']}")
    assert result.exit_code == 0, result.output
    fingerprint = load_public_key(published["pub"]).fingerprint
    assert f"attested {NAME} 1.0.0 (sm_90a) sha256:{published['sums']['sm_90a']}" in result.stdout
    assert f"(key {fingerprint})" in result.stdout
    (listed,) = attestations(registry, "sm_90a")
    assert listed["predicate-type"] == "https://skillpm.dev/attestations/bench/v1"
    assert attestations(registry, "generic") == []
    after = {path: data for path, data in tree_bytes(registry).items() if path.startswith("artifacts/")}
    assert after == archives  # nothing republished
    again = attest(published, "--sign", f"key:{published['key']}")
    assert again.exit_code == 0 and "already attested" in again.stdout
    assert len(attestations(registry, "sm_90a")) == 1


def test_verify_reports_the_new_evidence_by_its_signer(published: dict[str, Any]) -> None:
    assert attest(published, "--sign", f"key:{published['key']}").exit_code == 0
    fingerprint = load_public_key(published["pub"]).fingerprint
    trusted = skillpm("verify", f"{NAME}==1.0.0", "--registry", published["registry"], "--key", published["pub"],
                      "--target", "sm_90a", "--json")
    assert trusted.exit_code == 0, trusted.output
    (variant,) = json.loads(trusted.stdout)["variants"]
    checks = {check["check"]: check for check in variant["attestations"][0]["checks"]}
    assert checks["signer"]["detail"] == f"key {fingerprint} is trusted by the policy"
    assert variant["measured"]["GPU bench"].startswith("bench: ")
    assert variant["measured"]["GPU bench"].endswith(f"(signed by key {fingerprint})")
    assert variant["measured"]["eval"] == "not measured"
    assert variant["measured"]["static-kernel"] == "not measured"
    untrusted = skillpm("verify", f"{NAME}==1.0.0", "--registry", published["registry"], "--target", "sm_90a")
    assert untrusted.exit_code == 1 and f"signed by an unknown key {fingerprint}" in untrusted.stdout


def test_a_second_signer_s_attestation_of_the_same_evidence_is_kept(published: dict[str, Any]) -> None:
    """Two signers attest the same evidence: the second's bundle was dropped ('already attested ... carries this
    statement', exit 0), so a user trusting only that signer found the evidence unverified. Each is kept now."""
    second = write_key(published["tmp"] / "keys" / "second-owner")
    fingerprints = [load_public_key(key.with_name(key.name + ".pub")).fingerprint for key in (published["key"], second)]
    for key in (published["key"], second):
        result = attest(published, "--sign", f"key:{key}")
        assert result.exit_code == 0 and "\nattested " in f"\n{result.stdout}", result.output
    listed = attestations(published["registry"], "sm_90a")
    assert [item["path"].rsplit("-", 1)[1] for item in listed] == [f"{fp[:16]}.sigstore.json" for fp in fingerprints]
    assert len({item["path"].rsplit("-", 1)[0] for item in listed}) == 1  # one statement, two signers

    trusted = skillpm("verify", f"{NAME}==1.0.0", "--registry", published["registry"], "--key",
                      second.with_name("second-owner.pub"), "--target", "sm_90a", "--json")
    (variant,) = json.loads(trusted.stdout)["variants"]
    assert variant["measured"]["GPU bench"].endswith(f"(signed by key {fingerprints[1]})")
    again = attest(published, "--sign", f"key:{second}")
    assert again.exit_code == 0 and "already attested" in again.stdout
    assert len(attestations(published["registry"], "sm_90a")) == 2


def test_a_bundle_where_registries_kept_it_before_the_signer_was_named_still_verifies_and_is_not_doubled(
    published: dict[str, Any]
) -> None:
    """A registry written before holds '<archive>.bench-<16 hex>.sigstore.json': verify reads it by its listed
    path, and the same key attesting the same evidence again (the same bytes) adds no second copy."""
    assert attest(published, "--sign", f"key:{published['key']}").exit_code == 0
    registry, document = published["registry"], published["registry"] / "index" / shard_path(NAME)
    (item,) = attestations(registry, "sm_90a")
    old = item["path"].rsplit("-", 1)[0] + ".sigstore.json"
    (registry / item["path"]).rename(registry / old)
    document.write_text(document.read_text().replace(item["path"], old))

    trusted = skillpm("verify", f"{NAME}==1.0.0", "--registry", registry, "--key", published["pub"], "--target", "sm_90a")
    assert trusted.exit_code == 0, trusted.output
    again = attest(published, "--sign", f"key:{published['key']}")
    assert again.exit_code == 0 and "already attested" in again.stdout
    assert [listed["path"] for listed in attestations(registry, "sm_90a")] == [old]


def test_install_weighs_attested_evidence_by_signer_and_a_project_never_widens_trust(
    published: dict[str, Any], tmp_path: Path
) -> None:
    assert attest(published, "--sign", f"key:{published['key']}").exit_code == 0
    fingerprint = load_public_key(published["pub"]).fingerprint
    (Path.cwd() / ".skillpm").mkdir()
    (Path.cwd() / ".skillpm" / "h100-owner.pub").write_bytes(published["pub"].read_bytes())
    (Path.cwd() / ".skillpm" / "policy.toml").write_text(
        f'[[trust.keys]]\nfingerprint = "{fingerprint}"\npublic-key = "h100-owner.pub"\n'
    )
    warned = skillpm("install", NAME, "--registry", published["registry"], "--arch", "9.0")
    assert warned.exit_code == 0, warned.output
    assert f"warning: {NAME} 1.0.0 (sm_90a): bench evidence signed by an unknown key {fingerprint} (not trusted)" \
        in warned.stderr
    required = skillpm("install", NAME, "--registry", published["registry"], "--arch", "9.0", "--require-attestations")
    assert "check 'signer' failed" in one_error(required) or "unknown key" in one_error(required)
    trusted = skillpm("install", NAME, "--registry", published["registry"], "--arch", "9.0",
                      "--require-attestations", "--trusted-key", published["pub"])
    assert trusted.exit_code == 0, trusted.output
    assert "not trusted" not in trusted.stderr and "no attestations" not in trusted.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"target": "generic"}, "is not about layer-norm 1.0.0 (generic): skill.target is 'sm_90a'"),
        ({"requirement": f"{NAME}==2.0.0"}, "layer-norm 2.0.0 is not published in"),
        ({"target": "sm_80"}, "has no variant sm_80 (variants: generic, sm_90a)"),
        ({"sign": False}, "evidence must be signed"),
    ],
)
def test_attest_refuses_what_does_not_fit_the_published_variant_and_writes_nothing(
    published: dict[str, Any], change: dict[str, Any], expected: str
) -> None:
    before = tree_bytes(published["registry"])
    sign = ["--sign", f"key:{published['key']}"] if change.pop("sign", True) else []
    assert expected in one_error(attest(published, *sign, **change))
    assert tree_bytes(published["registry"]) == before


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda e: e["skill"].update(artifact_sha256="0" * 64), "skill.artifact_sha256 is '0000"),
        (lambda e: e["skill"].update(version="1.0.1"), "skill.version is '1.0.1', expected '1.0.0'"),
        (lambda e: e["results"][0]["kernel"].update(gbps="NaN"), "NaN is not finite"),
        (lambda e: e["results"][0].update(max_abs_error="1e999"), "is not finite"),
        (lambda e: e.update(schema="https://example.com/other"), "not one skillpm attests"),
        (lambda e: e["device"].update(kind="abacus"), "check 'predicate-schema' failed"),
    ],
)
def test_attest_refuses_evidence_about_another_artifact_nan_or_invalid(
    published: dict[str, Any], edit, expected: str
) -> None:
    evidence = json.loads(published["bench"].read_text())
    edit(evidence)
    text = json.dumps(evidence).replace('"NaN"', "NaN").replace('"1e999"', "1e999")
    path = published["tmp"] / "edited.json"
    path.write_text(text)
    before = tree_bytes(published["registry"])
    assert expected in one_error(attest(published, "--sign", f"key:{published['key']}", evidence=path))
    assert tree_bytes(published["registry"]) == before


@pytest.mark.parametrize("requirement", [NAME, f"{NAME}>=1.0", f"{NAME}==1.*"])
def test_attest_needs_one_pinned_version(published: dict[str, Any], requirement: str) -> None:
    result = attest(published, "--sign", f"key:{published['key']}", requirement=requirement)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == f"error: {requirement!r} does not name one version"


def test_attest_refuses_an_archive_that_no_longer_has_its_published_digest(published: dict[str, Any]) -> None:
    registry = published["registry"]
    (archive,) = (registry / "artifacts").rglob("*-sm_90a.tar.gz")
    archive.write_bytes(archive.read_bytes() + b"\0")
    before = tree_bytes(registry)
    error = one_error(attest(published, "--sign", f"key:{published['key']}"))
    assert "the archive was altered" in error
    assert tree_bytes(registry) == before


def test_attest_on_a_signed_index_needs_the_index_key(
    published: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The atomic index update re-signs the snapshot like publish does, or refuses."""
    index_key = write_key(tmp_path / "keys" / "index")
    assert skillpm("registry", "rebuild", published["registry"], "--key", index_key).exit_code == 0
    before = tree_bytes(published["registry"])
    assert "must re-sign its snapshot" in one_error(attest(published, "--sign", f"key:{published['key']}"))
    assert tree_bytes(published["registry"]) == before
    monkeypatch.setenv("SKILLPM_INDEX_KEY", str(index_key))
    assert attest(published, "--sign", f"key:{published['key']}").exit_code == 0
    verified = skillpm("verify", f"{NAME}==1.0.0", "--registry", published["registry"], "--key", published["pub"],
                       "--target", "sm_90a")
    assert verified.exit_code == 0, verified.output


def test_attest_refuses_an_attestation_past_the_limit_a_variant_may_list(published: dict[str, Any]) -> None:
    """Readers refuse a variant listing more than 64 attestations (skillpm.index.limits), so no writer makes one."""
    registry = published["registry"]
    path = registry / "index" / shard_path(NAME)
    document = json.loads(path.read_text())
    (entry,) = [e for e in document["versions"] if e["version"] == "1.0.0"]
    (variant,) = [v for v in entry["variants"] if v["target"] == "sm_90a"]
    variant["attestations"] = [{"path": f"attestations/old-{number}.sigstore.json", "sha256": f"{number:064x}",
                                "predicate-type": "https://skillpm.dev/attestations/bench/v1"} for number in range(64)]
    path.write_text(json.dumps(document))
    before = tree_bytes(registry)
    assert "65 attestations, more than the 64 a variant may list" in one_error(
        attest(published, "--sign", f"key:{published['key']}"))
    assert tree_bytes(registry) == before
