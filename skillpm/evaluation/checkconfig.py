"""The ``validator_config`` each of skillpm's validators takes (:mod:`skillpm.evaluation.checks`).

Pure but for reading the schema: schemas/validator-config.schema.json, one ``$def`` per
validator, checked with jsonschema-rs, with pydantic's strict rules JSON Schema cannot say
added here (JSON has one kind of number: 1.0 is an integer to JSON Schema, Infinity a
number). Problems are worded and ordered as pydantic's strict models worded them (issue 18,
start-up: no pydantic); the records are :mod:`skillpm.records` records, built only from a
config that passed, an integer given where a number is asked made a float.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Union

from skillpm.errors import SkillpmError
from skillpm.records import Record

SCHEMA_FILE = "validator-config.schema.json"


class RegexConfig(Record):
    """``regex``."""

    pattern: str
    ignore_case: bool = False


class NvccConfig(Record):
    """``nvcc_compile``."""

    arch: str | None = None
    generic_arch: str | None = None
    timeout_s: float = 120.0
    gencode: str | None = None


class KernelConfig(Record):
    """``cuda_kernel`` (less its per-architecture ``max_sass_per_element.<arch>`` keys)."""

    kernel: str
    arch: str | None = None
    generic_arch: str | None = None
    timeout_s: float = 120.0
    max_spill_bytes: int = 0
    allow_local_memory: bool = False
    sass_opcodes: str = ""
    elements_per_thread: int | None = None
    max_sass_per_element: float | None = None


class PythonTestConfig(Record):
    """``python_test``."""

    script: str
    timeout_s: float = 60.0


Config = Union[RegexConfig, NvccConfig, KernelConfig, PythonTestConfig]
RECORDS: dict[str, type[Config]] = {
    "regex": RegexConfig, "nvcc_compile": NvccConfig, "cuda_kernel": KernelConfig, "python_test": PythonTestConfig,
}


def parse_config(validator: str, config: Mapping[str, object]) -> tuple[Config | None, list[str]]:
    """Check the ``validator_config`` of one of :data:`RECORDS`' validators: its record, or ``None`` and
    every problem (``validator_config.field: reason``), in the order pydantic reported them."""
    from skillpm.fieldproblems import field_order

    document = {"validator": validator, "validator_config": dict(config)}
    found = dict(_schema_problems(document))
    fields = _fields(validator)
    found.update(_strict_problems(config, fields))
    if found:
        order = {("validator_config",): tuple(fields)}
        return None, [f"{'.'.join(map(str, path))}: {reason}"
                      for path, reason in sorted(found.items(), key=lambda item: field_order(item[0], document, order))]
    numbers = {name for name, types in fields.items() if "number" in types}
    return RECORDS[validator](**{
        name: float(value) if name in numbers and value is not None else value  # type: ignore[arg-type]
        for name, value in config.items()
    }), []


def _schema_problems(document: object) -> list[tuple[tuple[str | int, ...], str]]:
    from skillpm import schemacheck
    from skillpm.fieldproblems import schema_problems

    try:
        return schema_problems(schemacheck.errors(_schema_path(), document))
    except schemacheck.SchemaUnusable as error:  # a broken installation, not the user's file
        raise SkillpmError(f"cannot check validator_config: {error}", hint="reinstall skillpm") from None


def _strict_problems(config: Mapping[str, object], fields: Mapping[str, frozenset[str]]) -> dict[tuple[str, ...], str]:
    """What pydantic's strict mode refuses and JSON Schema takes: a float where only an integer is
    asked, Infinity or NaN where a number is asked, an integer too large to be a float."""
    found: dict[tuple[str, ...], str] = {}
    for name, value in config.items():
        types = fields.get(name, frozenset())
        if isinstance(value, float) and "integer" in types:
            found[("validator_config", name)] = "must be an integer"
        elif isinstance(value, float) and "number" in types and not math.isfinite(value):
            found[("validator_config", name)] = "must be a finite number"
        elif isinstance(value, int) and not isinstance(value, bool) and "number" in types and not _fits_a_float(value):
            found[("validator_config", name)] = "must be a number"
    return found


def _fits_a_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


@lru_cache(maxsize=None)
def _fields(validator: str) -> dict[str, frozenset[str]]:
    """The fields of ``validator``'s ``$def``, in the schema's order (pydantic's), each with its JSON types
    (read after :func:`_schema_problems` has found the schema usable)."""
    from skillpm import schemacheck

    definitions = schemacheck.schema(_schema_path())["$defs"]
    fields = {}
    for name, field in definitions[validator]["properties"].items():
        target = definitions[field["$ref"].removeprefix("#/$defs/")] if "$ref" in field else field
        kinds = target.get("type", ())
        fields[name] = frozenset([kinds] if isinstance(kinds, str) else kinds)
    return fields


def _schema_path() -> Path:
    from skillpm.resources import shipped

    return shipped("schemas") / SCHEMA_FILE
