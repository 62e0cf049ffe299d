"""The rules of the Agent Skills specification (https://agentskills.io/specification).

Each check yields ``(rule, message)`` pairs; :func:`check_fields` and
:func:`check_body_size` turn them into findings at the right file and line.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping

from skillpm.validation import extensions
from skillpm.validation.findings import Finding, Severity, error
from skillpm.validation.frontmatter import SkillMd

MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
MAX_LINES = 500
MAX_BODY_TOKENS = 5000
CHARS_PER_TOKEN = 4

REQUIRED = ("name", "description")

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_NAME = re.compile(r"[^a-z0-9]+")

Issue = tuple[str, str]


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (str, "a string"),
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (type(None), "null"),
    ((datetime.date, datetime.datetime), "a timestamp"),
    (list, "a sequence"),
    (dict, "a mapping"),
)


def _kind(value: object) -> str:
    """The YAML word for the type of a parsed value."""
    return next((word for cls, word in _KINDS if isinstance(value, cls)), type(value).__name__)


def _quote_hint(value: object) -> str:
    """How to make a scalar ``value`` a string; nothing for a sequence or mapping."""
    return "" if isinstance(value, (list, dict)) else "; quote it in YAML"


def _text(
    field: str, value: object, *, limit: int | None = None, written_as_data: str = "", too_long: str = "",
    empty: str = "",
) -> Iterator[Issue]:
    """A string field: its type and, with ``limit``, a length of 1 to ``limit`` characters.

    ``written_as_data`` is added when the value is a mapping or a list: what the field is for; ``too_long``
    when it is longer than ``limit`` and ``empty`` when it is empty: what that breaks, and how to fix it.
    """
    if not isinstance(value, str):
        yield "spec.field.type", (
            f"{field!r} must be a string, not {_kind(value)} ({value!r}){_quote_hint(value) or written_as_data}"
        )
    elif limit is not None and not value.strip():
        yield f"spec.{field}.length", f"{field!r} must not be empty{empty}"
    elif limit is not None and len(value) > limit:
        yield f"spec.{field}.length", f"{field!r} is {len(value)} characters; the limit is {limit}{too_long}"


def _name_problem(name: str) -> str:
    """Why ``name`` breaks the name format."""
    if name != name.lower():
        return "must be lowercase"
    if name.startswith("-") or name.endswith("-"):
        return "must not start or end with a hyphen"
    if "--" in name:
        return "must not contain consecutive hyphens"
    return "may only contain a-z, 0-9 and single hyphens"


def installed_name(name: str) -> str:
    """The name a plain skill folder whose ``name`` breaks the format installs under, as the skills
    CLI names its folder (vercel-labs/skills ``sanitizeName`` in ``src/installer.ts``: lowercase,
    each run of other characters one hyphen, none at either end), in the specification's
    alphabet: ``.`` and ``_``, which that CLI keeps, become hyphens too. ``SEO Optimizer`` is
    ``seo-optimizer``. It may still break the format (empty, too long); :func:`plain_name` takes
    it only for a name in ASCII, as that CLI would drop other letters (``café`` would be ``caf``)."""
    return _NOT_NAME.sub("-", name.lower()).strip("-")


def plain_name(name: str) -> str:
    """The name a plain folder whose front matter says ``name`` installs under: ``name`` in the name
    format, else its :func:`installed_name` when that is in it (and ``name`` is ASCII), else ``name``."""
    if _NAME.fullmatch(name) or not name.isascii():
        return name
    renamed = installed_name(name)
    return renamed if _NAME.fullmatch(renamed) and len(renamed) <= MAX_NAME else name


def _name(value: object, dir_name: str, *, plain: bool) -> Iterator[tuple[str, str, bool]]:
    """``name``: a string of 1-64 characters in the name format, equal to ``dir_name``.

    Each issue comes with whether a plain folder (``plain``) is only warned of it, as it still
    installs: under :func:`installed_name` when the name breaks the format but that one does not.
    """
    issues = list(_text("name", value, limit=MAX_NAME, too_long=": Codex does not load a skill whose name is longer"))
    yield from ((rule, message, False) for rule, message in issues)
    if issues or not isinstance(value, str):
        return
    installs_as = plain_name(value) if plain else value
    if installs_as != value:
        yield "spec.name.format", (
            f"name {value!r} {_name_problem(value)}; skillpm installs it as {installs_as!r}, as the skills CLI does"
        ), True
    elif not _NAME.fullmatch(value):
        yield "spec.name.format", f"name {value!r} {_name_problem(value)}", False
    if installs_as != dir_name:
        where = "; skillpm and the skills CLI install it into a folder of that name, where it does" if plain else ""
        yield "spec.name.directory", (
            f"name {installs_as!r} must match the skill directory name {dir_name!r}{where}"
        ), True


def _metadata(value: object) -> Iterator[Issue]:
    """``metadata``: a mapping from strings to strings (another entry is a warning: skills-ref reads it as text)."""
    if not isinstance(value, dict):
        yield "spec.field.type", f"'metadata' must be a mapping, not {_kind(value)} ({value!r})"
        return
    for key, item in value.items():
        bad = item if isinstance(key, str) else key
        if not isinstance(bad, str):
            yield "spec.metadata.entry", (
                f"metadata entry {key!r}: {item!r} should map a string to a string, "
                f"but {bad!r} is {_kind(bad)}{_quote_hint(bad)}; skills-ref and agents read it as text"
            )


def _compatibility(value: object) -> Iterator[Issue]:
    """``compatibility``: text of 1 to :data:`MAX_COMPATIBILITY` characters; out of that length, a warning
    (:data:`_LENIENT_RULES`): no agent reads the field to decide whether to load a skill."""
    return _text(
        "compatibility", value, limit=MAX_COMPATIBILITY,
        written_as_data=f"; the specification's compatibility is text of at most {MAX_COMPATIBILITY} characters saying "
        "what the skill needs (for example 'Claude Code or Cursor; needs git and network access'), and data of your "
        "own goes under 'metadata'",
        empty=f"; the specification wants 1 to {MAX_COMPATIBILITY} characters: agents load the skill and skills-ref "
        "takes it, but remove the line or say what the skill needs",
        too_long=": agents load the skill (none reads the field to decide) and skills-ref refuses it; shorten it to "
        "what the skill needs, and move the rest into SKILL.md's body",
    )


_CHECKS: dict[str, Callable[[object], Iterator[Issue]]] = {
    "description": lambda value: _text(
        "description", value, limit=MAX_DESCRIPTION,
        too_long=": Codex does not load a skill whose description is longer; keep what the skill does and when to "
        "use it, and move the rest into SKILL.md's body"),
    "license": lambda value: _text("license", value),
    "compatibility": _compatibility,
    "metadata": _metadata,
    "allowed-tools": lambda value: _text("allowed-tools", value),
}

#: The specification's fields, in its order.
SPEC_FIELDS = ("name", *_CHECKS)
#: Rules whose findings are warnings: the skill still loads everywhere.
_WARNING_RULES = frozenset({"spec.metadata.entry"})
#: Rules whose findings are warnings but under ``strict``: the skill loads everywhere, and skills-ref refuses it.
_LENIENT_RULES = frozenset({"spec.compatibility.length"})


def _extension(key: str, value: object, *, strict: bool) -> Iterator[tuple[str, Severity, str]]:
    """A Claude Code field (see :mod:`skillpm.validation.extensions`): its type, and under ``strict`` a warning."""
    check, expected = extensions.FIELDS[key]
    if not check(value):
        yield "extension.field.type", Severity.ERROR, (
            f"{key!r} must be {expected}, not {_kind(value)} ({value!r}), as Claude Code documents it"
        )
    elif strict:
        what = f"{key!r} as a list" if key in SPEC_FIELDS else repr(key)
        yield "extension.field", Severity.WARNING, (
            f"{what} is a Claude Code extension ({extensions.SOURCE}), not in the Agent Skills "
            "specification: other agents ignore it"
        )


def _unknown(key: str) -> str:
    """What a field neither the specification nor Claude Code knows means, and where its data belongs."""
    return (
        f"unknown field {key!r}: agents ignore it and skills-ref refuses it; the specification's place for "
        f"other data is 'metadata' (metadata.{key}). It allows {', '.join(SPEC_FIELDS)}, and Claude Code also "
        f"{', '.join(k for k in extensions.FIELDS if k not in SPEC_FIELDS)}"
    )


def check_fields(
    fields: Mapping[str, object], key_lines: Mapping[str, int], *, file: str, dir_name: str, strict: bool = False,
    plain: bool = False,
) -> list[Finding]:
    """Check front matter ``fields`` against the specification's field rules and Claude Code's extensions.

    ``name`` must equal ``dir_name``, the folder the skill installs as. With ``plain`` (a
    folder with no manifest) ``dir_name`` is only where the skill was found: it installs
    under its ``name`` (or, when that breaks the format, :func:`installed_name`), so a
    mismatch, or a name it can install under that way, is a warning. A field neither the specification nor
    Claude Code knows is a warning too, as agents load the skill and ignore it, and so is a ``compatibility``
    text out of the specification's length. ``strict`` holds the front matter to the specification as
    skills-ref does: these are errors, and each Claude Code extension in use a warning.
    """
    findings = [
        error(file, 1, "spec.field.missing", f"required field {field!r} is missing")
        for field in REQUIRED
        if field not in fields
    ]
    for key, value in fields.items():
        line = key_lines.get(key)
        if key == "name":
            findings.extend(
                Finding(file, line, rule, Severity.WARNING if warn and plain and not strict else Severity.ERROR, message)
                for rule, message, warn in _name(value, dir_name, plain=plain)
            )
            continue
        if key in extensions.FIELDS and not (key in _CHECKS and isinstance(value, str)):
            findings.extend(Finding(file, line, rule, severity, message)
                            for rule, severity, message in _extension(key, value, strict=strict))
            continue
        check = _CHECKS.get(key)
        if check is None:
            findings.append(Finding(file, line, "spec.field.unknown", Severity.ERROR if strict else Severity.WARNING,
                                    _unknown(key)))
            continue
        findings.extend(
            Finding(file, line, rule, _severity(rule, strict=strict), message) for rule, message in check(value)
        )
    return findings


def _severity(rule: str, *, strict: bool) -> Severity:
    """A field rule's severity: see :data:`_WARNING_RULES` and :data:`_LENIENT_RULES`."""
    lenient = rule in _WARNING_RULES or (rule in _LENIENT_RULES and not strict)
    return Severity.WARNING if lenient else Severity.ERROR


def check_body_size(skill_md: SkillMd, *, file: str) -> list[Finding]:
    """Warn when SKILL.md is longer than the specification recommends."""
    tokens = len(skill_md.body) // CHARS_PER_TOKEN
    if skill_md.line_count <= MAX_LINES and tokens <= MAX_BODY_TOKENS:
        return []
    message = (
        f"SKILL.md has {skill_md.line_count} lines and its body about {tokens} tokens "
        f"(estimated as characters / {CHARS_PER_TOKEN}); the specification recommends under "
        f"{MAX_LINES} lines and {MAX_BODY_TOKENS} tokens: move detail into references/"
    )
    return [Finding(file, skill_md.body_line, "spec.body.size", Severity.WARNING, message)]
