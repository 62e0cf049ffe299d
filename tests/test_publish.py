"""publish and keygen: signed evidence into a registry, all or nothing; real keys and signatures."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skillpm.attest.keys import generate, load_signing_key, private_pem
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE
from skillpm.index.model import archive_name
from skillpm.registry import store

from conftest import build_source, tree_bytes

ASSETS = Path(__file__).parent / "assets" / "attest"
NAME = "layer-norm"
VARIANTS = {"generic": {}, "sm_90a": {"references/hopper.md": "Hopper notes.\n"}}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def skillpm(*args: Any) -> Outcome:
    """Run ``skillpm ARGS`` in this process through the real entry point (its one-line errors, exit codes)."""
    from skillpm.cli import main

    argv = sys.argv
    with CliRunner().isolation() as (stdout, stderr, _):
        sys.argv = ["skillpm", *(os.fspath(arg) for arg in args)]
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        finally:
            sys.argv = argv
        return Outcome(code, stdout.getvalue().decode(), stderr.getvalue().decode())


def one_error(result: Outcome) -> str:
    """The single ``error:`` line of a refusal (plus at most a hint), no traceback."""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.exit_code == 1, result.output
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


def make_evidence(kind: str, *, target: str, sha256: str, version: str = "1.0.0", name: str = NAME) -> dict[str, Any]:
    """The hand-written evidence in tests/assets/attest/, made about one archive."""
    data = json.loads((ASSETS / f"{kind}-evidence.json").read_text(encoding="utf-8"))
    data["skill"] = {"name": name, "version": version, "target": target, "artifact_sha256": sha256}
    return data


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def digests(source: Path, tmp: Path) -> dict[str, str]:
    """target -> sha256 of the archive ``pack`` builds for it (packing is reproducible)."""
    from skillpm.pack import pack

    return {archive.metadata.target: archive.sha256 for archive in pack(source, tmp / "digests")}


def write_key(path: Path) -> Path:
    """A real Ed25519 key pair at ``path`` and ``path.pub``."""
    key = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_pem(key))
    path.chmod(0o600)  # a private key others can read is refused
    path.with_name(path.name + ".pub").write_bytes(key.public.pem())
    return path


@pytest.fixture
def setup(tmp_path: Path, isolated) -> dict[str, Any]:
    """A source, an empty registry, a key, and eval + bench evidence about the sm_90a archive."""
    source = build_source(tmp_path, NAME, VARIANTS)
    registry = tmp_path / "reg"
    store.init(registry)
    sums = digests(source, tmp_path)
    key = write_key(tmp_path / "keys" / "me")
    return {
        "source": source,
        "registry": registry,
        "key": key,
        "sums": sums,
        "eval": write_json(tmp_path / "eval.json", make_evidence("eval", target="sm_90a", sha256=sums["sm_90a"])),
        "bench": write_json(tmp_path / "bench.json", make_evidence("bench", target="sm_90a", sha256=sums["sm_90a"])),
    }


def publish_cli(s: dict[str, Any], *extra: Any) -> Outcome:
    return skillpm("publish", s["source"], "--registry", s["registry"], *extra)


def variant(registry: Path, target: str, version: str = "1.0.0"):
    from skillpm.registry.factory import open_registry

    document = open_registry(str(registry)).package(NAME)
    entry = next(e for e in document.versions if e.version == version)
    return next(v for v in entry.variants if v.target == target)


def test_keygen(isolated, monkeypatch: pytest.MonkeyPatch) -> None:
    result = skillpm("keygen", "-o", "keys/me")
    assert result.exit_code == 0, result.output
    private = isolated.project / "keys" / "me"
    key = load_signing_key(private)
    assert f"fingerprint {key.fingerprint}" in result.output
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (isolated.project / "keys" / "me.pub").read_bytes() == key.public.pem()
    again = skillpm("keygen", "-o", "keys/me")
    assert again.exit_code == 1 and "never overwrites a key" in again.stderr
    monkeypatch.setenv("SKILLPM_SIGNING_KEY_PASSPHRASE", "s3cret")
    result = skillpm("keygen", "-o", "keys/p256", "--algorithm", "p256", "--json")
    data = json.loads(result.stdout)
    assert data["algorithm"] == "ecdsa-p256" and data["encrypted"] is True
    assert load_signing_key(Path(data["private"]), passphrase=b"s3cret").fingerprint == data["fingerprint"]


def test_publish_signs_evidence_into_the_registry(setup: dict[str, Any]) -> None:
    result = publish_cli(setup, "--evidence", setup["eval"], "--evidence", setup["bench"],
                         "--sign", f"key:{setup['key']}", "--json")
    assert result.exit_code == 0, result.output
    published = json.loads(result.stdout)
    fingerprint = load_signing_key(setup["key"]).fingerprint
    assert published["signer"] == f"key {fingerprint}"
    generic, hopper = variant(setup["registry"], "generic"), variant(setup["registry"], "sm_90a")
    assert generic.attestations == () and hopper.sha256 == setup["sums"]["sm_90a"]
    assert [a.predicate_type for a in hopper.attestations] == [EVAL_PREDICATE, BENCH_PREDICATE]
    prefix = f"attestations/{NAME}/1.0.0/{archive_name(NAME, '1.0.0', 'sm_90a')}."
    for attestation in hopper.attestations:
        assert attestation.path.startswith(prefix) and attestation.path.endswith(".sigstore.json")
        data = (setup["registry"] / attestation.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == attestation.sha256
        bundle = json.loads(data)
        assert bundle["verificationMaterial"]["publicKey"]["hint"] == fingerprint
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        assert statement["subject"] == [{"name": archive_name(NAME, "1.0.0", "sm_90a"),
                                         "digest": {"sha256": hopper.sha256}}]
    assert published["variants"][1]["attestations"] == [a.to_json() for a in hopper.attestations]


def test_publish_without_evidence_is_registry_add(setup: dict[str, Any]) -> None:
    result = publish_cli(setup)
    assert result.exit_code == 0, result.output
    assert "no evidence given" in result.stderr
    assert variant(setup["registry"], "generic").attestations == ()


def test_attestations_can_be_added_to_a_published_version_but_not_other_bytes(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    sign = ("--sign", f"key:{setup['key']}")
    assert publish_cli(setup, "--evidence", setup["eval"], *sign).exit_code == 0
    before = tree_bytes(setup["registry"])
    again = publish_cli(setup, "--evidence", setup["eval"], *sign)  # the same statement: a no-op
    assert again.exit_code == 0 and "already published" in again.stdout
    assert tree_bytes(setup["registry"]) == before
    assert publish_cli(setup, "--evidence", setup["bench"], *sign).exit_code == 0
    assert len(variant(setup["registry"], "sm_90a").attestations) == 2
    changed = build_source(tmp_path / "changed", NAME, {**VARIANTS, "generic": {"extra.md": "new bytes\n"}})
    snapshot = tree_bytes(setup["registry"])
    refused = skillpm("publish", changed, "--registry", setup["registry"])
    assert refused.exit_code == 1 and "published versions are immutable" in refused.stderr
    assert tree_bytes(setup["registry"]) == snapshot


def _evidence_for_another_artifact(s: dict[str, Any], tmp: Path) -> list[Any]:
    other = "c" * 64
    path = write_json(tmp / "other.json", make_evidence("eval", target="sm_90a", sha256=other))
    return ["--evidence", path, "--sign", f"key:{s['key']}"], [other, s["sums"]["sm_90a"], "matches no variant"]


def _evidence_for_another_version(s: dict[str, Any], tmp: Path) -> list[Any]:
    path = write_json(tmp / "v.json", make_evidence("eval", target="sm_90a", sha256=s["sums"]["sm_90a"], version="0.9.0"))
    return ["--evidence", path, "--sign", f"key:{s['key']}"], ["check 'evidence-variant' failed", "skill.version is '0.9.0'"]


def _evidence_failing_its_schema(s: dict[str, Any], tmp: Path) -> list[Any]:
    document = make_evidence("eval", target="sm_90a", sha256=s["sums"]["sm_90a"])
    document["models"][0]["with_skill"]["pass_rate"] = 2
    path = write_json(tmp / "bad.json", document)
    return ["--evidence", path, "--sign", f"key:{s['key']}"], ["check 'predicate-schema' failed", "greater than the maximum"]


def _unsigned_evidence(s: dict[str, Any], tmp: Path) -> list[Any]:
    return ["--evidence", s["eval"]], ["evidence must be signed"]


def _unknown_evidence_kind(s: dict[str, Any], tmp: Path) -> list[Any]:
    path = write_json(tmp / "slsa.json", {"schema": "https://slsa.dev/provenance/v1"})
    return ["--evidence", path, "--sign", f"key:{s['key']}"], ["is not one skillpm attests"]


def _bad_sign_option(s: dict[str, Any], tmp: Path) -> list[Any]:
    return ["--evidence", s["eval"], "--sign", "gpg"], ["neither key:PATH nor sigstore"]


def _missing_key(s: dict[str, Any], tmp: Path) -> list[Any]:
    return ["--evidence", s["eval"], "--sign", f"key:{tmp / 'nokey'}"], ["cannot read"]


def _sigstore_offline(s: dict[str, Any], tmp: Path) -> list[Any]:
    """A well-formed (unsigned) OIDC token: sigstore-python gets as far as Sigstore's services."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": "https://oauth2.sigstore.dev/auth", "aud": "sigstore", "sub": "me", "email": "me@example.com",
              "email_verified": True, "iat": now, "nbf": now, "exp": now + 600}
    token = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"
    return ["--evidence", s["eval"], "--sign", "sigstore", "--identity-token", token], ["keyless signing failed"]


@pytest.mark.parametrize(
    "case",
    [_evidence_for_another_artifact, _evidence_for_another_version, _evidence_failing_its_schema, _unsigned_evidence,
     _unknown_evidence_kind, _bad_sign_option, _missing_key, _sigstore_offline],
    ids=lambda case: case.__name__.strip("_"),
)
def test_a_refused_publish_changes_nothing(setup: dict[str, Any], tmp_path: Path, case) -> None:
    assert publish_cli(setup).exit_code == 0  # 1.0.0 is published; the refused run adds evidence to it
    before = tree_bytes(setup["registry"])
    arguments, expected = case(setup, tmp_path)
    error = one_error(publish_cli(setup, *arguments))
    for text in expected:
        assert text in error
    assert tree_bytes(setup["registry"]) == before


def test_sigstore_without_a_token_is_one_clear_line(setup: dict[str, Any], monkeypatch) -> None:
    for variable in ("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "GITHUB_ACTIONS", "GOOGLE_SERVICE_ACCOUNT_NAME"):
        monkeypatch.delenv(variable, raising=False)
    before = tree_bytes(setup["registry"])
    result = publish_cli(setup, "--evidence", setup["eval"], "--sign", "sigstore")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("error: keyless signing")
    assert tree_bytes(setup["registry"]) == before


@pytest.mark.parametrize("published", [False, True], ids=["new-version", "published-version"])
@pytest.mark.parametrize("fail_at", [1, 3, 0], ids=["first-file", "third-file", "journal"])
def test_a_publish_that_fails_midway_leaves_the_registry_as_it_was(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch, fail_at: int, published: bool
) -> None:
    """Staging a file (or writing the journal that decides the write) fails after others were staged, as on a
    full disk: nothing in the registry changed, and nothing of the write is left."""
    from skillpm.publish import KeySigner, publish
    from skillpm.registry.store import journal

    if published:
        publish(setup["source"], setup["registry"])
    before = tree_bytes(setup["registry"])
    folders_before = sorted(p for p in setup["registry"].rglob("*") if p.is_dir())
    staged: list[Path] = []
    real_stage = journal._stage

    def full_disk(path: Path, data: bytes) -> None:
        staged.append(path)
        if len(staged) == fail_at or not fail_at:
            raise OSError(28, "No space left on device", str(path))
        real_stage(path, data)

    monkeypatch.setattr(journal, "atomic_write" if fail_at == 0 else "_stage", full_disk)
    signer = KeySigner(load_signing_key(setup["key"]))
    with pytest.raises(OSError, match="No space left"):
        publish(setup["source"], setup["registry"], evidence=[setup["eval"], setup["bench"]], signer=signer)
    assert tree_bytes(setup["registry"]) == before
    assert sorted(p for p in setup["registry"].rglob("*") if p.is_dir()) == folders_before


def test_publish_needs_a_registry(setup: dict[str, Any], tmp_path: Path) -> None:
    result = skillpm("publish", setup["source"], "--registry", tmp_path / "nowhere")
    assert result.exit_code == 1 and "not a skillpm registry" in result.stderr
    assert not (tmp_path / "nowhere").exists()
