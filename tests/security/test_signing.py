"""Signing keys and key-based bundles from hostile hands, through the real command line."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from test_publish import NAME

from .conftest import TIMEOUT, Hostile
from .test_secrets import SECRET_ENV
from .test_trust import Signed, project_policy, replace_bundle, signed, user_policy  # noqa: F401 (signed: the fixture)


def attest(hostile: Hostile, signed: Signed, registry: Path, sign: str, env: dict[str, str] | None = None):
    return hostile.run("attest", f"{NAME}==1.0.0", "--target", "generic", "--evidence", signed.tmp / "eval.json",
                       "--sign", sign, "--registry", registry, env=env)


def test_an_envelope_of_more_than_16_signatures_is_refused(hostile: Hostile, signed: Signed) -> None:
    """Threat: a DSSE envelope held any number of signatures, each tried with every trusted key: a registry
    that padded its bundles with 38,000 copies of a bogus signature cost every verify, info and install of
    the variant 24 s of CPU. At most 16 are read, as of a signed index snapshot."""
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    bundle_path = next(registry.glob("attestations/**/*.sigstore.json"))
    bundle = json.loads(bundle_path.read_text())
    envelope = bundle["dsseEnvelope"]
    envelope["signatures"] = [{"sig": base64.b64encode(bytes(64)).decode()}] * 16 + envelope["signatures"]
    replace_bundle(registry, json.dumps(bundle).encode())
    completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--key", signed.pub, "--json")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    checks = json.loads(completed.stdout)["variants"][0]["attestations"][0]["checks"]
    bundle_check = next(check for check in checks if check["check"] == "bundle")
    assert bundle_check == {"check": "bundle", "ok": False, "required": True,
                            "detail": "DSSE envelope has 17 signatures; at most 16 are read"}


def test_a_signing_key_inside_the_registry_it_writes_is_refused(hostile: Hostile, signed: Signed) -> None:
    """Threat: 'attest' and 'publish --sign key:REG/keys/me' signed with a private key kept in the registry
    folder, which 'registry serve', a static host or any copy hands out, where the same key as the index
    key is refused."""
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    inside = registry / "keys" / "me"
    hostile.ok(hostile.run("keygen", "-o", inside))
    (hostile.work / "linked").symlink_to(registry)
    for key in (inside, hostile.work / "linked" / "keys" / "me"):
        before = hostile.state()
        completed = attest(hostile, signed, registry, f"key:{key}")
        hostile.refused(completed, f"the signing key {key} is inside the registry", "refused")
        assert "hint: keep private keys outside the registry" in completed.stderr
        hostile.refused(hostile.run("publish", hostile.work / "missing-source", "--registry", registry,
                                    "--sign", f"key:{key}"), "the signing key", "is inside the registry")
        assert hostile.changed_outside(before, hostile.cache) == []
    hostile.ok(hostile.run("keygen", "-o", hostile.work / "keys" / "me"))
    hostile.ok(attest(hostile, signed, registry, f"key:{hostile.work / 'keys' / 'me'}"))


NUL = "a\\u0000b"
POLICIES = {
    "public-key": (project_policy, f'[[trust.keys]]\nfingerprint = "{"a" * 64}"\npublic-key = "{NUL}"\n',
                   "public-key 'a\\x00b' holds a NUL character"),
    "key-registries": (project_policy, f'[[trust.keys]]\nfingerprint = "{"a" * 64}"\nregistries = ["{NUL}"]\n',
                       "registries entry 'a\\x00b' holds a NUL character"),
    "sigstore-registries": (project_policy, f'[[trust.sigstore]]\nissuer = "x"\nidentity = "y"\nregistries = ["{NUL}"]\n',
                            "registries entry 'a\\x00b' holds a NUL character"),
    "project-keys": (user_policy, f'[trust]\nproject-keys = ["/{NUL}"]\n',
                     "project-keys entry '/a\\x00b' holds a NUL character"),
    "project-keys-no-such-user": (user_policy, '[trust]\nproject-keys = ["~nosuchuser-skillpm/src"]\n',
                                  "names the home folder of no known user"),
}


@pytest.mark.parametrize("case", POLICIES, ids=POLICIES)
def test_a_policy_path_no_path_can_be_is_one_error_naming_the_file(hostile: Hostile, signed: Signed, case: str) -> None:
    """Threat: a cloned project's .skillpm/policy.toml (or the user's own) whose public-key, registries or
    project-keys path holds a NUL, or names ~nosuchuser, ended every verify, info and install in a traceback."""
    write, text, problem = POLICIES[case]
    policy = write(hostile, text)
    hostile.refused(hostile.run("verify", f"{NAME}==1.0.0", "--registry", signed.root), str(policy), problem)
    hostile.refused(hostile.run("install", NAME, "--registry", signed.root, "--arch", "12.0"), str(policy), problem)


def test_keygen_that_fails_leaves_no_half_of_a_pair(hostile: Hostile) -> None:
    """Threat: keygen wrote the private key, then failed writing the public half (a name the file system
    cannot hold with the temporary file's suffix): the private key stayed behind, and the same command
    again was refused because the key "already exists"."""
    name = "k" * 235  # the private key's temporary name fits; the public half's does not
    for _ in range(2):
        completed = hostile.run("keygen", "-o", name, cwd=hostile.work)
        line = hostile.refused(completed)
        assert "already exists" not in line
        assert sorted(os.listdir(hostile.work)) == []
    hostile.ok(hostile.run("keygen", "-o", "k" * 200, cwd=hostile.work))
    assert sorted(os.listdir(hostile.work)) == ["k" * 200, "k" * 200 + ".pub"]


def spki(point: bytes, parameters: bytes = bytes.fromhex("06082a8648ce3d030107")) -> bytes:
    """A P-256 SubjectPublicKeyInfo of ``point``, with the named curve (or the ``parameters`` given)."""
    def der(tag: int, body: bytes) -> bytes:
        return bytes([tag, len(body)]) + body if len(body) < 128 else bytes([tag, 0x81, len(body)]) + body

    algorithm = der(0x30, bytes.fromhex("06072a8648ce3d0201") + parameters)
    return der(0x30, algorithm + der(0x03, b"\x00" + point))


def pem(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END PUBLIC KEY-----\n"


def test_a_public_key_in_an_unusual_encoding_is_refused(hostile: Hostile, signed: Signed) -> None:
    """Threat: a P-256 public key written with a compressed point was fingerprinted after re-encoding, so
    the fingerprint docs/attestations.md tells users to compute (the sha256 of the file's DER) was another,
    and a [[trust.keys]] fingerprint computed that way never matched."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    usual = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert spki(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)) == usual
    (hostile.work / "usual.pub").write_text(pem(usual))
    (hostile.work / "compressed.pub").write_text(pem(spki(key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))))
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))
    trusted = hostile.ok(hostile.run("registry", "trust", registry, "--index-key", hostile.work / "usual.pub", "--json"))
    assert json.loads(trusted.stdout)["index_key"] == hashlib.sha256(usual).hexdigest()
    completed = hostile.run("registry", "trust", registry, "--index-key", hostile.work / "compressed.pub")
    hostile.refused(completed, "the public key is not in its usual encoding")
    completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", signed.root, "--key", hostile.work / "compressed.pub")
    hostile.refused(completed, "compressed.pub: the public key is not in its usual encoding")
    assert "hint: re-encode it: openssl ec -pubin" in completed.stderr


def test_registry_trust_says_how_to_re_encode_a_key_in_an_unusual_encoding(hostile: Hostile) -> None:
    """Threat: 'registry trust --index-key' (and 'registry add-remote --index-key') refused a compressed P-256
    key without the openssl line that 'verify --key' gives for the same file, so a user holding the owner's
    real key was told only that it is "not in its usual encoding"."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    compressed = hostile.work / "compressed.pub"
    compressed.write_text(pem(spki(key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))))
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))
    for command in (("registry", "trust", registry), ("registry", "add-remote", "owner", "https://skills.example.org/r")):
        completed = hostile.run(*command, "--index-key", compressed)
        hostile.refused(completed, "the public key is not in its usual encoding")
        assert "hint: re-encode it: openssl ec -pubin" in completed.stderr


def test_a_ci_program_that_never_answers_ends_by_the_command_s_deadline_and_is_killed(
    hostile: Hostile, signed: Signed
) -> None:
    """Threat: '--sign sigstore' without a token looks for a CI's credential, and under Buildkite sigstore-python
    runs 'buildkite-agent' from PATH with no timeout: one that never ends held the command for ever (killed here
    at the suite's 30 s guard). The search ends by the command's deadline now, and the program with it."""
    env, started = _never_answering_agent(hostile)
    env["SKILLPM_HTTP_DEADLINE"] = "4"
    folder = started.parent
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()

    refused = attest(hostile, signed, registry, "sigstore", env=env)

    hostile.refused(refused, "keyless signing failed: looking for this CI's identity: no answer within the command's "
                    "deadline of 4 s ($SKILLPM_HTTP_DEADLINE)")
    assert _ends(Path("/proc", started.read_text().strip(), "stat")), "the CI program still runs"
    assert hostile.changed_outside(before, folder) == []


def _never_answering_agent(hostile: Hostile) -> tuple[dict[str, str], Path]:
    """The environment of a Buildkite job whose ``buildkite-agent`` never ends, and the file it writes its number to."""
    folder = hostile.work / "bin"
    folder.mkdir()
    started = folder / "pid"  # the program's, written by it
    (folder / "buildkite-agent").write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 600\n")
    (folder / "buildkite-agent").chmod(0o755)
    return {"BUILDKITE": "true", "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, started


def _running(stat: Path) -> bool:
    """Whether the process of ``/proc/N/stat`` runs (read once: a zombie, or one reaped, has ended)."""
    try:
        return not stat.read_text().split(") ")[-1].startswith("Z")
    except FileNotFoundError:
        return False


def _ends(stat: Path) -> bool:
    """Whether the process of ``stat`` ends within 5 s (reaped by whoever adopted it); killed here when not."""
    import time

    for _ in range(100):
        if not _running(stat):
            return True
        time.sleep(0.05)
    os.kill(int(stat.parent.name), signal.SIGKILL)
    return False


def test_the_ci_identity_search_ends_with_the_command_killed_during_it(hostile: Hostile, signed: Signed) -> None:
    """Threat: the search for a CI's identity runs in a session of its own (so that what it starts can be killed with
    it), which neither a SIGKILL of the command (the OOM killer) nor a CI ending the job's process group reaches: the
    search and a 'buildkite-agent' that never ends ran on for ever. On Linux the search now ends with the command,
    killing what it started."""
    import time

    env, started = _never_answering_agent(hostile)
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    command = [sys.executable, "-m", "skillpm", "attest", f"{NAME}==1.0.0", "--target", "generic", "--evidence",
               str(signed.tmp / "eval.json"), "--sign", "sigstore", "--registry", str(registry)]
    temporary = hostile.work / "tmp"  # what the killed command cannot remove stays in the case's folder
    temporary.mkdir()
    process = subprocess.Popen(command, cwd=hostile.project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=hostile.env(**env, SKILLPM_HTTP_DEADLINE="600", TMPDIR=str(temporary)))
    try:
        deadline = time.monotonic() + TIMEOUT
        while not started.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)  # the number written whole
        agent = Path("/proc", started.read_text().strip(), "stat")
        search = Path("/proc", agent.read_text().split(") ")[-1].split()[1], "stat")  # the agent's parent
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    running = [str(stat) for stat in (search, agent) if not _ends(stat)]
    assert running == [], "the search or the CI program still runs"


@pytest.mark.parametrize("ci", ["BUILDKITE", "CIRCLECI"])
def test_the_ci_programs_sigstore_asks_for_a_credential_see_none_of_skillpm_s_secrets(
    hostile: Hostile, signed: Signed, ci: str
) -> None:
    """Threat: '--sign sigstore' without a token looks for a CI's credential; under Buildkite or CircleCI
    sigstore-python runs 'buildkite-agent' or 'circleci' from PATH, which got skillpm's whole environment:
    the key passphrase, registry tokens, the OCI password, the index key's path."""
    folder = hostile.work / "bin"
    folder.mkdir()
    seen = hostile.work / "seen.txt"
    for program in ("buildkite-agent", "circleci"):
        (folder / program).write_text(f"#!/bin/sh\nenv >> {seen}\necho not-a-token\n")
        (folder / program).chmod(0o755)
    secrets = {name: value for name, value in SECRET_ENV.items() if name != "SIGSTORE_ID_TOKEN"}  # that one is the token
    env = {**secrets, ci: "true", "KEPT_FOR_CI": "kept", "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    hostile.refused(attest(hostile, signed, registry, "sigstore", env=env), "keyless signing failed")
    environment = seen.read_text()
    assert "KEPT_FOR_CI=kept" in environment
    leaked = [name for name, value in secrets.items() if name in environment or value in environment]
    assert leaked == [], leaked
