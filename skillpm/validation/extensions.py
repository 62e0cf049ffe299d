"""Front-matter fields Claude Code documents beyond the Agent Skills specification.

Source: Claude Code's skills documentation, "Frontmatter reference"
(https://code.claude.com/docs/en/skills), as read in December 2026: ``when_to_use``,
``argument-hint``, ``arguments``, ``disable-model-invocation``, ``user-invocable``,
``allowed-tools`` and ``disallowed-tools`` (a string, or a YAML list), ``model``, ``effort``, ``context``, ``agent``,
``hooks``, ``paths`` and ``shell``. Agents other than Claude Code ignore them, so they are
valid; only their types are checked, and ``--strict`` reports each one as a warning.
"""

from __future__ import annotations

from collections.abc import Callable

#: The documentation the field list comes from (cited in findings and docs/validation.md).
SOURCE = "https://code.claude.com/docs/en/skills"


def _string(value: object) -> bool:
    return isinstance(value, str)


def _boolean(value: object) -> bool:
    return isinstance(value, bool)


def _mapping(value: object) -> bool:
    return isinstance(value, dict)


def _strings(value: object) -> bool:
    """A string, or a list of strings (Claude Code's documented list form)."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))


def _hint(value: object) -> bool:
    """A string, or what YAML makes of an unquoted ``[issue-number]`` or ``[optional: date]``:
    a list of scalars, lists, and mappings of one scalar to another."""
    return _strings(value) or (isinstance(value, list) and all(map(_hint_item, value)))


def _hint_item(item: object) -> bool:
    if isinstance(item, dict):
        return len(item) == 1 and all(isinstance(part, (str, int, float)) for part in (*item, *item.values()))
    return isinstance(item, (str, int, float, list))


#: Each Claude Code field: the check its value must pass, and the type a finding names.
FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "when_to_use": (_string, "a string"),
    "argument-hint": (_hint, "a string"),
    "arguments": (_strings, "a string or a list of strings"),
    "disable-model-invocation": (_boolean, "a boolean (true or false)"),
    "user-invocable": (_boolean, "a boolean (true or false)"),
    "allowed-tools": (_strings, "a string or a list of strings"),
    "disallowed-tools": (_strings, "a string or a list of strings"),
    "model": (_string, "a string"),
    "effort": (_string, "a string"),
    "context": (_string, "a string"),
    "agent": (_string, "a string"),
    "hooks": (_mapping, "a mapping"),
    "paths": (_strings, "a string or a list of strings"),
    "shell": (_string, "a string"),
}
