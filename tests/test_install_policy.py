"""Install policy end to end: every refusal through the CLI, from a directory and over HTTP on 127.0.0.1.

A registry holds layer-norm 0.9.0 (no attestations) and 1.0.0 (generic, with eval
evidence signed by a real key). Each case damages a copy of it; the project first
installs 0.9.0, then ``install layer-norm`` (1.0.0) must fail with one line, exit 1,
and leave the project byte for byte as it was.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from skillpm.attest.bundle import sign_with_key
from skillpm.attest.keys import generate, load_public_key, private_pem
from skillpm.attest.statement import Statement, Subject, statement_for_evidence
from skillpm.index.model import PackageDocument, archive_name, shard_path
from skillpm.registry import store

from conftest import build_source, tree_bytes
from test_publish import NAME, Outcome, digests, make_evidence, one_error, skillpm, write_json

ISSUER, IDENTITY = "https://issuer.acme.example", "release@acme.example"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The good registry, its signing key, and the pieces the cases need to forge variations."""
    from skillpm.publish import KeySigner, publish

    tmp = tmp_path_factory.mktemp("policy")
    root = tmp / "registry"
    store.init(root)
    key = generate()
    (tmp / "keys").mkdir()
    (tmp / "keys" / "me").write_bytes(private_pem(key))
    (tmp / "keys" / "me").chmod(0o600)  # a private key others can read is refused
    (tmp / "keys" / "me.pub").write_bytes(key.public.pem())
    publish(build_source(tmp / "old", NAME, {"generic": {"old.md": "0.9.0\n"}}, version="0.9.0"), root)
    source = build_source(tmp, NAME, {"generic": {}, "sm_90a": {}})
    sums = digests(source, tmp)
    evidence = write_json(tmp / "eval.json", make_evidence("eval", target="generic", sha256=sums["generic"]))
    publish(source, root, evidence=[evidence], signer=KeySigner(key))
    return {"root": root, "key": key, "pub": tmp / "keys" / "me.pub", "sums": sums, "tmp": tmp}


def _document(root: Path) -> dict[str, Any]:
    return json.loads((root / "index" / shard_path(NAME)).read_text())


def _save(root: Path, document: dict[str, Any]) -> None:
    PackageDocument.from_json(document)  # still a valid index: only the attestation is wrong
    (root / "index" / shard_path(NAME)).write_text(json.dumps(document, indent=2))


def _generic(document: dict[str, Any]) -> dict[str, Any]:
    entry = next(e for e in document["versions"] if e["version"] == "1.0.0")
    return next(v for v in entry["variants"] if v["target"] == "generic")


def _replace_bundle(root: Path, bundle: bytes, *, update_index: bool = True) -> None:
    """Put ``bundle`` in place of the generic variant's attestation (and its digest in the index)."""
    document = _document(root)
    attestation = _generic(document)["attestations"][0]
    (root / attestation["path"]).write_bytes(bundle)
    if update_index:
        import hashlib

        attestation["sha256"] = hashlib.sha256(bundle).hexdigest()
        _save(root, document)


def _bundle(root: Path) -> bytes:
    return (root / _generic(_document(root))["attestations"][0]["path"]).read_bytes()


def _sign(base: dict[str, Any], evidence: dict[str, Any], *, subject_sha256: str | None = None, key=None) -> bytes:
    sha256 = subject_sha256 or evidence["skill"]["artifact_sha256"]
    name = archive_name(NAME, "1.0.0", evidence["skill"]["target"])
    statement = statement_for_evidence(evidence, artifact_name=name, artifact_sha256=sha256)
    return sign_with_key(statement, key or base["key"])


# -- the cases: each damages the registry copy at ``root``; returns what the error line must say ---------


def tampered_artifact(root: Path, base: dict[str, Any]) -> str:
    path = root / _generic(_document(root))["path"]
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    return "digest mismatch"


def tampered_artifact_listed_in_the_index(root: Path, base: dict[str, Any]) -> str:
    """The archive and the index's digest both replaced: the signed statement is about other bytes."""
    import hashlib

    document = _document(root)
    variant = _generic(document)
    path = root / variant["path"]
    data = path.read_bytes() + b"\x00"
    path.write_bytes(data)
    variant["sha256"], variant["size"] = hashlib.sha256(data).hexdigest(), len(data)
    _save(root, document)
    return "check 'subject' failed"


def _edit_payload(bundle: bytes) -> bytes:
    data = json.loads(bundle)
    statement = json.loads(base64.b64decode(data["dsseEnvelope"]["payload"]))
    statement["predicate"]["models"][0]["with_skill"]["pass_rate"] = 1.0
    data["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(data).encode()


def tampered_statement(root: Path, base: dict[str, Any]) -> str:
    _replace_bundle(root, _edit_payload(_bundle(root)))
    return "check 'signature' failed: the signature does not verify"


def tampered_envelope_not_in_the_index(root: Path, base: dict[str, Any]) -> str:
    _replace_bundle(root, _edit_payload(_bundle(root)), update_index=False)
    return "the bundle was altered"


def unknown_key(root: Path, base: dict[str, Any]) -> str:
    evidence = make_evidence("eval", target="generic", sha256=base["sums"]["generic"])
    _replace_bundle(root, _sign(base, evidence, key=generate()))
    return "signed by an unknown key"


def subject_of_another_artifact(root: Path, base: dict[str, Any]) -> str:
    evidence = make_evidence("eval", target="sm_90a", sha256=base["sums"]["sm_90a"])
    _replace_bundle(root, _sign(base, evidence))
    return "check 'subject' failed"


def evidence_for_another_variant(root: Path, base: dict[str, Any]) -> str:
    """Signed about the generic archive, but the evidence was gathered for sm_90a."""
    evidence = make_evidence("eval", target="sm_90a", sha256=base["sums"]["generic"])
    statement = Statement((Subject(archive_name(NAME, "1.0.0", "generic"), base["sums"]["generic"]),),
                          "https://skillpm.dev/attestations/eval/v1", evidence)
    _replace_bundle(root, sign_with_key(statement, base["key"]))
    return "check 'evidence-variant' failed: skill.target is 'sm_90a'"


def predicate_failing_its_schema(root: Path, base: dict[str, Any]) -> str:
    evidence = make_evidence("eval", target="generic", sha256=base["sums"]["generic"])
    del evidence["models"][0]["lift"]
    _replace_bundle(root, _sign(base, evidence))
    return "check 'predicate-schema' failed"


def evidence_for_another_test_set(root: Path, base: dict[str, Any]) -> str:
    """Signed about the right archive, but measured on test cases other than those its metadata records."""
    evidence = make_evidence("eval", target="generic", sha256=base["sums"]["generic"])
    evidence["test_set"]["digest"] = "2" * 64
    _replace_bundle(root, _sign(base, evidence))
    return f"check 'test-set' failed: the evidence ran test set {'2' * 64}, but the variant's test set is "


def missing_bundle(root: Path, base: dict[str, Any]) -> str:
    (root / _generic(_document(root))["attestations"][0]["path"]).unlink()
    return "check 'bundle-file' failed: cannot fetch"


CASES = [
    tampered_artifact, tampered_artifact_listed_in_the_index, tampered_statement, tampered_envelope_not_in_the_index,
    unknown_key, subject_of_another_artifact, evidence_for_another_variant, predicate_failing_its_schema,
    evidence_for_another_test_set, missing_bundle,
]


@pytest.fixture(params=["directory", "http"])
def serve(request: pytest.FixtureRequest) -> Iterator[Callable[[Path], str]]:
    """``serve(root)``: the registry argument for ``root``: the directory, or a server on 127.0.0.1."""
    servers = []

    def start(root: Path) -> str:
        if request.param == "directory":
            return str(root)
        from skillpm.registry.serve import make_server, server_url

        server = make_server(root)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server_url(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def project(isolated, base: dict[str, Any], tmp_path: Path, serve) -> dict[str, Any]:
    """A project with layer-norm 0.9.0 installed from a private copy of the good registry."""
    root = Path(shutil.copytree(base["root"], tmp_path / "registry"))
    url = serve(root)
    result = skillpm("install", f"{NAME}==0.9.0", "--registry", url, "--arch", "12.0")
    assert result.exit_code == 0, result.output
    assert f"warning: {NAME} 0.9.0 (generic) has no attestations" in result.stderr
    return {"root": root, "url": url, "isolated": isolated}


def install(project: dict[str, Any], *options: Any) -> Outcome:
    return skillpm("install", NAME, "--registry", project["url"], "--arch", "12.0", *options)


def test_a_signed_variant_installs_when_its_signer_is_trusted(project: dict[str, Any], base: dict[str, Any]) -> None:
    result = install(project, "--trusted-key", base["pub"], "--require-attestations", "--min-pass-rate", "0.8")
    assert result.exit_code == 0, result.output
    assert f"installed {NAME} 1.0.0 (generic)" in result.stdout and "warning" not in result.stderr


def test_a_signer_nobody_trusts_is_noted_and_refused_only_when_attestations_are_required(
    project: dict[str, Any], base: dict[str, Any]
) -> None:
    """Evidence is an addition: with no requirement, an untrusted signer is one warning line, not a failure."""
    before = tree_bytes(project["isolated"].project)
    error = one_error(install(project, "--require-attestations"))
    assert "check 'signature' failed: signed by an unknown key" in error and "nothing was installed" in error
    assert tree_bytes(project["isolated"].project) == before

    result = install(project)
    assert result.exit_code == 0, result.output
    fingerprint = load_public_key(base["pub"]).fingerprint
    assert result.stderr.splitlines() == [
        f"warning: {NAME} 1.0.0 (generic): eval evidence signed by an unknown key {fingerprint} (not trusted); "
        "installed without relying on it"
    ]
    assert f"installed {NAME} 1.0.0 (generic)" in result.stdout


def test_a_variant_already_in_place_is_verified_again_only_when_evidence_is_required(
    project: dict[str, Any], base: dict[str, Any]
) -> None:
    """Installing what is already installed decides nothing, so its evidence is not checked again (no warning,
    no cryptography loaded); a requirement still holds it to the policy, installed or not."""
    assert install(project).exit_code == 0  # the untrusted signer noted once
    again = install(project)
    assert again.exit_code == 0, again.output
    assert again.stderr == "" and f"already up to date: {NAME} 1.0.0 (generic)" in again.stdout
    error = one_error(install(project, "--require-attestations"))
    assert "check 'signature' failed: signed by an unknown key" in error and "nothing was installed" in error
    trusted = install(project, "--trusted-key", base["pub"], "--require-attestations", "--min-pass-rate", "0.8")
    assert trusted.exit_code == 0 and "already up to date" in trusted.stdout


def test_a_new_version_with_the_files_already_in_place_is_verified_and_reported(isolated, tmp_path: Path) -> None:
    """1.0.1 holds the very files 1.0.0 installed, in another archive: updating to it is an install like any
    other, its attestations checked (a tampered one refused) and its new version said, not 'already up to date'."""
    from skillpm.publish import KeySigner, publish

    root = tmp_path / "registry"
    store.init(root)
    publish(build_source(tmp_path / "old", NAME, {"generic": {}}, version="1.0.0"), root)
    assert skillpm("install", NAME, "--registry", str(root), "--arch", "12.0").exit_code == 0
    source = build_source(tmp_path / "new", NAME, {"generic": {}}, version="1.0.1")
    sha256 = digests(source, tmp_path)["generic"]
    evidence = write_json(tmp_path / "eval.json", make_evidence("eval", target="generic", sha256=sha256, version="1.0.1"))
    key = generate()
    (tmp_path / "me.pub").write_bytes(key.public.pem())
    publish(source, root, evidence=[evidence], signer=KeySigner(key))
    document = _document(root)
    (variant,) = next(entry for entry in document["versions"] if entry["version"] == "1.0.1")["variants"]
    bundle = _edit_payload((root / variant["attestations"][0]["path"]).read_bytes())
    (root / variant["attestations"][0]["path"]).write_bytes(bundle)
    import hashlib

    variant["attestations"][0]["sha256"] = hashlib.sha256(bundle).hexdigest()
    _save(root, document)
    before = tree_bytes(isolated.project)
    error = one_error(skillpm("update", "--trusted-key", tmp_path / "me.pub"))
    assert "check 'signature' failed: the signature does not verify" in error
    assert tree_bytes(isolated.project) == before

    store.init(root := tmp_path / "plain")  # the same new version, without attestations
    publish(build_source(tmp_path / "old2", NAME, {"generic": {}}, version="1.0.0"), root)
    publish(build_source(tmp_path / "new2", NAME, {"generic": {}}, version="1.0.1"), root)
    assert skillpm("install", f"{NAME}==1.0.0", "--registry", str(root), "--arch", "12.0").exit_code == 0
    result = skillpm("install", NAME, "--registry", str(root), "--arch", "12.0")
    assert result.exit_code == 0, result.output
    assert f"installed {NAME} 1.0.1 (generic)" in result.stdout and "already up to date" not in result.stdout
    assert f"warning: {NAME} 1.0.1 (generic) has no attestations" in result.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_refusals(project: dict[str, Any], base: dict[str, Any], case) -> None:
    message = case(project["root"], base)
    before = tree_bytes(project["isolated"].project)
    error = one_error(install(project, "--trusted-key", base["pub"], "--require-attestations"))
    assert message in error
    assert tree_bytes(project["isolated"].project) == before
    assert 'version = "0.9.0"' in project["isolated"].lockfile.read_text()


def test_requirements_from_flags(project: dict[str, Any], base: dict[str, Any]) -> None:
    before = tree_bytes(project["isolated"].project)
    error = one_error(install(project, "--trusted-key", base["pub"], "--min-pass-rate", "0.9"))
    assert "the lowest pass rate with the skill, 0.85, is below the policy's minimum 0.9" in error
    error = one_error(install(project, "--trusted-key", base["pub"], "--min-bandwidth-pct", "70"))
    assert "no verified https://skillpm.dev/attestations/bench/v1 attestation" in error
    error = one_error(skillpm("install", NAME, "--registry", project["url"], "--arch", "9.0", "--require-attestations"))
    assert "sm_90a) from" in error and "has no verified attestation, and policy requires one" in error
    assert tree_bytes(project["isolated"].project) == before


def test_install_of_several_installs_none_when_one_is_unsigned(
    project: dict[str, Any], base: dict[str, Any], tmp_path: Path
) -> None:
    """layer-norm 1.0.0 passes the policy, but an unsigned skill after it does not: 0.9.0 stays."""
    from skillpm.publish import publish

    publish(build_source(tmp_path / "plain", "plain-notes"), project["root"])
    before = tree_bytes(project["isolated"].project)
    error = one_error(skillpm(
        "install", NAME, "plain-notes", "--registry", project["url"], "--arch", "12.0",
        "--trusted-key", base["pub"], "--require-attestations",
    ))
    assert "plain-notes 1.0.0 (generic) from" in error and "policy requires one" in error
    assert tree_bytes(project["isolated"].project) == before
    assert 'version = "0.9.0"' in project["isolated"].lockfile.read_text()

def _policy(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _trust(base: dict[str, Any], registries: str = "") -> str:
    fingerprint = load_public_key(base["pub"]).fingerprint
    return f'[[trust.keys]]\nfingerprint = "{fingerprint}"\npublic-key = "{base["pub"]}"\n{registries}\n'


def test_policy_from_the_user_and_project_files(project: dict[str, Any], base: dict[str, Any]) -> None:
    isolated = project["isolated"]
    user = isolated.home / ".config" / "skillpm" / "policy.toml"
    _policy(user, _trust(base))
    assert install(project).exit_code == 0
    _policy(isolated.project / ".skillpm" / "policy.toml", "[require]\nmin-pass-rate = 0.9\n")
    before = tree_bytes(isolated.project)
    assert "below the policy's minimum 0.9" in one_error(skillpm("sync"))  # sync applies the policy too
    assert tree_bytes(isolated.project) == before


def test_trust_scoped_to_another_registry_does_not_apply(project: dict[str, Any], base: dict[str, Any]) -> None:
    user = project["isolated"].home / ".config" / "skillpm" / "policy.toml"
    _policy(user, _trust(base, 'registries = ["https://elsewhere.example"]'))
    assert "unknown key" in one_error(install(project, "--require-attestations"))
    _policy(user, _trust(base, f'registries = ["{project["url"]}"]'))
    assert install(project).exit_code == 0


def test_sigstore_identity_or_issuer_that_does_not_match(
    project: dict[str, Any], base: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A keyless bundle from a synthetic Sigstore instance (tests/test_attest_keyless.py), verified for real."""
    from test_attest_keyless import Instance

    instance = Instance.create()
    root_file = tmp_path / "trusted_root.json"
    root_file.write_text(instance.trusted_root()._inner.to_json())
    monkeypatch.setenv("SKILLPM_SIGSTORE_TRUSTED_ROOT", str(root_file))
    evidence = make_evidence("eval", target="generic", sha256=base["sums"]["generic"])
    payload = statement_for_evidence(
        evidence, artifact_name=archive_name(NAME, "1.0.0", "generic"), artifact_sha256=base["sums"]["generic"]
    ).to_bytes()
    _replace_bundle(project["root"], instance.sign(payload, identity=IDENTITY, issuer=ISSUER))
    policy = project["isolated"].home / ".config" / "skillpm" / "policy.toml"  # the user's: a project's cannot add trust
    for issuer, identity in [(ISSUER, "intruder@acme.example"), ("https://accounts.google.com", IDENTITY)]:
        _policy(policy, f'[[trust.sigstore]]\nissuer = "{issuer}"\nidentity = "{identity}"\n')
        error = one_error(install(project, "--require-attestations"))
        assert f"check 'signer' failed: identity {IDENTITY} from issuer {ISSUER} is not trusted" in error
    _policy(policy, f'[[trust.sigstore]]\nissuer = "{ISSUER}"\nidentity = "{IDENTITY}"\n')
    assert install(project).exit_code == 0


def test_info_calls_eval_evidence_verified_only_once_its_test_set_is_checked(
    project: dict[str, Any], base: dict[str, Any]
) -> None:
    """info agrees with verify and install: eval evidence is checked against the test set its archive records,
    read from the download cache or a registry folder; where the archive is not at hand (a remote registry,
    nothing cached) the evidence is 'test set not checked', never verified."""
    _policy(project["isolated"].home / ".config" / "skillpm" / "policy.toml", _trust(base))

    def evidence() -> dict[str, Any]:
        result = skillpm("info", NAME, "--registry", project["url"], "--json")
        assert result.exit_code == 0, result.output
        (item,) = [item for item in json.loads(result.stdout)["evidence"] if item["version"] == "1.0.0"]
        return item

    cold = evidence()
    if project["url"].startswith("http"):
        assert cold["verified"] is False and cold["problem"].startswith("test-set: test set not checked: "), cold
        text = skillpm("info", NAME, "--registry", project["url"])
        assert "NOT verified: test-set: test set not checked" in text.stdout, text.output
    else:
        assert cold["verified"] is True and cold["problem"] is None, cold
    assert install(project).exit_code == 0  # the archive is in the download cache from now on
    assert evidence()["verified"] is True
    evidence_for_another_test_set(project["root"], base)
    other = evidence()
    assert other["verified"] is False and "it was measured on other test cases" in other["problem"], other
    assert skillpm("verify", NAME, "--registry", project["url"]).exit_code == 1
