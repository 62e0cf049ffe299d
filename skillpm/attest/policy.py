"""Trust policy: whose signatures count, and what verified evidence a variant needs.

Pure logic apart from reading the policy files. Two files are read and combined
(docs/attestations.md): the user's ``~/.config/skillpm/policy.toml`` (the platform's
user config folder) and the project's ``.skillpm/policy.toml``. Trust anchors are
the union of both; each requirement is the stricter of the two, so neither file
can weaken the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from skillpm.attest import AttestationError
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, SHA256_RE
from skillpm.tomlfile import parse_toml

PROJECT_POLICY = Path(".skillpm") / "policy.toml"


@dataclass(frozen=True)
class TrustedKey:
    """A signing key trusted by its fingerprint; ``public_key`` (PEM) lets verify check its signatures.

    ``registries`` limits the trust to variants from those registries (labels: ``embedded``
    or a registry's URL); empty: every registry.
    """

    fingerprint: str
    public_key: bytes | None = None
    registries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not SHA256_RE.fullmatch(self.fingerprint):
            raise AttestationError(f"key fingerprint {self.fingerprint[:80]!r} is not 64 lowercase hex digits")


@dataclass(frozen=True)
class TrustedIdentity:
    """A Sigstore signer: the OIDC issuer and the identity (certificate SAN), both matched exactly."""

    issuer: str
    identity: str
    registries: tuple[str, ...] = ()


def _applies(registries: tuple[str, ...], label: str) -> bool:
    return not registries or label.rstrip("/") in {registry.rstrip("/") for registry in registries}


@dataclass(frozen=True)
class Requirements:
    """What verified evidence a variant must have. ``None`` or ``False``: no requirement."""

    attestations: bool = False
    gpu_evidence: bool = False
    min_pass_rate: float | None = None
    min_lift: float | None = None
    min_percent_of_peak: float | None = None

    def stricter(self, other: Requirements) -> Requirements:
        """Each requirement at the stricter of ``self`` and ``other``."""
        values: dict[str, Any] = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, bool):
                values[item.name] = mine or theirs
            else:
                values[item.name] = max((v for v in (mine, theirs) if v is not None), default=None)
        return Requirements(**values)


@dataclass(frozen=True)
class Policy:
    """Trust anchors and requirements. The empty policy trusts no one and requires nothing."""

    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[TrustedIdentity, ...] = ()
    requirements: Requirements = field(default_factory=Requirements)

    def trusts_key(self, fingerprint: str) -> bool:
        return any(key.fingerprint == fingerprint for key in self.keys)

    def trusts_identity(self, *, issuer: str | None, identity: str) -> bool:
        return any((item.issuer, item.identity) == (issuer or "", identity) for item in self.identities)

    def combined(self, other: Policy) -> Policy:
        """Trust anchors of both (one per fingerprint and scope, preferring one with its public key);
        requirements at the stricter of both."""
        keys: dict[tuple[str, tuple[str, ...]], TrustedKey] = {}
        for key in (*self.keys, *other.keys):
            known = keys.get((key.fingerprint, key.registries))
            if known is None or (key.public_key and not known.public_key):
                keys[(key.fingerprint, key.registries)] = key
        identities = tuple(dict.fromkeys((*self.identities, *other.identities)))
        return Policy(tuple(keys.values()), identities, self.requirements.stricter(other.requirements))

    def for_registry(self, label: str) -> Policy:
        """The policy for variants from the registry ``label``: without anchors scoped to other registries."""
        return Policy(
            tuple(key for key in self.keys if _applies(key.registries, label)),
            tuple(item for item in self.identities if _applies(item.registries, label)),
            self.requirements,
        )


#: requirement field -> (predicate type, path to the numbers in the evidence ("*": every item of a list),
#: what they are called). Every number found must meet the minimum: each model's, each size's.
METRICS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "min_pass_rate": (EVAL_PREDICATE, ("models", "*", "with_skill", "pass_rate"), "pass rate with the skill"),
    "min_lift": (EVAL_PREDICATE, ("models", "*", "lift"), "lift"),
    "min_percent_of_peak": (BENCH_PREDICATE, ("results", "*", "kernel", "pct_of_peak"), "percent of peak bandwidth"),
}


def shortfalls(requirements: Requirements, predicate_type: str, predicate: Mapping[str, Any]) -> list[str]:
    """Why one verified predicate falls short of the requirements (empty when it meets them)."""
    reasons = []
    for name, (wanted_type, path, label) in METRICS.items():
        minimum = getattr(requirements, name)
        if minimum is None or predicate_type != wanted_type:
            continue
        values = _lookup(predicate, path)
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not values or len(numbers) != len(values):
            where = ".".join(path).replace(".*", "[]")
            reasons.append(f"the evidence lacks a number at {where}, and policy requires a minimum {label}")
        elif min(numbers) < minimum:
            reasons.append(f"the lowest {label}, {min(numbers):g}, is below the policy's minimum {minimum:g}")
    if predicate_type == BENCH_PREDICATE and requirements.min_percent_of_peak is not None:
        if predicate.get("gpu_evidence") is not True:
            reasons.append("the benchmark is not GPU evidence, and policy requires a minimum percent of peak")
    return reasons


def missing_evidence(requirements: Requirements, predicate_types: Iterable[str]) -> list[str]:
    """What the requirements ask for that no verified attestation of a variant provides."""
    present = set(predicate_types)
    reasons = []
    if requirements.attestations and not present:
        reasons.append("the variant has no verified attestation, and policy requires one")
    for name, (wanted_type, _, label) in METRICS.items():
        if getattr(requirements, name) is not None and wanted_type not in present:
            reasons.append(f"no verified {wanted_type} attestation shows the {label} policy requires")
    if requirements.gpu_evidence and BENCH_PREDICATE not in present:
        reasons.append("no verified benchmark attestation from a GPU, and policy requires one")
    return reasons


def _lookup(data: object, path: tuple[str, ...]) -> list[object]:
    """The values at ``path`` in ``data``; ``*`` steps into every item of a list."""
    values = [data]
    for key in path:
        if key == "*":
            values = [item for value in values if isinstance(value, list) for item in value]
        else:
            values = [value.get(key) for value in values if isinstance(value, dict)]
    return values


# -- policy files ------------------------------------------------------------------------------

_REQUIRE_KEYS = {
    "attestations": ("attestations", bool),
    "gpu-evidence": ("gpu_evidence", bool),
    "min-pass-rate": ("min_pass_rate", (int, float)),
    "min-lift": ("min_lift", (int, float)),
    "min-percent-of-peak": ("min_percent_of_peak", (int, float)),
}
#: The values a minimum may take (a NaN one would silently require nothing).
MINIMUM_RANGES = {"min_pass_rate": (0.0, 1.0), "min_lift": (-1.0, 1.0), "min_percent_of_peak": (0.0, math.inf)}


def parse_policy(text: str, *, where: str, base_dir: Path) -> Policy:
    """Read a policy file's text; ``public-key`` paths are relative to ``base_dir``."""
    try:
        data = parse_toml(text.encode())
    except ValueError as error:
        raise AttestationError(f"{where}: not valid TOML: {error}") from None
    _only(data, {"trust", "require"}, where)
    trust = _table(data, "trust", where)
    _only(trust, {"keys", "sigstore"}, f"{where} [trust]")
    keys = tuple(_key(item, f"{where} [[trust.keys]]", base_dir) for item in _tables(trust, "keys", where))
    identities = tuple(_identity(item, f"{where} [[trust.sigstore]]", base_dir) for item in _tables(trust, "sigstore", where))
    require = _table(data, "require", where)
    _only(require, set(_REQUIRE_KEYS), f"{where} [require]")
    values: dict[str, Any] = {}
    for key, value in require.items():
        attribute, kind = _REQUIRE_KEYS[key]
        if not isinstance(value, kind) or (kind != bool and isinstance(value, bool)):
            raise AttestationError(f"{where}: [require] {key} has the wrong type ({value!r})")
        if kind != bool:
            low, high = MINIMUM_RANGES[attribute]
            if not low <= value <= high or math.isinf(value):
                raise AttestationError(f"{where}: [require] {key} must be a number from {low:g} to {high:g} ({value!r})")
            value = float(value)
        values[attribute] = value
    return Policy(keys, identities, Requirements(**values))


def user_policy_path() -> Path:
    """``policy.toml`` in the user's config folder (``~/.config/skillpm/`` on Linux)."""
    from skillpm.userdirs import user_path

    return user_path("config") / "policy.toml"


def load_policy(*, project_root: Path | None = None, user_path: Path | None = None) -> Policy:
    """The user's policy combined with the project's; a missing file is an empty policy."""
    policy = Policy()
    paths = [user_path or user_policy_path()]
    if project_root is not None:
        paths.append(project_root / PROJECT_POLICY)
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as error:
            raise AttestationError(f"cannot read the policy file {path}: {error}") from None
        policy = policy.combined(parse_policy(text, where=str(path), base_dir=path.parent))
    return policy


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise AttestationError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise AttestationError(f"{where}: {key} must be a table")
    return value


def _tables(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise AttestationError(f"{where}: trust.{key} must be an array of tables ([[trust.{key}]])")
    return value


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise AttestationError(f"{where}: {key} is missing or not a string")
    return value


def _registries(item: Mapping[str, Any], where: str, base_dir: Path) -> tuple[str, ...]:
    """``registries = [...]``: ``embedded``, URLs, or directories (relative to the policy file)."""
    value = item.get("registries", [])
    if not isinstance(value, list) or not all(isinstance(entry, str) and entry for entry in value):
        raise AttestationError(f"{where}: registries must be a list of registry names, URLs or directories")
    return tuple(
        entry if entry == "embedded" or "://" in entry else (base_dir / entry).resolve().as_uri() for entry in value
    )


def _key(item: Mapping[str, Any], where: str, base_dir: Path) -> TrustedKey:
    _only(item, {"fingerprint", "public-key", "registries"}, where)
    fingerprint = _text(item, "fingerprint", where).lower()
    if not SHA256_RE.fullmatch(fingerprint):
        raise AttestationError(f"{where}: fingerprint {fingerprint[:80]!r} is not 64 hex digits")
    pem = None
    if "public-key" in item:
        path = base_dir / _text(item, "public-key", where)
        try:
            pem = path.read_bytes()
        except OSError as error:
            raise AttestationError(f"{where}: cannot read public-key {path}: {error.strerror}") from None
    return TrustedKey(fingerprint, pem, _registries(item, where, base_dir))


def _identity(item: Mapping[str, Any], where: str, base_dir: Path) -> TrustedIdentity:
    _only(item, {"issuer", "identity", "registries"}, where)
    registries = _registries(item, where, base_dir)
    return TrustedIdentity(_text(item, "issuer", where), _text(item, "identity", where), registries)
