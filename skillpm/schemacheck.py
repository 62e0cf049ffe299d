"""Checking a document against one of skillpm's JSON Schemas (Draft 2020-12), at run time.

The checks run on every install of signed evidence, so they use jsonschema-rs: a
compiled validator that imports in a few milliseconds, where the pure-Python
``jsonschema`` costs a fifth of a command's start-up. The test suite cross-checks
the two on the same documents (tests/test_schemacheck.py).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from skillpm.records import Record


class SchemaUnusable(Exception):
    """A schema file that is missing, unreadable, not JSON, or not a valid schema itself."""


class SchemaError(Record):
    """One way a document breaks a schema: where (``a.0.b``; empty at the top) and how.

    ``keyword`` is the schema keyword it breaks (``required``, ``type``, ``maxLength``...) and
    ``detail`` that keyword's particulars (``{"property": "name"}``, ``{"limit": 64}``...), for
    callers that word the problem themselves; jsonschema-rs's ``message`` is its own English.
    """

    path: tuple[str | int, ...]
    message: str
    keyword: str = ""
    detail: Mapping[str, Any] | None = None

    def where(self, separator: str = ".", top: str = "(top)") -> str:
        return separator.join(map(str, self.path)) or top


@lru_cache(maxsize=16)
def schema(path: Path) -> Any:
    """The schema at ``path``, parsed (read once per process; SchemaUnusable when it cannot be)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaUnusable(f"the schema {path} is missing") from None
    except (OSError, ValueError) as error:
        raise SchemaUnusable(f"cannot read the schema {path}: {error}") from None


#: What jsonschema-rs's init calls of ``email.utils`` (see _jsonschema_rs): the build date stays text.
_STAND_IN: dict[str, Any] = {"parsedate_to_datetime": str}


def _jsonschema_rs() -> Any:
    """jsonschema-rs, imported without the ``email.utils`` its extension loads at init only to turn its
    own build date into a datetime (pyo3-built's ``__build__["info-time"]``; PyO3/pyo3-built#29). That
    import is a quarter of a click import, on every command that checks a schema (bench/startup.py).

    A stand-in module answers that one call and is gone again when the import returns, so the date stays
    text. The stand-in is used only while no other thread could import ``email.utils`` meanwhile, and only
    when nothing has loaded it yet; should a later jsonschema-rs want more of it, the import is redone
    the ordinary way.

    The extension's init also imports ``decimal``, and panics when that import fails: Ctrl-C while it ran
    there came out as PyO3's PanicException, which no handler takes. So it is imported here first, where
    Ctrl-C is a KeyboardInterrupt, and the init finds it loaded.
    """
    import decimal  # noqa: F401 - see above
    import sys
    import threading

    if not ("jsonschema_rs" in sys.modules or "email.utils" in sys.modules or threading.active_count() > 1):
        import types

        stand_in = types.ModuleType("email.utils")
        stand_in.__dict__.update(_STAND_IN)
        sys.modules["email.utils"] = stand_in
        try:
            __import__("jsonschema_rs")
        except Exception:  # noqa: BLE001 - it wanted more than the stand-in has: imported again below
            pass
        finally:
            if sys.modules.get("email.utils") is stand_in:
                del sys.modules["email.utils"]
    import jsonschema_rs

    return jsonschema_rs


@lru_cache(maxsize=16)
def validator(path: Path) -> Any:
    """The validator of the schema at ``path``, itself checked against its meta-schema."""
    jsonschema_rs = _jsonschema_rs()
    parsed = schema(path)
    try:
        return jsonschema_rs.validator_for(parsed)
    except (jsonschema_rs.ValidationError, ValueError) as error:
        message = getattr(error, "message", str(error)).splitlines()[0]
        raise SchemaUnusable(f"the schema {path} is itself invalid: {message}") from None


def errors(path: Path, document: object) -> list[SchemaError]:
    """Every way ``document`` breaks the schema at ``path``, ordered by where (SchemaUnusable).

    A document jsonschema-rs cannot take (nested a few hundred levels deep, or holding a value
    JSON has no type for) breaks it too: one error at the top, never an exception.
    """
    checking = validator(path)
    try:
        found = [
            SchemaError(_path(document, tuple(error.instance_path), error.instance), error.message, error.kind.name,
                        error.kind.as_dict())
            for error in checking.iter_errors(document)
        ]
    except ValueError as error:  # "Recursion limit reached", "Unsupported type: ..."
        return [SchemaError((), f"cannot be checked: {str(error)[:200]}", "unchecked")]
    return sorted(found, key=lambda error: [str(part) for part in error.path])


def _path(document: object, path: tuple[str | int, ...], instance: object) -> tuple[str | int, ...]:
    """``path`` as the document spells it. jsonschema-rs (0.61) gives a property name of digits as the
    number it reads as (``"00"`` as 0), which is put back as the table's own key; and it leaves the empty
    property name out when it is the last, which is put back too: a value under the key ``""`` that
    breaks the schema is reported at that key, not its table's."""
    node, spelled = document, []
    for part in path:
        if isinstance(part, int) and isinstance(node, dict):
            keys = [key for key in node if isinstance(key, str) and key.isdecimal() and key.isascii() and int(key) == part]
            part = str(part) if str(part) in keys or not keys else keys[0]
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return (*spelled, part, *path[len(spelled) + 1 :])
        spelled.append(part)
    if isinstance(node, dict) and "" in node and node != instance and node[""] == instance:
        return (*spelled, "")
    return tuple(spelled)
