"""Reading the trust policy files into a :class:`~skillpm.attest.policy.Policy`.

Two files are read and combined (docs/attestations.md): the user's
``~/.config/skillpm/policy.toml`` (the platform's user config folder) and the project's
``.skillpm/policy.toml``. The user's policy is the floor, and a project's only narrows it,
unless the user's ``[trust] project-keys`` names that project, whose signers are then trusted
too; a project's policy may never name ``project-keys``, nor key files outside the project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from skillpm.attest import AttestationError, read_small_file
from skillpm.attest.policy import Policy, Requirements, TrustedIdentity, TrustedKey, minimum_problem
from skillpm.attest.statement import SHA256_RE
from skillpm.reading import MAX_KEY_SIZE, MAX_POLICY_SIZE

PROJECT_POLICY = Path(".skillpm") / "policy.toml"

_REQUIRE_KEYS = {
    "attestations": ("attestations", bool),
    "gpu-evidence": ("gpu_evidence", bool),
    "min-pass-rate": ("min_pass_rate", (int, float)),
    "min-lift": ("min_lift", (int, float)),
    "min-percent-of-peak": ("min_percent_of_peak", (int, float)),
}


def parse_policy(text: str, *, where: str, base_dir: Path, project_root: Path | None = None) -> Policy:
    """Read a policy file's text; ``public-key`` paths are relative to ``base_dir``.

    A project's policy (``project_root`` given) may name key files only inside that project.
    """
    return _parse(text, where, base_dir, project_root)[0]


def _parse(text: str, where: str, base_dir: Path, project_root: Path | None) -> tuple[Policy, tuple[Path, ...]]:
    """The policy, and the projects whose signers it trusts (``[trust] project-keys``, user policy only)."""
    from skillpm.tomlfile import parse_toml  # tomllib only when there is a policy file to read

    try:
        data = parse_toml(text.encode())
    except ValueError as error:
        raise AttestationError(f"{where}: not valid TOML: {error}") from None
    _only(data, {"trust", "require"}, where)
    trust = _table(data, "trust", where)
    if project_root is not None and "project-keys" in trust:
        raise AttestationError(
            f"{where}: [trust] project-keys is read only from your own policy, never from a project's",
            hint=f"to trust this project's signers, name it in {user_policy_path()}",
        )
    _only(trust, {"keys", "sigstore", "project-keys"}, f"{where} [trust]")
    keys = tuple(_key(item, f"{where} [[trust.keys]]", base_dir, project_root) for item in _tables(trust, "keys", where))
    identities = tuple(_identity(item, f"{where} [[trust.sigstore]]", base_dir) for item in _tables(trust, "sigstore", where))
    require = _table(data, "require", where)
    _only(require, set(_REQUIRE_KEYS), f"{where} [require]")
    values: dict[str, Any] = {}
    for key, value in require.items():
        attribute, kind = _REQUIRE_KEYS[key]
        if not isinstance(value, kind) or (kind != bool and isinstance(value, bool)):
            raise AttestationError(f"{where}: [require] {key} has the wrong type ({value!r})")
        if kind != bool:
            problem = minimum_problem(attribute, value)
            if problem:
                raise AttestationError(f"{where}: [require] {key} {problem}")
            value = float(value)
        values[attribute] = value
    return Policy(keys, identities, Requirements(**values)), _project_keys(trust, where)


def _project_keys(trust: Mapping[str, Any], where: str) -> tuple[Path, ...]:
    """``project-keys = ["/abs/project", ...]``: the projects whose policy's signers the user trusts."""
    value = trust.get("project-keys", [])
    if not isinstance(value, list) or not all(isinstance(entry, str) and entry for entry in value):
        raise AttestationError(f"{where}: [trust] project-keys must be a list of project folders")
    paths = [_path(entry, where, "[trust] project-keys entry", expand=True) for entry in value]
    relative = next((entry for entry, path in zip(value, paths) if not path.is_absolute()), None)
    if relative is not None:
        raise AttestationError(f"{where}: [trust] project-keys entry {relative[:200]!r} is not an absolute path")
    return tuple(path.resolve() for path in paths)


def user_policy_path() -> Path:
    """``policy.toml`` in the user's config folder (``~/.config/skillpm/`` on Linux)."""
    from skillpm.userdirs import user_path

    return user_path("config") / "policy.toml"


def load_policy(*, project_root: Path | None = None, user_path: Path | None = None) -> Policy:
    """The user's policy, tightened by the project's (or, when the user trusts that project's
    signers, combined with it); a missing file is an empty policy."""
    path = user_path or user_policy_path()
    text = _read_policy(path)
    policy, trusted_projects = _parse(text, str(path), path.parent, None) if text is not None else (Policy(), ())
    if project_root is None:
        return policy
    path = project_root / PROJECT_POLICY
    text = _read_policy(path)
    if text is None:
        return policy
    project = parse_policy(text, where=str(path), base_dir=path.parent, project_root=project_root)
    if project_root.resolve() in trusted_projects:
        return policy.combined(project)
    return policy.narrowed_by(project)


def _read_policy(path: Path) -> str | None:
    """A policy file's text (a regular file of at most MAX_POLICY_SIZE), or ``None`` when there is none."""
    if not os.path.lexists(path):
        return None
    data = read_small_file(path, MAX_POLICY_SIZE, "the policy file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AttestationError(f"cannot read the policy file {path}: not UTF-8 ({error.reason} at byte {error.start})") from None


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


def _path(text: str, where: str, what: str, *, expand: bool = False) -> Path:
    """``text`` as a path (``~`` and ``~user`` expanded with ``expand``); AttestationError naming the
    policy file when no path can be that: a NUL character, the home of a user there is none of."""
    if "\0" in text:
        raise AttestationError(f"{where}: {what} {text[:200]!r} holds a NUL character, which no path can")
    try:
        return Path(text).expanduser() if expand else Path(text)
    except RuntimeError:  # Path.expanduser: "~nosuchuser"
        raise AttestationError(f"{where}: {what} {text[:200]!r} names the home folder of no known user") from None


def _registries(item: Mapping[str, Any], where: str, base_dir: Path) -> tuple[str, ...]:
    """``registries = [...]``: ``embedded``, URLs, or directories (relative to the policy file)."""
    value = item.get("registries", [])
    if not isinstance(value, list) or not all(isinstance(entry, str) and entry for entry in value):
        raise AttestationError(f"{where}: registries must be a list of registry names, URLs or directories")
    return tuple(
        entry if entry == "embedded" or "://" in entry else (base_dir / _path(entry, where, "registries entry")).resolve().as_uri()
        for entry in value
    )


def _key(item: Mapping[str, Any], where: str, base_dir: Path, project_root: Path | None) -> TrustedKey:
    _only(item, {"fingerprint", "public-key", "registries"}, where)
    fingerprint = _text(item, "fingerprint", where).lower()
    if not SHA256_RE.fullmatch(fingerprint):
        raise AttestationError(f"{where}: fingerprint {fingerprint[:80]!r} is not 64 hex digits")
    pem = None
    if "public-key" in item:
        path = base_dir / _path(_text(item, "public-key", where), where, "public-key")
        if project_root is not None and not path.resolve().is_relative_to(project_root.resolve()):
            raise AttestationError(f"{where}: public-key {path} is outside the project {project_root}")
        try:
            pem = read_small_file(path, MAX_KEY_SIZE, "public-key")
        except AttestationError as error:
            raise AttestationError(f"{where}: {error.message}") from None
    return TrustedKey(fingerprint, pem, _registries(item, where, base_dir))


def _identity(item: Mapping[str, Any], where: str, base_dir: Path) -> TrustedIdentity:
    _only(item, {"issuer", "identity", "registries"}, where)
    registries = _registries(item, where, base_dir)
    return TrustedIdentity(_text(item, "issuer", where), _text(item, "identity", where), registries)
