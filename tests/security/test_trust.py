"""Trust: a project never widens what the user trusts; policy and key files are read bounded;
NaN and infinity are never measurements.

A registry holds layer-norm 1.0.0 (generic) with eval evidence signed by a real Ed25519 key
(the *publisher's*). The user trusts, or does not trust, that key in their own policy
(``$XDG_CONFIG_HOME/skillpm/policy.toml``); a cloned project brings ``.skillpm/policy.toml``.
Every case runs the real ``skillpm`` in a subprocess (tests/security/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from skillpm.archive import archive_name
from skillpm.attest.bundle import sign_with_key
from skillpm.attest.keys import SigningKey, generate, private_pem
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, Statement, Subject
from skillpm.index.model import shard_path
from skillpm.registry import store

from conftest import build_source
from test_publish import NAME, digests, make_evidence, write_json

from .conftest import Hostile


@dataclass(frozen=True)
class Signed:
    """The signed registry (never changed; cases copy it), the publisher's key, and another key."""

    root: Path
    key: SigningKey
    pub: Path
    other_pub: Path
    sha256: str
    tmp: Path

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    from skillpm.publish import KeySigner, publish

    tmp = tmp_path_factory.mktemp("signed")
    root = tmp / "registry"
    store.init(root)
    key = generate()
    (tmp / "publisher").write_bytes(private_pem(key))
    (tmp / "publisher").chmod(0o600)  # a private key others can read is refused
    (tmp / "publisher.pub").write_bytes(key.public.pem())
    (tmp / "other.pub").write_bytes(generate().public.pem())
    source = build_source(tmp, NAME, {"generic": {}})
    sha256 = digests(source, tmp)["generic"]
    evidence = write_json(tmp / "eval.json", make_evidence("eval", target="generic", sha256=sha256))
    publish(source, root, evidence=[evidence], signer=KeySigner(key))
    return Signed(root, key, tmp / "publisher.pub", tmp / "other.pub", sha256, tmp)


def user_policy(hostile: Hostile, text: str) -> Path:
    path = hostile.home / ".config" / "skillpm" / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project_policy(hostile: Hostile, text: str) -> Path:
    path = hostile.project / ".skillpm" / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def trust(fingerprint: str, public_key: Path | str | None = None) -> str:
    line = f'public-key = "{public_key}"\n' if public_key is not None else ""
    return f'[[trust.keys]]\nfingerprint = "{fingerprint}"\n{line}'


def install(hostile: Hostile, registry: Path, *options: str):
    return hostile.run("install", NAME, "--registry", registry, "--arch", "12.0", *options)


def assert_not_installed(hostile: Hostile, before: dict) -> None:
    """Nothing changed outside the cache: no skill, no skills.lock."""
    assert hostile.changed_outside(before, hostile.cache) == []


def own_key_in_project(hostile: Hostile, signed: Signed) -> str:
    """The publisher's public key copied into the project, as a hostile clone would ship it."""
    shutil.copy(signed.pub, hostile.project / "publisher.pub")
    return trust(signed.fingerprint, "../publisher.pub")


# -- A: the user's policy is the floor ----------------------------------------------------------


def test_a_project_key_does_not_satisfy_the_users_require_attestations(hostile: Hostile, signed: Signed) -> None:
    """Threat: a cloned project's policy adds the attacker's key, and the user's require-attestations is met by it."""
    user_policy(hostile, "[require]\nattestations = true\n")
    project_policy(hostile, own_key_in_project(hostile, signed))
    before = hostile.state()
    hostile.refused(install(hostile, signed.root), "check 'signature' failed", "nothing was installed")
    assert_not_installed(hostile, before)


def test_a_project_key_is_not_trusted_by_verify_either(hostile: Hostile, signed: Signed) -> None:
    """Threat: the same added key makes 'verify' (and 'info') report the attacker's evidence as verified."""
    project_policy(hostile, own_key_in_project(hostile, signed))
    completed = hostile.run("verify", NAME, "--registry", signed.root, "--json")
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    checks = {check["check"]: check for check in report["variants"][0]["attestations"][0]["checks"]}
    assert not checks["signer"]["ok"] and not report["ok"]
    info = json.loads(hostile.ok(hostile.run("info", NAME, "--registry", signed.root, "--json")).stdout)
    assert [item["verified"] for item in info["evidence"]] == [False]


def test_a_project_sigstore_identity_adds_no_trust(hostile: Hostile, signed: Signed) -> None:
    """Threat: a project trusts a Sigstore identity (the attacker's CI) that the user never trusted."""
    from test_attest_keyless import Instance

    instance = Instance.create()
    (hostile.work / "root.json").write_text(instance.trusted_root()._inner.to_json())
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    statement = Statement(
        (Subject(archive_name(NAME, "1.0.0", "generic"), signed.sha256),), EVAL_PREDICATE,
        make_evidence("eval", target="generic", sha256=signed.sha256),
    )
    issuer, identity = "https://issuer.evil.example", "ci@evil.example"
    replace_bundle(registry, instance.sign(statement.to_bytes(), identity=identity, issuer=issuer))
    project_policy(hostile, f'[[trust.sigstore]]\nissuer = "{issuer}"\nidentity = "{identity}"\n')
    env = {"SKILLPM_SIGSTORE_TRUSTED_ROOT": str(hostile.work / "root.json")}
    before = hostile.state()
    required = ("install", NAME, "--registry", registry, "--arch", "12.0", "--require-attestations")
    hostile.refused(hostile.run(*required, env=env),
                    "check 'signer' failed", f"identity {identity} from issuer {issuer} is not trusted")
    assert_not_installed(hostile, before)
    noted = hostile.ok(hostile.run("install", NAME, "--registry", registry, "--arch", "12.0", env=env))
    assert f"signed by the Sigstore identity {identity} (issuer {issuer}) (not trusted)" in noted.stderr, noted.stderr
    user_policy(hostile, f'[[trust.sigstore]]\nissuer = "{issuer}"\nidentity = "{identity}"\n')
    hostile.ok(hostile.run("install", NAME, "--registry", registry, "--arch", "12.0", env=env))


def test_a_project_may_narrow_the_users_signers(hostile: Hostile, signed: Signed) -> None:
    """Tightening works: the user trusts the publisher, the project accepts only another key: refused."""
    user_policy(hostile, trust(signed.fingerprint, signed.pub))
    other = hashlib.sha256(b"someone else").hexdigest()
    project_policy(hostile, trust(other))
    before = hostile.state()
    hostile.refused(install(hostile, signed.root, "--require-attestations"), "check 'signature' failed")
    assert_not_installed(hostile, before)
    project_policy(hostile, trust(signed.fingerprint))  # the project accepts the user's signer: it counts
    hostile.ok(install(hostile, signed.root))


def test_a_project_may_raise_a_minimum_but_never_lower_one(hostile: Hostile, signed: Signed) -> None:
    """Threat: a project sets min-pass-rate 0 to undo the user's 0.9 (the evidence shows 0.85)."""
    user_policy(hostile, trust(signed.fingerprint, signed.pub) + "[require]\nmin-pass-rate = 0.9\n")
    project_policy(hostile, "[require]\nmin-pass-rate = 0.0\nattestations = false\n")
    before = hostile.state()
    hostile.refused(install(hostile, signed.root), "below the policy's minimum 0.9")
    assert_not_installed(hostile, before)


def test_the_user_opts_in_to_a_projects_signers(hostile: Hostile, signed: Signed) -> None:
    """The one way a project's key counts: the user's own policy names that project in [trust] project-keys."""
    user_policy(hostile, f'[trust]\nproject-keys = ["{hostile.project}"]\n[require]\nattestations = true\n')
    project_policy(hostile, own_key_in_project(hostile, signed))
    hostile.ok(install(hostile, signed.root))


def test_another_project_named_in_project_keys_does_not_count(hostile: Hostile, signed: Signed) -> None:
    """Threat: trust given to one project leaks to every project (or to a relative path that matches anywhere)."""
    user_policy(hostile, f'[trust]\nproject-keys = ["{hostile.work}"]\n')
    project_policy(hostile, own_key_in_project(hostile, signed))
    hostile.refused(install(hostile, signed.root, "--require-attestations"), "check 'signature' failed")
    user_policy(hostile, '[trust]\nproject-keys = ["project"]\n')
    hostile.refused(install(hostile, signed.root), "project-keys entry 'project' is not an absolute path")


def test_a_project_cannot_opt_itself_in(hostile: Hostile, signed: Signed) -> None:
    """Threat: the project's own policy claims the user trusts its keys."""
    project_policy(hostile, f'[trust]\nproject-keys = ["{hostile.project}"]\n' + own_key_in_project(hostile, signed))
    hostile.refused(install(hostile, signed.root), "project-keys is read only from your own policy")


def test_a_trusted_key_flag_is_the_users_trust(hostile: Hostile, signed: Signed) -> None:
    """--trusted-key is the user's own word: it satisfies the user's require-attestations (no file needed)."""
    user_policy(hostile, "[require]\nattestations = true\n")
    hostile.ok(install(hostile, signed.root, "--trusted-key", str(signed.pub)))


# -- B: bounded reads of policy and key files -------------------------------------------------


@pytest.mark.parametrize("whose", ["project", "user"])
def test_a_policy_file_linked_to_dev_zero_is_refused(hostile: Hostile, signed: Signed, whose: str) -> None:
    """Threat: .skillpm/policy.toml -> /dev/zero is read without end (memory exhausted, or a hang)."""
    path = project_policy(hostile, "") if whose == "project" else user_policy(hostile, "")
    path.unlink()
    path.symlink_to("/dev/zero")
    hostile.refused(install(hostile, signed.root), "cannot read the policy file", str(path), "not a regular file")


def unreadable(path: Path, kind: str) -> str:
    """Make ``path`` a link to /dev/zero, a fifo, a directory or a sparse 4 GB file; the refusal's reason."""
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        with open(path, "wb") as handle:
            handle.truncate(4 * 1024 ** 3)
    return "larger than" if kind == "huge" else "not a regular file"


@pytest.mark.parametrize("kind", ["fifo", "directory", "huge"])
def test_a_policy_file_that_is_no_small_regular_file_is_refused(hostile: Hostile, signed: Signed, kind: str) -> None:
    """Threat: a fifo hangs the reader; a directory or a sparse 4 GB file ends in a traceback or exhausts memory."""
    path = project_policy(hostile, "")
    path.unlink()
    reason = unreadable(path, kind)
    hostile.refused(install(hostile, signed.root), "cannot read the policy file", str(path), reason)


def test_a_project_public_key_outside_the_project_is_refused(hostile: Hostile, signed: Signed) -> None:
    """Threat: public-key = "../../../dev/zero" (or a user's file) read through a project policy."""
    for escape in ("../../../../../../../../dev/zero", "/dev/zero", str(signed.pub)):
        project_policy(hostile, trust(signed.fingerprint, escape))
        hostile.refused(install(hostile, signed.root), "public-key", "is outside the project")
    (hostile.project / "keys").symlink_to(signed.pub.parent)  # a link inside the project that leads out
    project_policy(hostile, trust(signed.fingerprint, f"../keys/{signed.pub.name}"))
    hostile.refused(install(hostile, signed.root), "is outside the project")


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "huge"])
def test_key_files_are_read_bounded(hostile: Hostile, signed: Signed, kind: str) -> None:
    """Threat: a key path (user policy, --trusted-key, verify --key) names a device, a fifo, a directory
    or a sparse 4 GB file."""
    target = hostile.work / "key.pub"
    reason = unreadable(target, kind)
    user_policy(hostile, trust(signed.fingerprint, target))
    hostile.refused(install(hostile, signed.root), "cannot read public-key", str(target), reason)
    user_policy(hostile, "")
    if kind != "directory":  # click refuses a directory for these options itself
        hostile.refused(install(hostile, signed.root, "--trusted-key", str(target)), str(target), reason)
        hostile.refused(hostile.run("verify", NAME, "--registry", signed.root, "--key", target), str(target), reason)


# -- C: NaN and infinity are never measurements -------------------------------------------------


class _Payload:
    """Signs exactly these payload bytes (a statement as a forger wrote it)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def to_bytes(self) -> bytes:
        return self.data


def replace_bundle(registry: Path, bundle: bytes, predicate_type: str | None = None) -> None:
    """Put ``bundle`` in place of the generic variant's attestation, and its sha256 in the index."""
    shard = registry / "index" / shard_path(NAME)
    document = json.loads(shard.read_text())
    attestation = document["versions"][0]["variants"][0]["attestations"][0]
    (registry / attestation["path"]).write_bytes(bundle)
    attestation["sha256"] = hashlib.sha256(bundle).hexdigest()
    attestation["predicate-type"] = predicate_type or attestation["predicate-type"]
    shard.write_text(json.dumps(document))


#: measurement -> (evidence kind, the JSON text of each of its values in the evidence, the install flag)
MEASUREMENTS = {
    "lift": ("eval", ['"lift":0.35', '"lift":0.25'], "--min-lift"),
    "pass_rate": ("eval", ['"pass_rate":0.9,', '"pass_rate":0.85,'], "--min-pass-rate"),
    "pct_of_peak": ("bench", ['"pct_of_peak":72.9', '"pct_of_peak":41.8'], "--min-bandwidth-pct"),
}


def forged_statement(signed: Signed, measurement: str, number: str) -> tuple[str, bytes]:
    """The predicate type, and a statement with every value of ``measurement`` written as the JSON text ``number``."""
    kind, values, _ = MEASUREMENTS[measurement]
    predicate_type = EVAL_PREDICATE if kind == "eval" else BENCH_PREDICATE
    evidence = make_evidence(kind, target="generic", sha256=signed.sha256)
    statement = Statement((Subject(archive_name(NAME, "1.0.0", "generic"), signed.sha256),), predicate_type, evidence)
    text = statement.to_bytes().decode()
    for value in values:
        assert value in text, value
        key, _, rest = value.partition(":")
        text = text.replace(value, f"{key}:{number}{',' if rest.endswith(',') else ''}")
    return predicate_type, text.encode()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400], ids=lambda n: n[:8])
@pytest.mark.parametrize("measurement", sorted(MEASUREMENTS))
def test_a_signed_non_finite_measurement_never_meets_a_minimum(
    hostile: Hostile, signed: Signed, measurement: str, number: str
) -> None:
    """Threat: evidence signed with NaN (every comparison false) or 1e999 (read as infinity) passes any minimum."""
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    predicate_type, payload = forged_statement(signed, measurement, number)
    replace_bundle(registry, sign_with_key(_Payload(payload), signed.key), predicate_type)
    before = hostile.state()
    minimum = MEASUREMENTS[measurement][2]
    # an integer too large for a float is refused as such by the strict JSON parser, before it is a number
    why = "more than 40 digits" if number.isdigit() else "not finite"
    error = hostile.refused(install(hostile, registry, "--trusted-key", str(signed.pub), minimum, "0.1"))
    assert "check 'statement' failed" in error and why in error, error
    assert_not_installed(hostile, before)
    completed = hostile.run("verify", NAME, "--registry", registry, "--key", signed.pub)
    assert completed.returncode == 1 and "1 of 1 variant(s) failed verification" in completed.stderr, completed.stderr
    assert why in completed.stdout, completed.stdout


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_publish_refuses_to_sign_non_finite_evidence(hostile: Hostile, signed: Signed, number: str) -> None:
    """Threat: an evaluation that produced NaN (0/0) is signed and published as evidence."""
    registry = hostile.work / "registry"
    store.init(registry)
    source = build_source(hostile.work, NAME, {"generic": {}})
    sha256 = digests(source, hostile.work / "digests")["generic"]
    text = json.dumps(make_evidence("eval", target="generic", sha256=sha256)).replace('"lift": 0.35', f'"lift": {number}')
    assert number in text
    (hostile.work / "eval.json").write_text(text)
    before = hostile.state()
    error = hostile.refused(hostile.run(
        "publish", source, "--registry", registry, "--evidence", hostile.work / "eval.json",
        "--sign", f"key:{signed.tmp / 'publisher'}",
    ))
    assert "not finite" in error, error
    assert hostile.changed_outside(before, hostile.cache, hostile.work / "digests") == []


# -- figures that contradict the evidence's own counts ------------------------------------------

#: measurement -> the JSON text its forged values take (the counts and timings stay as they were)
FORGED = {"pass_rate": "1.0", "lift": "0.99", "pct_of_peak": "99.0"}


@pytest.mark.parametrize("measurement", sorted(FORGED))
def test_signed_figures_that_contradict_their_own_counts_never_meet_a_minimum(
    hostile: Hostile, signed: Signed, measurement: str
) -> None:
    """Threat: signed eval evidence says 18 of 20 passed and a pass rate of 1.0 (or a lift, or a percent of
    peak, its counts or timings do not give), which met any minimum: policy read the stated figure."""
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    predicate_type, payload = forged_statement(signed, measurement, FORGED[measurement])
    replace_bundle(registry, sign_with_key(_Payload(payload), signed.key), predicate_type)
    before = hostile.state()
    minimum = MEASUREMENTS[measurement][2]
    error = hostile.refused(install(hostile, registry, "--trusted-key", str(signed.pub), minimum, "0.1"))
    assert "check 'figures' failed" in error and f"{measurement} {FORGED[measurement]}" in error, error
    assert_not_installed(hostile, before)
    completed = hostile.run("verify", NAME, "--registry", registry, "--key", signed.pub)
    assert completed.returncode == 1 and "figures" in completed.stdout, completed.stdout


def test_publish_refuses_to_sign_figures_its_counts_do_not_give(hostile: Hostile, signed: Signed) -> None:
    """Threat: eval evidence edited to a pass rate of 1.0 beside 18 of 20 passed is signed and published."""
    registry = hostile.work / "registry"
    store.init(registry)
    source = build_source(hostile.work, NAME, {"generic": {}})
    sha256 = digests(source, hostile.work / "digests")["generic"]
    text = json.dumps(make_evidence("eval", target="generic", sha256=sha256)).replace('"pass_rate": 0.9,', '"pass_rate": 1.0,')
    (hostile.work / "eval.json").write_text(text)
    before = hostile.state()
    error = hostile.refused(hostile.run(
        "publish", source, "--registry", registry, "--evidence", hostile.work / "eval.json",
        "--sign", f"key:{signed.tmp / 'publisher'}",
    ))
    assert "check 'figures' failed" in error and "pass_rate 1.0 is not 18 of 20 passed" in error, error
    assert hostile.changed_outside(before, hostile.cache, hostile.work / "digests") == []
