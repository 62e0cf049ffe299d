"""Hostile keyless (Sigstore) bundles and a silent network, through the real command line.

The bundles are signed in the test run by the synthetic Sigstore instance of
``tests/test_attest_keyless.py`` (its trusted root given as ``$SKILLPM_SIGSTORE_TRUSTED_ROOT``), or
checked against Sigstore's production root; no case reaches the network: HTTPS goes to a proxy on
127.0.0.1 that accepts connections and never answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillpm.archive import archive_name
from skillpm.attest.statement import EVAL_PREDICATE, Statement, Subject
from skillpm.registry import store

from conftest import build_source
from sigstore_services import FULCIO, REKOR, serving, trust_config
from test_attest_keyless import IDENTITY, ISSUER, ISSUER_V1, ISSUER_V2, Instance
from test_publish import NAME, VARIANTS, digests, make_evidence, write_json

from .conftest import TIMEOUT, Hostile
from .test_signing import attest
from .test_trust import Signed, replace_bundle, signed  # noqa: F401 (signed: the fixture)


def keyless_registry(hostile: Hostile, signed: Signed, instance: Instance, **options) -> tuple[Path, dict[str, str]]:
    """A copy of the signed registry whose bundle ``instance`` signed keyless (``options``: Instance.sign's),
    and the environment that trusts the instance's root."""
    statement = Statement(
        (Subject(archive_name(NAME, "1.0.0", "generic"), signed.sha256),), EVAL_PREDICATE,
        make_evidence("eval", target="generic", sha256=signed.sha256),
    )
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    replace_bundle(registry, instance.sign(statement.to_bytes(), **options))
    (hostile.work / "root.json").write_text(instance.trusted_root()._inner.to_json())
    return registry, {"SKILLPM_SIGSTORE_TRUSTED_ROOT": str(hostile.work / "root.json")}


def checks(completed) -> dict[str, dict]:
    """The checks of the one attestation ``verify --json`` reports."""
    report = json.loads(completed.stdout)
    return {check["check"]: check for check in report["variants"][0]["attestations"][0]["checks"]}


def verify(hostile: Hostile, registry: Path, env: dict[str, str], *options: str):
    return hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--json",
                       "--identity", f"{ISSUER}={IDENTITY}", *options, env=env)


def test_a_keyless_bundle_whose_log_time_overflows_fails_its_signature_check(hostile: Hostile, signed: Signed) -> None:
    """Threat: a registry's keyless bundle says its log entry was made at integratedTime 99999999999999999,
    which sigstore-python turns into an OSError (EOVERFLOW) or OverflowError: verify, info and install of the
    package ended in 'error: Value too large for defined data type' instead of failing that bundle's check."""
    instance = Instance.create()
    registry, env = keyless_registry(hostile, signed, instance)
    bundle_path = next(registry.glob("attestations/**/*.sigstore.json"))
    bundle = json.loads(bundle_path.read_text())
    bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = "99999999999999999"
    replace_bundle(registry, json.dumps(bundle).encode())
    completed = verify(hostile, registry, env)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    found = checks(completed)
    assert not found["signature"]["ok"] and not found["signer"]["ok"]
    assert found["signature"]["detail"].startswith("Sigstore verification failed: "), found["signature"]
    info = json.loads(hostile.ok(hostile.run("info", NAME, "--registry", registry, "--json", env=env)).stdout)
    assert [item["verified"] for item in info["evidence"]] == [False]
    install = ("install", NAME, "--registry", registry, "--arch", "12.0", "--require-attestations")
    hostile.refused(hostile.run(*install, env=env), "check 'signature' failed", "Sigstore verification failed")


@pytest.mark.parametrize(("issuers", "trusted", "problem"), [
    ([(ISSUER_V2, b"\x0c\x15https://shown.example"), (ISSUER_V1, ISSUER.encode())], False,
     "the certificate's identity cannot be read: its OIDC issuer extensions disagree"),
    ([(ISSUER_V1, b"\xff\xfe")], False, "the certificate's identity cannot be read: "),
    ([(ISSUER_V2, b"\x0c\x1b" + ISSUER.encode())], True, f"{IDENTITY} from {ISSUER} is trusted by the policy"),
    ([(ISSUER_V1, ISSUER.encode()), (ISSUER_V2, b"\x0c\x1b" + ISSUER.encode())], True, "is trusted by the policy"),
], ids=["v1-and-v2-disagree", "v1-not-utf8", "v2-only", "v1-and-v2-agree"])
def test_the_keyless_signer_shown_is_the_one_matched(
    hostile: Hostile, signed: Signed, issuers: list, trusted: bool, problem: str
) -> None:
    """Threat: the issuer skillpm showed (and named the bundle's file by) was the first of Fulcio's v1 and v2
    issuer extensions, while trust was decided on v1 alone: a certificate whose two differ was trusted under
    one issuer and shown under the other; one of v2 alone was refused naming the very pair the policy
    trusts; an issuer or identity that is not UTF-8 ended the whole command."""
    registry, env = keyless_registry(hostile, signed, Instance.create(), issuers=issuers)
    completed = verify(hostile, registry, env)
    assert "Traceback" not in completed.stderr and completed.returncode == (0 if trusted else 1), completed.stderr
    found = checks(completed)
    assert found["signature"]["ok"] and found["signer"]["ok"] is trusted
    assert problem in found["signer"]["detail"], found["signer"]
    if trusted:
        assert found["signature"]["detail"] == f"valid Sigstore signature by {IDENTITY} (issuer {ISSUER})"


class SilentProxy:
    """A proxy on 127.0.0.1 that accepts connections and never answers (a network that drops everything)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.server.accept()[0])
            except OSError:  # closed
                return

    @property
    def env(self) -> dict[str, str]:
        url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        return {"HTTPS_PROXY": url, "https_proxy": url, "HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "", "no_proxy": ""}

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent_proxy() -> Iterator[SilentProxy]:
    proxy = SilentProxy()
    yield proxy
    proxy.close()


def two_production_bundles(hostile: Hostile, signed: Signed) -> Path:
    """A registry with two keyless bundles (of a synthetic instance), checked against Sigstore's production root."""
    registry, _ = keyless_registry(hostile, signed, Instance.create())
    shard = next((registry / "index").glob("**/*.json"))
    document = json.loads(shard.read_text())
    attestations = document["versions"][0]["variants"][0]["attestations"]
    first = attestations[0]
    second = {**first, "path": first["path"].replace(".sigstore.json", ".again.sigstore.json")}
    # the same bundle spelt otherwise: a document may list no bundle twice (skillpm.index.limits)
    again = json.dumps(json.loads((registry / first["path"]).read_bytes()), indent=1).encode()
    (registry / second["path"]).write_bytes(again)
    second["sha256"] = hashlib.sha256(again).hexdigest()
    if "size" in second:
        second["size"] = len(again)
    attestations.append(second)
    shard.write_text(json.dumps(document))
    return registry


def test_offline_verify_and_install_never_refresh_sigstore_s_trust_root(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: each keyless bundle made sigstore-python refresh Sigstore's trust root over TUF, outside
    skillpm's HTTP client, even with --offline or SKILLPM_OFFLINE=1: about two minutes a bundle behind a
    network that drops packets. Offline, the copy cached or shipped with sigstore-python is used."""
    registry = two_production_bundles(hostile, signed)
    for offline, env in (("--offline",), {}), ((), {"SKILLPM_OFFLINE": "1"}):
        completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--json", *offline,
                                env={**silent_proxy.env, **env})
        assert completed.returncode == 1 and completed.stderr == "", completed.stderr  # sigstore's warnings are its own
        report = json.loads(completed.stdout)
        for attestation in report["variants"][0]["attestations"]:
            signature = next(check for check in attestation["checks"] if check["check"] == "signature")
            assert signature["detail"].startswith("Sigstore verification failed: "), signature
    install = ("install", NAME, "--registry", registry, "--arch", "12.0", "--offline", "--require-attestations")
    hostile.refused(hostile.run(*install, env=silent_proxy.env), "check 'signature' failed")
    assert silent_proxy.accepted == []


def test_refreshing_sigstore_s_trust_root_ends_by_the_command_s_deadline(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: the same refresh took no deadline of skillpm's ($SKILLPM_HTTP_DEADLINE), and its failure
    hinted at an option that does not exist ("verify offline"). It is made once per command, given until
    the command's deadline, and a failure names --offline."""
    registry = two_production_bundles(hostile, signed)
    env = {**silent_proxy.env, "SKILLPM_HTTP_DEADLINE": "1"}
    completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--json", env=env)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    report = json.loads(completed.stdout)
    for attestation in report["variants"][0]["attestations"]:
        signature = next(check for check in attestation["checks"] if check["check"] == "signature")
        assert signature["detail"].startswith("cannot refresh Sigstore's trust root: no answer within the "
                                              "command's deadline of 1 s ($SKILLPM_HTTP_DEADLINE)"), signature
        assert "(use --offline or SKILLPM_OFFLINE=1 to verify against the copy" in signature["detail"]


#: The deadline of a refresh that must reach the (silent) network first: time for the child to import
#: sigstore-python and connect on a loaded machine (3 s was too little at a load of 6 to 7).
REACH = "8"


def _sigstore_files(hostile: Hostile) -> dict[str, tuple[int, int, int]]:
    """The entries of sigstore-python's own folders (its TUF metadata and cached targets) in the case's home."""
    return {path: entry for path, entry in hostile.state().items() if "sigstore-python" in path}


def _offline_signature(hostile: Hostile, registry: Path, proxy: SilentProxy) -> list[str]:
    """The ``signature`` detail of each bundle that ``verify --offline`` reports, off sigstore-python's cached root."""
    completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--json", "--offline", env=proxy.env)
    attestations = json.loads(completed.stdout)["variants"][0]["attestations"]
    return [next(check["detail"] for check in item["checks"] if check["check"] == "signature") for item in attestations]


def test_a_trust_root_refresh_past_the_deadline_is_abandoned_leaving_nothing_running_or_written(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: the refresh ran on in a thread after the command's deadline, writing sigstore-python's folders
    until the process exited, which could stop it half-way through a file. It now runs in a child process on a
    copy of those folders, killed at the deadline: the command ends then, nothing of it still holds a connection,
    and the user's folders are as they were (here: not made at all), so ``--offline`` reads sigstore's own root."""
    registry = two_production_bundles(hostile, signed)
    install = ("install", NAME, "--registry", registry, "--arch", "12.0", "--require-attestations")
    refused = hostile.run(*install, env={**silent_proxy.env, "SKILLPM_HTTP_DEADLINE": REACH})  # TIMEOUT: the hang guard
    hostile.refused(refused, "check 'signature' failed", "cannot refresh Sigstore's trust root: no answer within "
                    f"the command's deadline of {REACH} s")
    _assert_abandoned(hostile, silent_proxy)
    assert all(detail.startswith("Sigstore verification failed: ")
               for detail in _offline_signature(hostile, registry, silent_proxy))


def test_a_trust_root_refresh_ends_with_the_command_killed_during_it(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy, tmp_path: Path
) -> None:
    """Threat: the refresh's child process outlived a command killed with SIGKILL (the OOM killer, a CI job's
    end), holding its connection and its copy of sigstore-python's folders for as long as sigstore-python's own
    timeouts let it. It now dies with the command, removing that copy as it goes."""
    import signal
    import time

    registry = two_production_bundles(hostile, signed)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    command = [sys.executable, "-m", "skillpm", "install", NAME, "--registry", str(registry), "--arch", "12.0",
               "--require-attestations"]
    env = hostile.env(**silent_proxy.env, SKILLPM_HTTP_DEADLINE="600", TMPDIR=str(temporary))
    process = subprocess.Popen(command, cwd=hostile.project, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not silent_proxy.accepted and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert silent_proxy.accepted, "the refresh never reached the network"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    for connection in silent_proxy.accepted:
        connection.settimeout(10)  # before, held until sigstore-python's own timeouts
        while connection.recv(4096):
            pass
    deadline = time.monotonic() + 10
    while any(temporary.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(temporary.iterdir()) == []
    assert _sigstore_files(hostile) == {}


def _assert_abandoned(hostile: Hostile, proxy: SilentProxy) -> None:
    """The refresh reached the network, nothing of the command still holds a connection (the other end closed
    each: a read ends), and sigstore-python's folders were not made."""
    assert proxy.accepted, "the refresh never reached the network"
    for connection in proxy.accepted:
        connection.settimeout(TIMEOUT)
        while connection.recv(4096):  # what the client sent (its CONNECT), then the end
            pass
    assert _sigstore_files(hostile) == {}


def test_keyless_signing_refreshes_sigstore_s_trust_root_by_the_command_s_deadline(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: '--sign sigstore' refreshed Sigstore's trust root over TUF in its own process, outside skillpm's
    HTTP client and with no deadline of skillpm's, as verifying once did: behind a network that drops packets,
    attest (and publish) waited as long as sigstore-python's fetcher would, past this suite's 30 s. Signing
    now takes the verifier's refresh (skillpm.attest.trustroot.refreshed_config), in a child process killed at
    the command's deadline: one error naming it, nothing of it left running, sigstore-python's folders as they were."""
    # before, the refresh outlived the suite's 30 s (121 s with SKILLPM_HTTP_DEADLINE=3 set)
    env = {**silent_proxy.env, "SKILLPM_HTTP_DEADLINE": REACH, "SIGSTORE_ID_TOKEN": _identity_token()}
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()

    refused = attest(hostile, signed, registry, "sigstore", env=env)

    hostile.refused(refused, "keyless signing failed: cannot refresh Sigstore's trust root: no answer within the "
                    f"command's deadline of {REACH} s ($SKILLPM_HTTP_DEADLINE)")
    _assert_abandoned(hostile, silent_proxy)
    assert hostile.changed_outside(before) == []


def _identity_token() -> str:
    """An OIDC token as sigstore-python checks one before any request: a JWT for the audience 'sigstore'."""
    import time

    import jwt

    now = int(time.time())
    claims = {"iss": "https://issuer.example", "sub": "someone", "aud": "sigstore", "iat": now, "exp": now + 600}
    return jwt.encode(claims, "k" * 32)


def _private_instance(hostile: Hostile, instance: Instance, url: str) -> dict[str, str]:
    """The environment that signs with ``instance``, whose Fulcio and Rekor are at ``url`` (its trust config written
    to work/trust-config.json), for an identity token, reaching 127.0.0.1 directly."""
    config = trust_config(hostile.work / "trust-config.json", instance, url)
    return {"SKILLPM_SIGSTORE_TRUST_CONFIG": str(config), "SIGSTORE_ID_TOKEN": _identity_token(),
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def test_keyless_signing_ends_by_the_command_s_deadline_when_fulcio_never_answers(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: sigstore-python asks Fulcio for the certificate, and Rekor for the log entry, with no timeout:
    a Fulcio that accepts the connection and never answers (a network that drops the replies) held
    '--sign sigstore' for ever, past this suite's 30 s. Signing ends by the command's deadline now: one error
    naming it, the connection closed, nothing written. The instance is a private one
    ($SKILLPM_SIGSTORE_TRUST_CONFIG, a ClientTrustConfig as sigstore-python's --trust-config takes) whose Fulcio
    and Rekor are the silent listener itself, reached directly."""
    fulcio = f"http://127.0.0.1:{silent_proxy.server.getsockname()[1]}"
    env = {**_private_instance(hostile, Instance.create(), fulcio), "SKILLPM_HTTP_DEADLINE": REACH}
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()

    refused = attest(hostile, signed, registry, "sigstore", env=env)  # before: killed at TIMEOUT, the hang guard

    hostile.refused(refused, "keyless signing failed: no answer within the command's deadline of "
                    f"{REACH} s ($SKILLPM_HTTP_DEADLINE)")
    _assert_abandoned(hostile, silent_proxy)
    assert hostile.changed_outside(before) == []


def test_keyless_signing_through_an_instance_s_fulcio_and_rekor_verifies_against_its_root(
    hostile: Hostile, signed: Signed
) -> None:
    """attest --sign sigstore, end to end without the network: the private instance of $SKILLPM_SIGSTORE_TRUST_CONFIG
    gives the certificate (Fulcio) and the log entry (Rekor) from 127.0.0.1, and the bundle attest publishes
    verifies against the instance's trusted root ($SKILLPM_SIGSTORE_TRUSTED_ROOT) for its identity."""
    instance = Instance.create()
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    (hostile.work / "root.json").write_text(instance.trusted_root()._inner.to_json())
    with serving(instance) as url:
        env = _private_instance(hostile, instance, url)
        hostile.ok(attest(hostile, signed, registry, "sigstore", env=env))
    trusted = {"SKILLPM_SIGSTORE_TRUSTED_ROOT": str(hostile.work / "root.json")}
    shown = json.loads(hostile.ok(verify(hostile, registry, trusted, "--key", signed.pub)).stdout)
    details = [{check["check"]: check["detail"] for check in attestation["checks"]}
               for attestation in shown["variants"][0]["attestations"]]
    assert shown["ok"] and len(details) == 2  # the key-signed one the registry held, and the keyless one
    assert f"valid Sigstore signature by {IDENTITY} (issuer {ISSUER})" in [detail["signature"] for detail in details]


def test_staging_and_a_private_instance_together_are_refused_before_either_is_asked(
    hostile: Hostile, signed: Signed
) -> None:
    """'--staging' names Sigstore's staging instance and $SKILLPM_SIGSTORE_TRUST_CONFIG a private one: the trust
    config won without a word, and the evidence was signed by an instance the flag had not asked for. Both together
    are one line now, before either instance is asked anything, with nothing written."""
    instance = Instance.create()
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    asked: list[str] = []
    with serving(instance, asked=asked) as url:
        env = _private_instance(hostile, instance, url)
        before = hostile.state()
        refused = hostile.run("attest", f"{NAME}==1.0.0", "--target", "generic", "--evidence", signed.tmp / "eval.json",
                              "--sign", "sigstore", "--staging", "--registry", registry, env=env)
    hostile.refused(refused, "--staging and $SKILLPM_SIGSTORE_TRUST_CONFIG name two Sigstore instances")
    assert asked == []
    assert hostile.changed_outside(before) == []


def test_publish_signs_all_its_statements_with_one_identity_and_one_certificate(hostile: Hostile) -> None:
    """Threat: 'publish --sign sigstore' signed each evidence file on its own: for each it looked for the CI's
    identity again (running 'buildkite-agent' again), read or refreshed Sigstore's trust root again and asked Fulcio
    for another certificate, each a new chance to fail or hang with the others done (a skill of five variants and
    three kinds of evidence: 15 of each). The command now signs all its statements under one identity, one trust
    root and one certificate; each statement still gets its own Rekor entry and bundle, and each verifies."""
    instance = Instance.create()
    source = build_source(hostile.work, NAME, VARIANTS)
    sums = digests(source, hostile.work)
    evidence = [write_json(hostile.work / f"{kind}-{target}.json", make_evidence(kind, target=target, sha256=sums[target]))
                for kind, target in (("eval", "generic"), ("eval", "sm_90a"), ("bench", "sm_90a"))]
    registry = hostile.work / "registry"
    store.init(registry)
    folder = hostile.work / "bin"
    folder.mkdir()
    searches = hostile.work / "searches"  # a line for each time the agent is asked for the job's identity
    (folder / "buildkite-agent").write_text(f"#!/bin/sh\necho \"$*\" >> {searches}\necho {_identity_token()}\n")
    (folder / "buildkite-agent").chmod(0o755)
    asked: list[str] = []
    with serving(instance, asked=asked) as url:
        env = {**_private_instance(hostile, instance, url), "SIGSTORE_ID_TOKEN": "", "BUILDKITE": "true",
               "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}
        given = [argument for path in evidence for argument in ("--evidence", path)]
        hostile.ok(hostile.run("publish", source, "--registry", registry, *given, "--sign", "sigstore", env=env))
    assert len(searches.read_text().splitlines()) == 1, searches.read_text()
    assert asked == [FULCIO] + [REKOR] * len(evidence), asked
    (hostile.work / "root.json").write_text(instance.trusted_root()._inner.to_json())
    trusted = {"SKILLPM_SIGSTORE_TRUSTED_ROOT": str(hostile.work / "root.json")}
    shown = json.loads(hostile.ok(verify(hostile, registry, trusted)).stdout)
    signatures = [next(check["detail"] for check in attestation["checks"] if check["check"] == "signature")
                  for variant in shown["variants"] for attestation in variant["attestations"]]
    assert shown["ok"] and signatures == [f"valid Sigstore signature by {IDENTITY} (issuer {ISSUER})"] * len(evidence)


@pytest.mark.parametrize("path, status, body, said", [
    (FULCIO, 500, b'{"message": "the CA is down"}', "FulcioClientError (500 Server Error: Internal Server Error for url: "),
    (FULCIO, 200, b'{"signedCertificateEmbeddedSct": {}}', "Fulcio response missing certificate chain"),
    (FULCIO, 200, b"<html>not json</html>", "the instance answered what sigstore-python cannot read (JSONDecodeError)"),
    (REKOR, 201, b'{"a": {}, "b": {}}', "Received multiple entries in response"),
    (REKOR, 201, b'{"entry": {"body": "e30="}}',
     "the instance answered what sigstore-python cannot read (ValidationError)"),  # not pydantic's many lines
    (REKOR, 409, b"{}", "Rekor returned an unknown error with HTTP 409"),
])
def test_a_fulcio_or_rekor_answering_what_sigstore_cannot_use_is_refused_in_one_line(
    hostile: Hostile, signed: Signed, path: str, status: int, body: bytes, said: str
) -> None:
    """Threat: sigstore-python raises its clients' own errors (FulcioClientError, RekorClientError), and KeyError,
    ValueError or a model's ValidationError on what is no answer of theirs, none of them its Error: an instance's
    Fulcio or Rekor answering so ended '--sign sigstore' in a traceback. One line now, nothing written."""
    instance = Instance.create()
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()
    with serving(instance, {path: (status, body)}) as url:
        env = _private_instance(hostile, instance, url)
        hostile.refused(attest(hostile, signed, registry, "sigstore", env=env), f"keyless signing failed: {said}")
    assert hostile.changed_outside(before) == ["work/trust-config.json"]


def test_a_certificate_fulcio_gives_that_is_no_longer_valid_is_refused_in_one_line(hostile: Hostile, signed: Signed) -> None:
    """A Fulcio answering a certificate that expired a day ago (its SCT valid): sigstore-python's
    ExpiredCertificate, no Error of its own, was a traceback."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from sigstore_services import pem

    instance = Instance.create()
    leaf = instance.certificate(ec.generate_private_key(ec.SECP256R1()).public_key())  # valid around SIGNED_AT
    chain = {"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem(leaf), pem(instance.ca)]}}}
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    with serving(instance, {FULCIO: (200, json.dumps(chain).encode())}) as url:
        env = _private_instance(hostile, instance, url)
        hostile.refused(attest(hostile, signed, registry, "sigstore", env=env),
                        "keyless signing failed: ExpiredCertificate")


def test_a_certificate_fulcio_gives_that_names_no_signer_is_refused_in_one_bounded_line(
    hostile: Hostile, signed: Signed
) -> None:
    """Threat: after signing, the bundle's file is named by the certificate's signer; a Fulcio whose certificate's
    issuer extensions disagree, one of them 200,000 characters, made 'attest --sign sigstore --json' quote both whole
    in its error: 200 KB of the instance's text on stdout. The reason is cleaned and bounded as the signing's own
    failures are; nothing is written."""
    from skillpm.display import clean

    instance = Instance.create()
    issued = "\x1b[2J" + "A" * 200_000
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()
    with serving(instance, issuers=[(ISSUER_V1, issued.encode()), (ISSUER_V2, b"\x0c\x03abc")]) as url:
        env = _private_instance(hostile, instance, url)
        refused = hostile.run("attest", f"{NAME}==1.0.0", "--target", "generic", "--evidence", signed.tmp / "eval.json",
                              "--sign", "sigstore", "--registry", registry, "--json", env=env)
    hostile.refused(refused, "the keyless bundle names no signer: its OIDC issuer extensions disagree")
    error = json.loads(refused.stdout)["error"]
    assert error == clean(error, 400) and len(error) < 400, error[:400]
    assert hostile.changed_outside(before) == ["work/trust-config.json"]


def test_a_bundle_signed_past_what_readers_read_is_never_written(hostile: Hostile, signed: Signed) -> None:
    """Threat: a Fulcio whose certificate carries 5 MB of padding (an extension of its own) made 'attest --sign
    sigstore' write a 19 MB bundle into the registry, listed in its index, which every verify, info and install then
    refused ('larger than 4194304 bytes'): an attestation published that no one can read. A signed bundle past the
    limit readers read is refused in one line before anything is written."""
    instance = Instance.create()
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    before = hostile.state()
    with serving(instance, issuers=[(ISSUER_V1, ISSUER.encode()), ("1.3.6.1.4.1.99999.1", b"A" * (5 << 20))]) as url:
        env = _private_instance(hostile, instance, url)
        refused = attest(hostile, signed, registry, "sigstore", env=env)
    hostile.refused(refused, "the signed bundle is ", "bytes, more than the 4194304 bytes")
    assert hostile.changed_outside(before) == ["work/trust-config.json"]


@pytest.mark.parametrize("written, said", [
    (None, "No such file or directory"),
    ("{}", "cannot read the Sigstore trust config"),
    ('{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}', "trust config"),
])
def test_a_trust_config_sigstore_cannot_read_is_refused_in_one_line(
    hostile: Hostile, signed: Signed, written: str | None, said: str
) -> None:
    config = hostile.work / "trust-config.json"
    if written is not None:
        config.write_text(written)
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    env = {"SKILLPM_SIGSTORE_TRUST_CONFIG": str(config), "SIGSTORE_ID_TOKEN": _identity_token()}
    hostile.refused(attest(hostile, signed, registry, "sigstore", env=env),
                    f"cannot read the Sigstore trust config {config} ($SKILLPM_SIGSTORE_TRUST_CONFIG)", said)


def test_the_trust_root_refresh_runs_no_code_of_the_folder_it_is_started_in(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy, run_skillpm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threat: the refresh's child process was ``python -c``, which puts the current folder first on its import
    path: ``skillpm install --require-attestations`` (or verify, or signing keyless) run in a cloned project
    imported the project's own ``pathlib.py`` (or ``sigstore/``) in the child, running its code. The child no
    longer looks in the current folder (``-P``); the console script, as users run it, never did."""
    registry = two_production_bundles(hostile, signed)
    ran = hostile.project / "RAN"
    (hostile.project / "pathlib.py").write_text(f"open({str(ran)!r}, 'w').close()\nraise SystemExit(3)\n")
    for key, value in {**silent_proxy.env, "SKILLPM_HTTP_DEADLINE": "2"}.items():
        monkeypatch.setenv(key, value)

    refused = run_skillpm("install", NAME, "--registry", registry, "--arch", "12.0", "--require-attestations",
                          cwd=hostile.project)

    hostile.refused(refused, "check 'signature' failed", "cannot refresh Sigstore's trust root: no answer within")
    assert not ran.exists(), "the project's pathlib.py ran in the refresh's child"


def _strace_problem() -> str | None:
    from test_registry_crash_safety import _strace_problem as problem

    return problem()


@pytest.mark.skipif(_strace_problem() is not None, reason=str(_strace_problem()))
def test_a_refresh_abandoned_while_it_writes_the_trusted_root_leaves_no_half_written_file(
    hostile: Hostile, signed: Signed, silent_proxy: SilentProxy
) -> None:
    """Threat: sigstore-python writes its cached trusted root by an open and a write; a refresh abandoned at the
    deadline while between the two left it empty, and every later ``verify --offline`` failed ("cannot load
    Sigstore's cached trust root: ... EOF while parsing"). strace holds the open of that file for 5 s, past the
    1 s deadline: the file sigstore-python keeps is never the one the refresh writes."""
    from sigstore._internal.tuf import DEFAULT_TUF_URL, _get_dirs

    registry = two_production_bundles(hostile, signed)
    cached = _get_dirs(DEFAULT_TUF_URL)[1] / "trusted_root.json"
    assert str(cached).startswith(str(hostile.home))
    delayed = ["strace", "-f", "-qq", "-o", os.devnull, "-P", str(cached), "-e", "trace=openat",
               "-e", "inject=openat:delay_exit=5000000"]
    completed = subprocess.run([*delayed, sys.executable, "-m", "skillpm", "verify", f"{NAME}==1.0.0", "--registry",
                                registry, "--json"], env=hostile.env(**silent_proxy.env, SKILLPM_HTTP_DEADLINE="1"),
                               cwd=hostile.project, capture_output=True, text=True, timeout=TIMEOUT)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert not cached.exists() or cached.read_bytes().startswith(b"{"), cached.read_bytes()[:100]
    assert all(detail.startswith("Sigstore verification failed: ")
               for detail in _offline_signature(hostile, registry, silent_proxy))
