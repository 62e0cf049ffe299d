"""Terminal text: nothing a registry, a project or evidence says reaches the terminal as control
characters, bidi overrides, invisible characters, lone surrogates or megabytes.

Each case writes a hostile registry (index documents written directly, archives built by hand, or
evidence signed for real), runs the real ``skillpm`` (tests/security/conftest.py) and checks that
the human output shows every hostile character as a visible escape, bounded, and that ``--json``
keeps the exact data (ASCII JSON, so still nothing raw on the terminal).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest

from skillpm.attest.keys import generate
from skillpm.registry import store

from conftest import build_source
from test_archive import SKILL, regular, with_metadata
from test_publish import digests, make_evidence, write_json

from .conftest import Hostile

NAME = "evil-skill"
#: A window-title escape, clear-screen, a C1 CSI, a bidi override and isolate, zero-width characters.
EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\u2066\u200b\ufeff\u2028end"
#: The same with a lone surrogate, which a terminal cannot even be sent (a traceback, before).
EVIL_SURROGATE = EVIL + "\ud800"
#: What a terminal must never receive from data (newline and tab aside, which skillpm itself prints).
FORBIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")


def raw_characters(text: str) -> list[str]:
    """The code points of ``text`` a terminal must never receive raw (newline aside), as hex."""
    return [hex(ord(char)) for char in sorted({char for char in text if char not in "\n" and unicodedata.category(char) in FORBIDDEN})]


def assert_safe(text: str) -> None:
    """No control, format, surrogate or separator character (the hostile ones show escaped), no traceback."""
    assert "Traceback" not in text, text[-2000:]
    assert not raw_characters(text)


def registry(hostile: Hostile, *, description: str = EVIL, versions: tuple[str, ...] = ("1.0.0",),
             archive: bytes | None = None, attestations: list | None = None) -> Path:
    """A registry serving ``evil-skill`` whose index documents carry hostile text (written directly)."""
    root = hostile.work / "registry"
    data = archive if archive is not None else with_metadata(SKILL)
    path = f"artifacts/{NAME}/1.0.0/{NAME}-1.0.0-generic.tar.gz"
    (root / path).parent.mkdir(parents=True)
    (root / path).write_bytes(data)
    variant = {"target": "generic", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "path": path,
               "yanked": False, "attestations": attestations or []}
    package = {"format-version": 1, "name": NAME, "versions": [
        {"version": version, "description": description, "license": description, "keywords": [description, "cuda"],
         "variants": [variant]}
        for version in versions
    ]}
    shard = root / "index" / "ev" / "il" / f"{NAME}.json"
    shard.parent.mkdir(parents=True)
    shard.write_text(json.dumps(package))
    entry = {"name": NAME, "version": versions[-1], "description": description, "keywords": [description],
             "targets": ["generic"]}
    (root / "search.json").write_text(json.dumps({"format-version": 1, "packages": [entry]}))
    (root / "config.json").write_text(json.dumps({"format": "skillpm-index", "format-version": 1, "name": "hostile"}))
    return root


def output(completed) -> str:
    return completed.stdout + completed.stderr


@pytest.mark.parametrize("description", [EVIL, EVIL_SURROGATE], ids=["controls", "lone-surrogate"])
def test_info_escapes_description_license_and_keywords(hostile: Hostile, description: str) -> None:
    """Threat: a description retitles the terminal, clears it, or reverses the text a user reads."""
    completed = hostile.ok(hostile.run("info", NAME, "--registry", registry(hostile, description=description)))
    assert_safe(output(completed))
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\u2066\\u200b\\ufeff\\u2028end" in completed.stdout


def test_info_escapes_invisible_default_ignorable_characters(hostile: Hostile) -> None:
    """Threat: characters a terminal draws as nothing but of no control or format category (the combining grapheme
    joiner, Hangul fillers, variation selectors) hide text inside a description or a licence."""
    invisible = "\u034f\u115f\u1160\u17b4\u180b\u3164\ufe0f\uffa0\U000e0100"
    completed = hostile.ok(hostile.run("info", NAME, "--registry", registry(hostile, description=f"safe{invisible}text")))
    assert not set(invisible) & set(output(completed))
    assert "safe\\u034f\\u115f\\u1160\\u17b4\\u180b\\u3164\\ufe0f\\uffa0\\U000e0100text" in completed.stdout


def test_info_bounds_a_megabyte_description(hostile: Hostile) -> None:
    """Threat: a megabyte-long description (or license, or keyword) floods the terminal."""
    completed = hostile.ok(hostile.run("info", NAME, "--registry", registry(hostile, description="A" * 1_000_000)))
    assert len(completed.stdout) < 10_000 and "…" in completed.stdout


def test_search_table_is_escaped_and_bounded(hostile: Hostile) -> None:
    """Threat: search.json text lands raw in the result table."""
    root = registry(hostile, description=EVIL_SURROGATE + "B" * 100_000)
    completed = hostile.ok(hostile.run("search", "evil", "--registry", root))
    assert_safe(output(completed))
    assert "\\x1b]0;pwned" in completed.stdout and len(completed.stdout) < 2_000


def test_resolve_explain_and_its_error_quote_hostile_versions(hostile: Hostile) -> None:
    """Threat: a version string of the index ('0.1<ESC>[2J') is quoted by --explain and by the error."""
    root = registry(hostile, versions=("0.1\x1b[2J\u202e", "1.0.0"))
    completed = hostile.run("resolve", f"{NAME}==7", "--arch", "9.0", "--explain", "--registry", root)
    hostile.refused(completed, "no version of evil-skill matches")
    assert_safe(output(completed))
    assert "0.1\\x1b[2J\\u202e" in completed.stderr


def test_debug_traceback_quotes_registry_text_escaped(hostile: Hostile) -> None:
    """Threat: --debug (which an error's hint suggests) prints the traceback, whose last line quotes an index
    version with a clipboard write (OSC 52), a carriage return and bidi overrides, raw."""
    root = registry(hostile, versions=("0.1\x1b]52;c;ZXZpbA==\x07\r" + EVIL, "1.0.0"))
    completed = hostile.run("--debug", "resolve", f"{NAME}==7", "--arch", "9.0", "--registry", root)
    assert completed.returncode == 1 and "Traceback (most recent call last):\n  File " in completed.stderr
    assert not raw_characters(output(completed))
    assert "NoMatch: no version of evil-skill matches ==7 (available: 0.1\\x1b]52;c;ZXZpbA==\\x07\\x0d\\x1b]0;pwned" in completed.stderr


def test_an_error_quoting_a_huge_registry_version_is_bounded(hostile: Hostile) -> None:
    """Threat: an index version of 200 000 characters makes an error of 200 000 characters."""
    root = registry(hostile, versions=("9" * 200_000 + "\x1b[2J", "1.0.0"))
    completed = hostile.run("install", f"{NAME}==7", "--arch", "9.0", "--registry", root)
    hostile.refused(completed)  # one error line, and stderr under 4 000 characters
    assert_safe(output(completed))


def test_verify_output_escapes_what_the_index_says(hostile: Hostile) -> None:
    """Threat: an attestation path in the index ('attestations/<ESC>[2J...') reaches the verify table raw."""
    attestation = {"path": "attestations/\x1b[2J\u202e.json", "sha256": "0" * 64,
                   "predicate-type": "https://skillpm.dev/attestations/eval/v1"}
    completed = hostile.run("verify", NAME, "--registry", registry(hostile, attestations=[attestation]))
    assert completed.returncode != 0
    assert_safe(output(completed))


def test_install_refusal_quoting_an_archive_file_name(hostile: Hostile) -> None:
    """Threat: a file name inside an archive ('<ESC>]0;...<BEL>') is quoted by the refusal."""
    archive = with_metadata(SKILL, regular("skill/references/\x1b]0;pwned\x07\u202e\u200b.md"))
    root = registry(hostile, archive=archive)
    before = hostile.state()
    completed = hostile.run("install", NAME, "--arch", "9.0", "--registry", root)
    assert_safe(output(completed))
    if completed.returncode != 0:
        hostile.refused(completed)
        assert hostile.changed_outside(before, hostile.cache) == []


def test_install_and_list_show_a_hostile_lockfile_safely(hostile: Hostile) -> None:
    """Threat: a cloned skills.lock records a version with escapes; 'list' and 'sync' print it."""
    root = registry(hostile)
    installed = hostile.ok(hostile.run("install", NAME, "--arch", "9.0", "--registry", root))
    assert_safe(output(installed))
    lock = hostile.project / "skills.lock"
    lock.write_text(lock.read_text().replace('version = "1.0.0"', 'version = "1.0.0\\u001b]0;pwned\\u0007\\u202e"'))
    for command in (("list",), ("sync",)):
        completed = hostile.run(*command)
        assert_safe(output(completed))


def test_signed_evidence_summary_is_escaped(hostile: Hostile) -> None:
    """Threat: signed, verified bench evidence names its GPU '<ESC>]0;pwned<BEL>...'; info prints the summary."""
    from skillpm.publish import KeySigner, publish

    key = generate()
    (hostile.work / "me.pub").write_bytes(key.public.pem())
    root = hostile.work / "signed"
    store.init(root)
    source = build_source(hostile.work, "layer-norm", {"generic": {}})
    sha256 = digests(source, hostile.work / "digests")["generic"]
    evidence = make_evidence("bench", target="generic", sha256=sha256)
    evidence["device"]["name"] = EVIL
    evidence["gpu_evidence"] = True
    publish(source, root, evidence=[write_json(hostile.work / "bench.json", evidence)], signer=KeySigner(key))
    policy = hostile.home / ".config" / "skillpm" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text(f'[[trust.keys]]\nfingerprint = "{key.fingerprint}"\npublic-key = "{hostile.work / "me.pub"}"\n')
    completed = hostile.ok(hostile.run("info", "layer-norm", "--registry", root))
    shown = [line for line in completed.stdout.splitlines() if "GPU bench: " in line]  # verified evidence only
    assert len(shown) == 1 and "\\x1b]0;pwned\\x07" in shown[0] and f"(signed by key {key.fingerprint})" in shown[0]
    assert_safe(output(completed))


def test_sigstore_s_own_log_lines_never_reach_the_terminal(hostile: Hostile) -> None:
    """Threat: a registry's keyless bundle (v0.1) whose certificate chain holds a root CA makes sigstore-python log
    a warning, which Python's last-resort handler printed on stderr: a line skillpm never wrote nor cleaned."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from test_attest_keyless import Instance, _b64

    data = with_metadata(SKILL)
    subject = {"name": f"{NAME}-1.0.0-generic.tar.gz", "digest": {"sha256": hashlib.sha256(data).hexdigest()}}
    statement = {"_type": "https://in-toto.io/Statement/v1", "subject": [subject],
                 "predicateType": "https://skillpm.dev/attestations/eval/v1", "predicate": {}}
    instance = Instance.create()
    bundle = json.loads(instance.sign(json.dumps(statement).encode()))
    leaf = bundle["verificationMaterial"].pop("certificate")
    bundle["verificationMaterial"]["x509CertificateChain"] = {
        "certificates": [leaf, {"rawBytes": _b64(instance.ca.public_bytes(Encoding.DER))}]}
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1"
    raw = json.dumps(bundle).encode()
    path = f"attestations/{NAME}/1.0.0/{subject['name']}.eval-{'0' * 16}.sigstore.json"
    root = registry(hostile, archive=data, attestations=[
        {"path": path, "sha256": hashlib.sha256(raw).hexdigest(), "predicate-type": statement["predicateType"]}])
    (root / path).parent.mkdir(parents=True)
    (root / path).write_bytes(raw)
    for args in (("info", NAME), ("verify", NAME, "--json")):
        completed = hostile.run(*args, "--registry", root, "--offline")
        assert "Traceback" not in completed.stderr
        assert [line for line in completed.stderr.splitlines() if not line.startswith(("error: ", "verifying "))] == []


@pytest.mark.parametrize("argument", [f"evil{EVIL}", "x" * 100_000 + "\x1b[2J"], ids=["controls", "huge"])
def test_errors_quoting_an_argument_are_escaped_and_bounded(hostile: Hostile, argument: str) -> None:
    """Threat: text pasted from a web page (a requirement with escapes, or 100 kB) is echoed by the error."""
    completed = hostile.run("install", argument, "--arch", "9.0", "--registry", registry(hostile))
    hostile.refused(completed)
    assert_safe(output(completed))


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_output_in_an_encoding_without_the_registry_s_characters(hostile: Hostile, encoding: str) -> None:
    """Threat: text a Latin-1 or cp1252 stdout cannot encode (Windows with output redirected) stops search and
    info half-way, with an error saying the registry's text is not valid UTF-8."""
    root = registry(hostile, description="\u65e5\u672c\u8a9e " + "x" * 600)  # cut at 500 with skillpm's own '…'
    for args in (("search", "evil"), ("info", NAME)):
        completed = hostile.ok(hostile.run(*args, "--registry", root, env={"PYTHONIOENCODING": encoding}))
        assert completed.stderr == "" and "\\u65e5\\u672c\\u8a9e x" in completed.stdout, completed.stdout


def test_json_output_keeps_the_exact_data(hostile: Hostile) -> None:
    """--json is for programs: every hostile character kept exactly, written as ASCII JSON escapes."""
    root = registry(hostile, description=EVIL_SURROGATE)
    info = hostile.ok(hostile.run("info", NAME, "--registry", root, "--json"))
    search = hostile.ok(hostile.run("search", "evil", "--registry", root, "--json"))
    for completed in (info, search):
        assert completed.stdout.isascii()
        assert_safe(completed.stdout)
    assert json.loads(info.stdout)["versions"][-1]["description"] == EVIL_SURROGATE
    assert json.loads(info.stdout)["versions"][-1]["keywords"] == [EVIL_SURROGATE, "cuda"]
    assert json.loads(search.stdout)[0]["description"] == EVIL_SURROGATE


def test_a_registry_copy_elsewhere_still_shows_safely(hostile: Hostile) -> None:
    """The same hostile registry served over HTTP from 127.0.0.1: the download path prints safely too."""
    from test_http_server import Served

    served = Served(registry(hostile))
    try:
        for args in (("info", NAME), ("search", "evil"), ("install", NAME, "--arch", "9.0")):
            completed = hostile.run(*args, "--registry", served.url)
            assert completed.returncode == 0, output(completed)
            assert_safe(output(completed))
    finally:
        served.stop()
