"""Trust policy: policy files, combining user and project policy, and requirements on evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillpm.attest import AttestationError
from skillpm.attest.policy import Policy, Requirements, TrustedIdentity, TrustedKey, missing_evidence, shortfalls
from skillpm.attest.policyfile import PROJECT_POLICY, load_policy, parse_policy
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE

FP1 = "1" * 64
FP2 = "2" * 64
GITHUB = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/acme/skills/.github/workflows/release.yml@refs/heads/main"

POLICY = f"""
[[trust.keys]]
fingerprint = "{FP1.upper()}"
public-key = "keys/ci.pub"

[[trust.keys]]
fingerprint = "{FP2}"

[[trust.sigstore]]
issuer = "{GITHUB}"
identity = "{WORKFLOW}"

[require]
attestations = true
gpu-evidence = true
min-pass-rate = 0.8
min-lift = 0
min-percent-of-peak = 50
"""


def test_parse_policy(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "ci.pub").write_bytes(b"PEM")
    policy = parse_policy(POLICY, where="policy.toml", base_dir=tmp_path)
    assert policy.keys == (TrustedKey(FP1, b"PEM"), TrustedKey(FP2))
    assert policy.identities == (TrustedIdentity(GITHUB, WORKFLOW),)
    assert policy.requirements == Requirements(True, True, 0.8, 0.0, 50.0)
    assert policy.trusts_key(FP2) and not policy.trusts_key("3" * 64)
    assert policy.trusts_identity(issuer=GITHUB, identity=WORKFLOW)
    assert not policy.trusts_identity(issuer="https://accounts.google.com", identity=WORKFLOW)
    assert not policy.trusts_identity(issuer=GITHUB, identity=WORKFLOW + "x")


def test_the_empty_policy_trusts_no_one_and_requires_nothing() -> None:
    policy = parse_policy("", where="p", base_dir=Path("."))
    assert policy == Policy()
    assert missing_evidence(policy.requirements, []) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("[trust", "not valid TOML"),
        ("[other]", "unknown key 'other'"),
        ("trust = 3", "trust must be a table"),
        ("[trust]\nkeys = 3", r"array of tables \(\[\[trust.keys\]\]\)"),
        ("[[trust.keys]]\nfingerprint = 'abc'", "is not 64 hex digits"),
        ("[[trust.keys]]\nfingerprint = 3", "fingerprint is missing or not a string"),
        (f"[[trust.keys]]\nfingerprint = '{FP1}'\npublic-key = 'missing.pub'", "cannot read public-key"),
        (f"[[trust.keys]]\nfingerprint = '{FP1}'\nkind = 'x'", "unknown key 'kind'"),
        ("[[trust.sigstore]]\nissuer = 'x'", "identity is missing"),
        ("[require]\nmin-pass-rate = 'high'", "min-pass-rate has the wrong type"),
        ("[require]\nattestations = 1", "attestations has the wrong type"),
        ("[require]\nmin-lift = true", "min-lift has the wrong type"),
        ("[require]\nmin-score = 1", "unknown key 'min-score'"),
        ("[require]\nmin-pass-rate = nan", r"min-pass-rate must be a number from 0 to 1 \(nan\)"),
        ("[require]\nmin-pass-rate = 1.5", "min-pass-rate must be a number from 0 to 1"),
        ("[require]\nmin-lift = -2", "min-lift must be a number from -1 to 1"),
        ("[require]\nmin-percent-of-peak = inf", "min-percent-of-peak must be a number from 0 to inf"),
    ],
)
def test_bad_policy_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AttestationError, match=message) as caught:
        parse_policy(text, where="my/policy.toml", base_dir=tmp_path)
    assert caught.value.message.startswith("my/policy.toml")


def test_user_and_project_policies_combine_to_the_stricter(tmp_path: Path) -> None:
    user = tmp_path / "user" / "policy.toml"
    user.parent.mkdir()
    user.write_text(
        f"[[trust.keys]]\nfingerprint = '{FP1}'\n[require]\nmin-pass-rate = 0.9\nmin-lift = 0.1\n", encoding="utf-8"
    )
    project = tmp_path / "project"
    (project / PROJECT_POLICY).parent.mkdir(parents=True)
    (project / "ci.pub").write_bytes(b"PEM")
    (project / PROJECT_POLICY).write_text(
        f"[[trust.keys]]\nfingerprint = '{FP1}'\npublic-key = '../ci.pub'\n"
        f"[[trust.keys]]\nfingerprint = '{FP2}'\n"
        f"[[trust.sigstore]]\nissuer = '{GITHUB}'\nidentity = '{WORKFLOW}'\n"
        "[require]\nmin-pass-rate = 0.5\nattestations = true\n",
        encoding="utf-8",
    )
    policy = load_policy(project_root=project, user_path=user)
    assert policy.requirements == Requirements(attestations=True, min_pass_rate=0.9, min_lift=0.1)
    # The project's signers narrow the user's: FP2 and the identity are not the user's, so they do not count;
    # FP1 is, and takes the project's public key (only a key with that fingerprint verifies).
    assert policy.for_registry("embedded").keys == (TrustedKey(FP1, b"PEM"),)
    assert policy.for_registry("embedded").identities == ()
    # Once the user trusts this project's signers, they are added.
    user.write_text(user.read_text() + f"[trust]\nproject-keys = ['{project}']\n", encoding="utf-8")
    trusted = load_policy(project_root=project, user_path=user).for_registry("embedded")
    assert trusted.keys == (TrustedKey(FP1, b"PEM"), TrustedKey(FP2))
    assert trusted.identities == (TrustedIdentity(GITHUB, WORKFLOW),)


def test_missing_policy_files_are_an_empty_policy(tmp_path: Path) -> None:
    assert load_policy(project_root=tmp_path, user_path=tmp_path / "none.toml") == Policy()


def test_unreadable_policy_file(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(AttestationError, match="cannot read the policy file"):
        load_policy(user_path=tmp_path / "p.toml")


def test_default_user_policy_lives_in_the_user_config_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from skillpm.attest.policyfile import user_policy_path

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_policy_path() == tmp_path / "skillpm" / "policy.toml"


EVAL = {"models": [{"with_skill": {"pass_rate": 0.9}, "lift": 0.4}, {"with_skill": {"pass_rate": 0.85}, "lift": 0.3}]}
BENCH = {"gpu_evidence": True, "results": [{"kernel": {"pct_of_peak": 72.9}}, {"kernel": {"pct_of_peak": 61.5}}]}
NO_GPU = {"gpu_evidence": False, "results": [{"kernel": {"pct_of_peak": None}}]}


@pytest.mark.parametrize(
    "requirements, predicate_type, predicate, reasons",
    [
        (Requirements(), EVAL_PREDICATE, EVAL, []),
        (Requirements(min_pass_rate=0.85, min_lift=0.3), EVAL_PREDICATE, EVAL, []),
        (
            Requirements(min_pass_rate=0.9),
            EVAL_PREDICATE,
            EVAL,
            ["the lowest pass rate with the skill, 0.85, is below the policy's minimum 0.9"],
        ),
        (Requirements(min_lift=0.5), EVAL_PREDICATE, EVAL, ["the lowest lift, 0.3, is below the policy's minimum 0.5"]),
        (
            Requirements(min_lift=0.5),
            EVAL_PREDICATE,
            {"models": []},
            ["the evidence lacks a finite number at models[].lift, and policy requires a minimum lift"],
        ),
        (
            Requirements(min_lift=0.1),
            EVAL_PREDICATE,
            {"models": [{"lift": 0.2}, {"lift": "high"}]},
            ["the evidence lacks a finite number at models[].lift, and policy requires a minimum lift"],
        ),
        (Requirements(min_pass_rate=0.99), BENCH_PREDICATE, BENCH, []),
        (Requirements(min_percent_of_peak=60), BENCH_PREDICATE, BENCH, []),
        (
            Requirements(min_percent_of_peak=70),
            BENCH_PREDICATE,
            BENCH,
            ["the lowest percent of peak bandwidth, 61.5, is below the policy's minimum 70"],
        ),
        (
            Requirements(min_percent_of_peak=60),
            BENCH_PREDICATE,
            NO_GPU,
            [
                "the evidence lacks a finite number at results[].kernel.pct_of_peak, and policy requires a minimum percent of peak bandwidth",
                "the benchmark is not GPU evidence, and policy requires a minimum percent of peak",
            ],
        ),
    ],
)
def test_shortfalls(requirements: Requirements, predicate_type: str, predicate: dict, reasons: list[str]) -> None:
    assert shortfalls(requirements, predicate_type, predicate) == reasons


def test_missing_evidence() -> None:
    strict = Requirements(attestations=True, gpu_evidence=True, min_pass_rate=0.5, min_percent_of_peak=10)
    assert len(missing_evidence(strict, [])) == 4
    assert missing_evidence(strict, [EVAL_PREDICATE, BENCH_PREDICATE]) == []
    assert missing_evidence(strict, [EVAL_PREDICATE]) == [
        f"no verified {BENCH_PREDICATE} attestation shows the percent of peak bandwidth policy requires",
        "no verified benchmark attestation from a GPU, and policy requires one",
    ]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, 2.0])
def test_a_minimum_built_in_python_must_be_finite_and_in_range(value: object) -> None:
    """The model refuses what the file and flag parsers refuse, however the number was made."""
    with pytest.raises(AttestationError, match="min-pass-rate must be a number from 0 to 1"):
        Requirements(min_pass_rate=value)  # type: ignore[arg-type]


def test_records_copied_with_other_values_are_checked_too() -> None:
    """_replace builds through the same checks as the constructor: no copy holds what it refuses."""
    with pytest.raises(AttestationError, match="min-lift must be a number from -1 to 1"):
        Requirements(min_lift=0.5)._replace(min_lift=float("nan"))
    with pytest.raises(AttestationError, match="is not 64 lowercase hex digits"):
        TrustedKey(FP1)._replace(fingerprint="A" * 64)
    assert TrustedKey(FP1)._replace(public_key=b"PEM") == TrustedKey(FP1, b"PEM")


@pytest.mark.parametrize("value", [float("nan"), float("-inf"), 10**400])
def test_a_non_finite_measurement_is_a_shortfall_never_a_pass(value: object) -> None:
    predicate = {"models": [{"with_skill": {"pass_rate": value}, "lift": value}]}
    reasons = shortfalls(Requirements(min_pass_rate=0.0, min_lift=-1.0), EVAL_PREDICATE, predicate)
    assert len(reasons) == 2 and all("lacks a finite number" in reason for reason in reasons)
