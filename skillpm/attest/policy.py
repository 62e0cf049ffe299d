"""Trust policy: whose signatures count, and what verified evidence a variant needs (pure).

:mod:`skillpm.attest.policyfile` reads the policy files into a :class:`Policy`. The user's
policy is the floor: each requirement is the stricter of the two (:meth:`Requirements.stricter`),
and the project's signers only narrow the user's (:meth:`Policy.narrowed_by`: a signer counts
when both trust it), unless the user trusts that project's signers (:meth:`Policy.combined`).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from skillpm.attest import AttestationError
from skillpm.attest.statement import BENCH_PREDICATE, EVAL_PREDICATE, SHA256_RE, is_finite_number
from skillpm.display import clean
from skillpm.records import CheckedRecord, Record


class _TrustedKeyFields(Record):
    fingerprint: str
    public_key: bytes | None = None
    registries: tuple[str, ...] = ()


class TrustedKey(CheckedRecord, _TrustedKeyFields):
    """A signing key trusted by its fingerprint; ``public_key`` (PEM) lets verify check its signatures.

    ``registries`` limits the trust to variants from those registries (labels: ``embedded``
    or a registry's URL); empty: every registry.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> TrustedKey:
        key = super().__new__(cls, *args, **kwargs)
        if not SHA256_RE.fullmatch(key.fingerprint):
            raise AttestationError(f"key fingerprint {key.fingerprint[:80]!r} is not 64 lowercase hex digits")
        return key


class TrustedIdentity(Record):
    """A Sigstore signer: the OIDC issuer and the identity (certificate SAN), both matched exactly."""

    issuer: str
    identity: str
    registries: tuple[str, ...] = ()


def _applies(registries: tuple[str, ...], label: str) -> bool:
    if not registries:
        return True
    from skillpm.registry.urls import comparable  # only for trust limited to some registries

    return comparable(label) in {comparable(registry) for registry in registries}


#: The values a minimum may take (a NaN one would silently require nothing).
MINIMUM_RANGES = {"min_pass_rate": (0.0, 1.0), "min_lift": (-1.0, 1.0), "min_percent_of_peak": (0.0, math.inf)}


def minimum_problem(attribute: str, value: object) -> str | None:
    """Why ``value`` cannot be the minimum ``attribute`` (not a finite number in its range), or ``None``."""
    low, high = MINIMUM_RANGES[attribute]
    if not is_finite_number(value) or not low <= value <= high:  # type: ignore[operator]
        return f"must be a number from {low:g} to {high:g} ({value!r})"
    return None


class _RequirementFields(Record):
    attestations: bool = False
    gpu_evidence: bool = False
    min_pass_rate: float | None = None
    min_lift: float | None = None
    min_percent_of_peak: float | None = None


class Requirements(CheckedRecord, _RequirementFields):
    """What verified evidence a variant must have. ``None`` or ``False``: no requirement.

    A minimum is a finite number in its range (:data:`MINIMUM_RANGES`), however it was made.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Requirements:
        requirements = super().__new__(cls, *args, **kwargs)
        for attribute in MINIMUM_RANGES:
            value = getattr(requirements, attribute)
            problem = None if value is None else minimum_problem(attribute, value)
            if problem:
                raise AttestationError(f"the policy's {attribute.replace('_', '-')} {problem}")
        return requirements

    def stricter(self, other: Requirements) -> Requirements:
        """Each requirement at the stricter of ``self`` and ``other``."""
        values: dict[str, Any] = {}
        for name in self._fields:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, bool):
                values[name] = mine or theirs
            else:
                values[name] = max((v for v in (mine, theirs) if v is not None), default=None)
        return Requirements(**values)


class Signers(Record):
    """The signers a project's policy accepts: it narrows the user's trust and never adds to it."""

    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[TrustedIdentity, ...] = ()

    def narrow(self, label: str, keys: Iterable[TrustedKey], identities: Iterable[TrustedIdentity]) -> Policy:
        """Of ``keys`` and ``identities``, those this list names for the registry ``label``; all of
        them when it names no signer for that registry.

        A kept key trusted by fingerprint alone takes the public key this list gives for it:
        only a key with that very fingerprint can verify, so key material adds no trust.
        """
        named_keys = {key.fingerprint: key.public_key for key in self.keys if _applies(key.registries, label)}
        named = {(item.issuer, item.identity) for item in self.identities if _applies(item.registries, label)}
        if not named_keys and not named:
            return Policy(tuple(keys), tuple(identities))
        return Policy(
            tuple(
                TrustedKey(key.fingerprint, key.public_key or named_keys[key.fingerprint], key.registries)
                for key in keys
                if key.fingerprint in named_keys
            ),
            tuple(item for item in identities if (item.issuer, item.identity) in named),
        )


class Policy(Record):
    """Trust anchors and requirements. The empty policy trusts no one and requires nothing.

    ``narrowings`` are untrusted projects' signer lists: an anchor counts for a registry
    only if each list that names signers for that registry names it too
    (:meth:`for_registry` applies them).
    """

    keys: tuple[TrustedKey, ...] = ()
    identities: tuple[TrustedIdentity, ...] = ()
    requirements: Requirements = Requirements()
    narrowings: tuple[Signers, ...] = ()

    def trusts_key(self, fingerprint: str) -> bool:
        return any(key.fingerprint == fingerprint for key in self.keys)

    def trusts_identity(self, *, issuer: str | None, identity: str) -> bool:
        return any((item.issuer, item.identity) == (issuer or "", identity) for item in self.identities)

    def combined(self, other: Policy) -> Policy:
        """Trust anchors of both (one per fingerprint and scope, preferring one with its public key);
        requirements at the stricter of both; the narrowings of both."""
        keys: dict[tuple[str, tuple[str, ...]], TrustedKey] = {}
        for key in (*self.keys, *other.keys):
            known = keys.get((key.fingerprint, key.registries))
            if known is None or (key.public_key and not known.public_key):
                keys[(key.fingerprint, key.registries)] = key
        identities = tuple(dict.fromkeys((*self.identities, *other.identities)))
        requirements = self.requirements.stricter(other.requirements)
        return Policy(tuple(keys.values()), identities, requirements, (*self.narrowings, *other.narrowings))

    def narrowed_by(self, project: Policy) -> Policy:
        """This (the user's) policy tightened by an untrusted ``project`` policy: its requirements
        where stricter, and its signers as a narrowing, never as new anchors."""
        narrowing = (Signers(project.keys, project.identities),) if project.keys or project.identities else ()
        return Policy(self.keys, self.identities, self.requirements.stricter(project.requirements),
                      (*self.narrowings, *project.narrowings, *narrowing))

    def for_registry(self, label: str) -> Policy:
        """The policy for variants from the registry ``label``: without anchors scoped to other
        registries, nor those a narrowing leaves out."""
        keys = tuple(key for key in self.keys if _applies(key.registries, label))
        identities = tuple(item for item in self.identities if _applies(item.registries, label))
        for signers in self.narrowings:
            narrowed = signers.narrow(label, keys, identities)
            keys, identities = narrowed.keys, narrowed.identities
        return Policy(keys, identities, self.requirements)


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
        numbers = [v for v in values if is_finite_number(v)]
        unmeasured = _without_baseline(predicate) if name == "min_lift" else []
        if unmeasured:
            reasons.append(f"no baseline was measured for {', '.join(unmeasured)}, so the evidence has no lift, "
                           f"and policy requires a minimum lift of {minimum:g}")
        elif not values or len(numbers) != len(values):
            where = ".".join(path).replace(".*", "[]")
            reasons.append(f"the evidence lacks a finite number at {where}, and policy requires a minimum {label}")
        elif min(numbers) < minimum:
            reasons.append(f"the lowest {label}, {min(numbers):g}, is below the policy's minimum {minimum:g}")
    if predicate_type == BENCH_PREDICATE and requirements.min_percent_of_peak is not None:
        if predicate.get("gpu_evidence") is not True:
            reasons.append("the benchmark is not GPU evidence, and policy requires a minimum percent of peak")
    return reasons


def _without_baseline(predicate: Mapping[str, Any]) -> list[str]:
    """The models of eval evidence that ran no baseline (``baseline: null``): they have no lift."""
    models = predicate.get("models")
    return [
        clean(str(model.get("model")), 80)
        for model in (models if isinstance(models, list) else [])
        if isinstance(model, dict) and "baseline" in model and model["baseline"] is None
    ]


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
