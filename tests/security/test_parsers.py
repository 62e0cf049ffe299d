"""Hostile text for skillpm's parsers: YAML front matter, JSON from outside, and bytes that are not UTF-8.

Each case runs the real command line (``hostile.run``: 1 GB of address space, 30 s) on a
real file or argument, and checks for a clean answer: a finding or one ``error:`` line,
never a traceback, and nothing written where the command must not write.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import build_source, skill_md
from tests.security.conftest import Hostile

DIGITS = 100_000


def skill_with_front_matter(hostile: Hostile, extra: str, *, name: str = "demo") -> Path:
    """A plain skill folder whose front matter holds ``extra`` after a valid name and description."""
    skill = hostile.work / name
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Does one thing.\n{extra}\n---\n# Body\n")
    return skill


def assert_finding(completed: subprocess.CompletedProcess[str], *contains: str) -> str:
    """``validate`` said the skill is invalid, with a finding holding each of ``contains``, and no traceback."""
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output[-3000:]
    assert completed.returncode == 1, output[-3000:]
    findings = [line for line in completed.stdout.splitlines() if " error [" in line]
    assert findings and all(text in findings[0] for text in contains), output[-3000:]
    assert len(output) < 4_000, output[:4000]
    return findings[0]


# --- YAML front matter ---------------------------------------------------------------------------

NUMERALS = {
    # YAML 1.1 reads each of these as an integer; converting it takes time quadratic in its length.
    "hexadecimal": "0x" + "f" * 60_000,
    "binary": "0b" + "1" * 60_000,
    "octal": "0" + "7" * 60_000,
    "base-60": ":".join(["1"] + ["59"] * 20_000),
    "signed-base-60": "-" + ":".join(["1"] + ["59"] * 20_000),
}


@pytest.mark.parametrize("numeral", NUMERALS.values(), ids=NUMERALS.keys())
def test_front_matter_numerals_are_kept_as_text(hostile: Hostile, numeral: str) -> None:
    """Threat: a 60k-digit hexadecimal, binary, octal or base-60 integer in front matter is turned into a
    Python int (seconds of quadratic work), then its repr in a finding raises: a traceback.
    Defence: only decimal integers are built; these stay the text they are (and fail the length rule)."""
    skill = skill_with_front_matter(hostile, "")
    text = (skill / "SKILL.md").read_text().replace("description: Does one thing.", f"description: {numeral}")
    (skill / "SKILL.md").write_text(text)
    assert_finding(hostile.run("validate", skill), "spec.description.length")


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("1" * 60_000, "more than 18 digits"),
        ("12345678901234567890", "more than 18 digits"),
        ("1.0e+99999", "too large"),
        ("!!int 0x" + "f" * 60_000, "decimal only"),
    ],
    ids=["decimal-60k-digits", "decimal-20-digits", "float-overflow", "explicit-int-hex"],
)
def test_front_matter_numbers_out_of_range_are_refused(hostile: Hostile, value: str, phrase: str) -> None:
    """Threat: a huge decimal integer (Python refuses str() past 4300 digits: a traceback), a float that
    overflows to infinity, or an explicit !!int on a hexadecimal numeral.
    Defence: integers of at most 18 decimal digits and finite floats, else a finding on that line."""
    skill = skill_with_front_matter(hostile, f"metadata:\n  build: {value}")
    assert_finding(hostile.run("validate", skill), "spec.frontmatter.yaml", ":5:", phrase)


def test_front_matter_of_100k_digits_is_not_parsed(hostile: Hostile) -> None:
    """Threat: the issue's own example, a 100k-digit hexadecimal integer (and any document big enough to
    hold millions of YAML nodes). Defence: front matter over 64 KiB is refused before YAML sees it."""
    skill = skill_with_front_matter(hostile, "x: 0x" + "f" * DIGITS)
    assert_finding(hostile.run("validate", skill), "spec.frontmatter.yaml", "larger than 65536 bytes")


def alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    lines = ['l0: &l0 "lol"']
    lines += [f"l{i}: &l{i} [{', '.join(f'*l{i - 1}' for _ in range(fanout))}]" for i in range(1, levels)]
    return "metadata:\n  bomb: x\n" + "\n".join(lines)


MERGE_BOMB = "\n".join(
    ["a0: &a0 {k0: v}"] + [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}], k{i}: v}}" for i in range(1, 9)]
)

STRUCTURES = {
    "alias-bomb": (alias_bomb(), "anchors and aliases"),
    "merge-key-bomb": (MERGE_BOMB, "anchors and aliases"),
    "deep-flow-nesting": ("metadata: " + "[" * 5_000 + "]" * 5_000, "spec.frontmatter.yaml"),
    "deep-block-nesting": ("metadata:\n" + "".join("  " * i + "-\n" for i in range(1, 200)) + "  " * 200 + "- x",
                           "nested deeper than 32"),
    "python-object-tag": ("metadata: !!python/object/apply:os.system ['touch pwned']", "!!python/object/apply:os.system"),
    "python-name-tag": ("metadata: !!python/name:os.system", "!!python/name:os.system"),
    "binary-tag": ("metadata:\n  k: !!binary aGk=", "!!binary"),
    "custom-tag": ("metadata: !custom value", "'!custom'"),
    "timestamp-tag-on-text": ("metadata:\n  k: !!timestamp not-a-date", "is not a value of !!timestamp"),
    "bool-tag-on-text": ("metadata:\n  k: !!bool maybe", "is not a value of !!bool"),
    "impossible-date": ("metadata:\n  k: 2024-02-30", "day is out of range"),
}


@pytest.mark.parametrize(("extra", "phrase"), STRUCTURES.values(), ids=STRUCTURES.keys())
def test_front_matter_structures_are_refused(hostile: Hostile, extra: str, phrase: str) -> None:
    """Threat: alias and merge-key bombs ("billion laughs"), nesting deep enough to exhaust recursion,
    tags that construct Python objects or binary data, or that the constructor cannot handle
    (!!timestamp / !!bool on text raised inside PyYAML). Defence: refused as one finding, nothing run."""
    skill = skill_with_front_matter(hostile, extra)
    before = hostile.state()
    assert_finding(hostile.run("validate", skill), "spec.frontmatter.yaml", phrase)
    assert not (hostile.project / "pwned").exists()
    assert hostile.changed_outside(before) == []


def test_an_anchor_no_alias_names_is_refused_as_the_docs_say(hostile: Hostile) -> None:
    """Threat (docs): docs/validation.md and this file say front matter holds no anchors or aliases, yet
    'description: &d ...' with no alias passed validate --strict and was packed. Defence: every anchor
    is refused on its line, before the document is composed."""
    skill = hostile.work / "s"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: s\ndescription: &d A skill.\nmetadata: &m {k: v}\n---\n\nBody.\n")
    finding = assert_finding(hostile.run("validate", "--strict", skill), "spec.frontmatter.yaml", "anchors and aliases")
    assert "SKILL.md:3:" in finding
    hostile.refused(hostile.run("pack", skill, "-o", hostile.work / "dist"), "anchors and aliases")


def test_init_from_refuses_hostile_front_matter(hostile: Hostile) -> None:
    """Threat: 'init --from' (adopting upskill output) parses SKILL.md front matter too: a tag the
    constructor chokes on ended in a traceback there. Defence: the same loader; one error line, no manifest."""
    skill = skill_with_front_matter(hostile, "metadata:\n  k: !!bool maybe")
    completed = hostile.run("init", "--from", skill)
    hostile.refused(completed, "lacks a name and description", "!!bool")
    assert not (skill / "skillpm.toml").exists()


def test_a_value_with_a_long_run_of_blanks_is_read_at_once(hostile: Hostile) -> None:
    """Threat: 'description: a: <blanks> b' (YAML refuses the unquoted ': ') made the pattern that finds
    such values quadratic in the blanks: 64,000 took validate half a minute, and a million (under
    SKILL.md's 1 MiB) held init --from, pack and publish of the folder for hours. Defence: a pattern
    that matches in one pass, and front matter over 64 KiB is never quoted (it is refused anyway)."""
    def skill(name: str, blanks: int) -> Path:
        folder = hostile.work / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: a: {' ' * blanks}b\n---\n\nBody.\n")
        return folder

    small, big = skill("small", 64_000), skill("big", 1_000_000)
    assert_finding(hostile.run("validate", small), "spec.frontmatter.yaml", "the value of 'description' holds ': ' unquoted")
    for command in (["init", "--from", big], ["pack", big, "-o", hostile.work / "dist"]):
        hostile.refused(hostile.run(*command), "lacks a name and description", "larger than 65536 bytes")
    assert not (big / "skillpm.toml").exists()


def test_a_line_of_backtick_runs_of_falling_length_is_read_at_once(hostile: Hostile) -> None:
    """Threat: a SKILL.md of one line of backtick runs of falling length (982 KB, under the 1 MiB limit)
    made the code-span pattern backtrack over the line for every run: validate, pack and the check of
    which hidden files SKILL.md names took minutes. Defence: runs are paired in one pass, CommonMark's way."""
    skill = hostile.work / "slow"
    skill.mkdir(parents=True)
    line = "a" + "".join("`" * k + "x" for k in range(1400, 0, -1))
    (skill / "SKILL.md").write_text(f"---\nname: slow\ndescription: Does one thing.\n---\n\n{line}\n")
    (skill / ".notes").write_text("a hidden file: what SKILL.md names is read to decide whether it is kept\n")
    validated = hostile.ok(hostile.run("validate", skill))
    assert "tree.left-out" in validated.stdout and "valid" in validated.stdout
    hostile.ok(hostile.run("pack", skill, "-o", hostile.work / "dist"))


# --- bytes that are not UTF-8 --------------------------------------------------------------------

BAD_ARGUMENTS = {
    "install": ["install", "\udcff"],
    "install-version": ["install", "demo==1.0\udcff"],
    "validate": ["validate", "\udced\udcb3\udcbf"],  # the bytes of a UTF-8-encoded lone surrogate U+DCFF
    "registry-init": ["registry", "init", "reg-\udcff"],
    "registry-add-remote": ["registry", "add-remote", "\udcff", "https://example.invalid/"],
    "init-name": ["init", "skill-dir", "--name", "\udcff"],
    "search": ["search", "\udcff"],
    "option": ["--\udcff"],
}


@pytest.mark.parametrize("args", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_arguments_that_are_not_utf8_are_refused(hostile: Hostile, args: list[str]) -> None:
    """Threat: an argument that is not UTF-8 (Python passes it on as lone surrogates) crashed whatever
    wrote it out ('registry init' put it in config.json: a traceback, after making the folder).
    Defence: every argument is checked before any command runs; nothing is created."""
    before = hostile.state()
    hostile.refused(hostile.run(*args), "is not valid UTF-8")
    assert hostile.changed_outside(before) == []


def test_environment_variable_that_is_not_utf8_is_refused(hostile: Hostile) -> None:
    """Threat: SKILLPM_REGISTRY (or any SKILLPM_* default of an option) holding bytes that are not UTF-8.
    Defence: refused by name, before any command runs."""
    completed = hostile.run("install", "demo", env={"SKILLPM_REGISTRY": "/tmp/\udcff"})
    hostile.refused(completed, "SKILLPM_REGISTRY", "is not valid UTF-8")


# --- JSON from outside ---------------------------------------------------------------------------


def keyed_source(hostile: Hostile) -> tuple[Path, Path, Path, str]:
    """A skill source, an empty registry, a signing key and the sha256 of the source's archive, made through the CLI."""
    source = build_source(hostile.work, "demo")
    registry = hostile.work / "registry"
    hostile.ok(hostile.run("registry", "init", registry))
    key = hostile.work / "signing.key"
    hostile.ok(hostile.run("keygen", "-o", key))
    (packed,) = json.loads(hostile.ok(hostile.run("pack", source, "-o", hostile.work / "dist", "--json")).stdout)
    return source, registry, key, packed["sha256"]


def eval_evidence(sha256: str, old: str, new: str) -> str:
    """Valid eval evidence about the archive ``sha256``, with the raw JSON ``old`` replaced by ``new``."""
    from tests.test_publish import make_evidence

    text = json.dumps(make_evidence("eval", target="generic", sha256=sha256, name="demo"))
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("token", "phrase"),
    [("NaN", "NaN is not finite"), ("Infinity", "Infinity is not finite"),
     ("-Infinity", "-Infinity is not finite"), ("1e999", "overflows"),
     ("[" * 900 + "1" + "]" * 900, "nested more than 64 levels")],
    ids=["nan", "infinity", "minus-infinity", "1e999", "nested-900"],
)
def test_publish_refuses_non_finite_evidence(hostile: Hostile, token: str, phrase: str) -> None:
    """Threat: NaN or Infinity as a pass rate (or 1e999, which Python reads as inf) is signed at publish and
    then satisfies any policy minimum; evidence nested 900 deep overflows the checker's recursion.
    Defence: evidence is parsed as strict JSON; refused in one line, the registry untouched."""
    source, registry, key, sha256 = keyed_source(hostile)
    evidence = hostile.work / "eval.json"
    evidence.write_text(eval_evidence(sha256, '"lift": 0.35', f'"lift": {token}'))
    before = hostile.state()
    completed = hostile.run("publish", source, "--registry", registry, "--evidence", evidence, "--sign", f"key:{key}")
    hostile.refused(completed, "eval.json", phrase)
    assert hostile.changed_outside(before, hostile.cache) == []


def registry_with(hostile: Hostile) -> Path:
    """A directory registry holding 'demo' 1.0.0, made through the CLI."""
    source = build_source(hostile.work, "demo")
    registry = hostile.work / "registry"
    dist = hostile.work / "dist"
    hostile.ok(hostile.run("registry", "init", registry))
    hostile.ok(hostile.run("pack", source, "-o", dist))
    hostile.ok(hostile.run("registry", "add", registry, *sorted(dist.iterdir())))
    return registry


@pytest.mark.parametrize(
    ("token", "phrase"),
    [("NaN", "NaN is not finite"), ("1e999", "overflows"), ("-Infinity", "-Infinity is not finite")],
    ids=["nan", "1e999", "minus-infinity"],
)
def test_index_document_with_non_finite_number_is_refused(hostile: Hostile, token: str, phrase: str) -> None:
    """Threat: an index document carrying NaN/Infinity (or 1e999) where a number is read.
    Defence: index documents are strict JSON; one line naming the document, nothing installed."""
    registry = registry_with(hostile)
    document = next((registry / "index").rglob("demo.json"))
    text = document.read_text()
    document.write_text(text.replace('"format-version": 1', f'"format-version": 1, "padding": {token}', 1))
    before = hostile.state()
    completed = hostile.run("install", "demo", "--registry", registry, "--arch", "9.0")
    hostile.refused(completed, "demo.json", phrase)
    assert hostile.changed_outside(before, hostile.cache) == []


def test_lone_surrogate_in_evidence_is_refused(hostile: Hostile) -> None:
    """Threat: a JSON escape for a lone surrogate (\\ud800) in evidence is no Unicode text: signing it
    (UTF-8 bytes of the statement) raised UnicodeEncodeError. Defence: evidence is strict JSON that
    holds only Unicode text; one line, the registry untouched. (Index text may hold one: it is only
    shown, escaped; tests/security/test_terminal.py.)"""
    source, registry, key, sha256 = keyed_source(hostile)
    evidence = hostile.work / "eval.json"
    evidence.write_text(eval_evidence(sha256, '"model": "model-a"', '"model": "model-a\\ud800"'))
    before = hostile.state()
    completed = hostile.run("publish", source, "--registry", registry, "--evidence", evidence, "--sign", f"key:{key}")
    hostile.refused(completed, "eval.json", "lone surrogate")
    assert hostile.changed_outside(before, hostile.cache) == []


@pytest.mark.parametrize(
    ("kind", "command", "phrase"),
    [
        ("lockfile", ["sync"], "skills.lock"),
        ("manifest", ["pack", "{source}", "-o", "{registry}/dist"], "skillpm.toml"),
        ("config", ["install", "demo"], "config.toml"),
        ("index", ["install", "demo", "--registry", "{registry}"], "demo.json"),
        ("evidence", ["publish", "{source}", "--registry", "{registry}", "--evidence", "{evidence}", "--sign", "key:{key}"],
         "not UTF-8"),
        ("skill_meta", ["eval", "{skill}", "-m", "m", "--base-url", "http://127.0.0.1:9/v1"], "skill_meta.json"),
    ],
)
def test_files_that_are_not_utf8_are_refused(hostile: Hostile, kind: str, command: list[str], phrase: str) -> None:
    """Threat: bytes that are not UTF-8 in skills.lock, the user's config, an index document, evidence or
    skill_meta.json. Defence: each is decoded strictly where it is read: one line naming the file."""
    bad = b'\xff\xfe"not utf-8 \xc3\x28"\n'
    registry = registry_with(hostile) if kind in ("index", "evidence") else hostile.work
    source, key = build_source(hostile.work / "src", "demo"), hostile.work / "signing.key"
    skill = skill_with_front_matter(hostile, "")
    evidence = hostile.work / "eval.json"
    if kind == "manifest":
        (source / "skillpm.toml").write_bytes((source / "skillpm.toml").read_bytes() + b"# " + bad)
    elif kind == "lockfile":
        (hostile.project / "skills.lock").write_bytes(b"version = 1\n# " + bad)
    elif kind == "config":
        config = hostile.home / ".config" / "skillpm" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_bytes(b"# " + bad)
    elif kind == "index":
        next((registry / "index").rglob("demo.json")).write_bytes(bad)
    elif kind == "evidence":
        hostile.ok(hostile.run("keygen", "-o", key))
        evidence.write_bytes(b'{"schema": "' + bad + b'"}')
    else:
        (skill / "skill_meta.json").write_bytes(b'{"metadata": "' + bad + b'"}')
    args = [part.format(registry=registry, source=source, evidence=evidence, key=key, skill=skill) for part in command]
    before = hostile.state()
    hostile.refused(hostile.run(*args), phrase, "UTF-8")
    assert hostile.changed_outside(before, hostile.cache) == []


def eval_source(hostile: Hostile) -> Path:
    """A skill source with one upskill-format test case."""
    cases = {"metadata": {"version": "1.0.0"}, "tests": [{"input": "Say hi.", "expected": {"contains": ["hi"]}}]}
    return build_source(hostile.work, "demo", common={"skill_meta.json": json.dumps(cases)})


@pytest.mark.parametrize(
    ("field", "token"),
    [("llm_time_ms", "NaN"), ("llm_time_ms", "Infinity"), ("llm_time_ms", "1e999")],
    ids=["nan-latency", "infinite-latency", "overflowing-latency"],
)
def test_upskill_results_with_non_finite_numbers_are_refused(hostile: Hostile, field: str, token: str) -> None:
    """Threat: upskill results whose numbers are NaN or infinite passed every range check (NaN < 0 is false)
    and were written into eval evidence as NaN/Infinity, ready to be signed.
    Defence: results are strict JSON; one line naming the file, no evidence written."""
    run = hostile.work / "runs" / "batch" / "run_1" / "run_result.json"
    run.parent.mkdir(parents=True)
    result = {"metadata": {"model": "m"}, "run_type": "with_skill", "assertions_passed": 1, "assertions_total": 1,
              "stats": {"input_tokens": 1, "output_tokens": 1, field: "TOKEN"}}
    run.write_text(json.dumps(result).replace('"TOKEN"', token))
    completed = hostile.run("eval", eval_source(hostile), "--import-upskill", hostile.work / "runs")
    hostile.refused(completed, "run_result.json", "not valid JSON")
    assert list(hostile.project.glob("eval-*.json")) == []


def test_upskill_results_naming_tens_of_thousands_of_models_are_counted_at_once(hostile: Hostile) -> None:
    """Threat: one 3 MB batch_summary.json naming 40,000 models (found in a hostile review): each model's runs were
    picked out of all the runs, once per arm and again for the trial count, so the import took minutes of CPU.
    Defence: the runs are grouped by model and arm in one pass; the import ends and counts every model."""
    batch = hostile.work / "runs" / "batch"
    batch.mkdir(parents=True)
    results = [{"metadata": {"model": f"m{number}"}, "assertions_passed": 1, "assertions_total": 1}
               for number in range(40_000)]
    (batch / "batch_summary.json").write_text(json.dumps({"results": results}))
    evidence = hostile.work / "eval.json"
    hostile.ok(hostile.run("eval", eval_source(hostile), "--import-upskill", hostile.work / "runs", "-o", evidence))
    assert len(json.loads(evidence.read_text())["models"]) == 40_000


def test_endpoint_answer_with_infinite_usage_is_refused(hostile: Hostile) -> None:
    """Threat: a chat endpoint answers with "prompt_tokens": Infinity, which Python reads as inf and int()
    turned into an OverflowError traceback. Defence: answers are strict JSON; a malformed answer is
    retried and then reported in one line; nothing is cached or written."""
    from tests.test_eval_client import ChatServer, Reply

    body = b'{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": Infinity}}'
    server = ChatServer(lambda request: Reply(body=body))
    try:
        completed = hostile.run("eval", eval_source(hostile), "-m", "m", "--base-url", server.url, "--max-attempts", "1")
    finally:
        server.close()
    hostile.refused(completed, "malformed answer", "Infinity is not finite")
    assert list(hostile.project.glob("eval-*.json")) == []
    assert not list(hostile.cache.rglob("*.json"))


@pytest.mark.parametrize("count", ["1e308", str(2**53)], ids=["float", "int"])
def test_endpoint_answer_with_a_huge_token_count_is_refused(hostile: Hostile, count: str) -> None:
    """Threat: a chat endpoint counts 1e308 prompt tokens (a float that is an integer): eval wrote 309-digit
    counts into evidence, which publish then refused to read, so the run was wasted. Defence: a count must be
    below 2**53, float or integer, else the answer is malformed as for a negative count."""
    from tests.test_eval_client import ChatServer, Reply

    body = b'{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": %s}}' % count.encode()
    server = ChatServer(lambda request: Reply(body=body))
    try:
        completed = hostile.run("eval", eval_source(hostile), "-m", "m", "--base-url", server.url, "--max-attempts", "1")
    finally:
        server.close()
    shown = repr(float(count)) if "e" in count else count
    hostile.refused(completed, "malformed answer", f"token count {shown} is not a count")
    assert list(hostile.project.glob("eval-*.json")) == []
