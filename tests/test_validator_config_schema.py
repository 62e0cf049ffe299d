"""validator_config is checked against schemas/validator-config.schema.json, as pydantic's strict models checked it (issue 18, part 3).

The settings of skillpm's validators (regex, nvcc_compile, cuda_kernel, python_test) used to be
strict pydantic models; ``pack``, ``publish`` and ``eval`` of a skill whose cases name one of them
(kernel-builder-cuda) imported pydantic only to read them. They are now checked with jsonschema-rs
plus the strict rules JSON Schema cannot say, and read into NamedTuples. The reference below is
those models as they were (skillpm/evaluation/checkconfig.py before this change); hypothesis holds
the new code to them on many configs: the same verdict, the same problem lines in the same order,
the same values of the same Python types (an integer timeout made a float, as pydantic made it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skillpm.evaluation.checkconfig import RECORDS, parse_config
from skillpm.evaluation.cases import EvalCase, Expected
from skillpm.evaluation.checks import VALIDATORS, CheckConfigError, checks_for
from pydantic_wording import field_problems

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas" / "validator-config.schema.json").read_text(encoding="utf-8"))


# --- the reference: skillpm's former pydantic models of validator_config ------------------------------------


class RefConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RefRegex(RefConfig):
    pattern: str
    ignore_case: bool = False


class RefArch(RefConfig):
    arch: str | None = None
    generic_arch: str | None = None
    timeout_s: float = Field(default=120.0, gt=0, le=3600, allow_inf_nan=False)


class RefNvcc(RefArch):
    gencode: str | None = None


class RefKernel(RefArch):
    kernel: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    max_spill_bytes: int = Field(default=0, ge=0)
    allow_local_memory: bool = False
    sass_opcodes: str = Field(default="", pattern=r"^[A-Z0-9_. ]*$")
    elements_per_thread: int | None = Field(default=None, gt=0)
    max_sass_per_element: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class RefPythonTest(RefConfig):
    script: str = Field(min_length=1)
    timeout_s: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)


REFERENCE: dict[str, type[BaseModel]] = {
    "regex": RefRegex, "nvcc_compile": RefNvcc, "cuda_kernel": RefKernel, "python_test": RefPythonTest,
}


def reference(validator: str, config: dict[str, Any]) -> tuple[BaseModel | None, list[str]]:
    """What the pydantic version answered: the model, or None and its problem lines (checks_for reported the first)."""
    try:
        return REFERENCE[validator].model_validate(config), []
    except ValidationError as error:
        return None, [f"validator_config.{where}: {reason}" for where, reason in field_problems(error.errors())]


def typed(values: dict[str, Any]) -> list[tuple[str, type, str]]:
    """Each value with its type, as text (so that NaN equals NaN, and 1 differs from 1.0 and True)."""
    return sorted((name, type(value), repr(value)) for name, value in values.items())


# --- configs: every field of every validator, and every kind of mistake -----------------------------------

JUNK = st.sampled_from([None, True, False, 0, 1, -1, 0.0, 1.0, -1.0, 2.5, 10**30, 2**1024, math.inf, -math.inf, math.nan,
                        "", "x", "5", "sm_90a"])
NAME = st.sampled_from(["k", "ln_gelu", "_k2", "not a name", "9k", "k\n", "é"])
OPCODES = st.sampled_from(["", "LDG.E.128 STG.E.128", "HMMA", "ldg", "LDG;", "A\n"])
POSITIVE = st.one_of(st.integers(-2, 10**20), st.floats(allow_nan=True, allow_infinity=True))
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "pattern": st.text(max_size=5),
    "ignore_case": st.booleans(),
    "arch": st.sampled_from(["sm_90a", "sm_80", "generic"]),
    "generic_arch": st.sampled_from(["sm_80", "sm_9x"]),
    "timeout_s": POSITIVE,
    "gencode": st.sampled_from(["arch=compute_90a,code=sm_90a", "-arch=sm_90"]),
    "kernel": NAME,
    "max_spill_bytes": POSITIVE,
    "allow_local_memory": st.booleans(),
    "sass_opcodes": OPCODES,
    "elements_per_thread": POSITIVE,
    "max_sass_per_element": POSITIVE,
    "script": st.text(max_size=3),
}


@st.composite
def config(draw: st.DrawFn, validator: str) -> dict[str, Any]:
    """Mostly the validator's own fields (now and then another's, or an unknown key), in any order;
    one value in six of another type."""
    own = list(REFERENCE[validator].model_fields)
    keys = draw(st.lists(st.sampled_from(own), unique=True))
    keys += draw(st.sampled_from([[]] * 6 + [["extra"], ["zz", "extra"], ["kernel"], ["pattern", "timeout_s"]]))
    if draw(st.integers(0, 2)):  # the required field, so that most configs pass or fail on one thing
        keys += [name for name in ("pattern", "kernel", "script") if name in own and name not in keys][:1]
    keys = list(dict.fromkeys(draw(st.permutations(keys))))
    return {key: draw(JUNK if draw(st.integers(0, 5)) == 0 else FIELDS.get(key, JUNK)) for key in keys}


@st.composite
def validator_and_config(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    validator = draw(st.sampled_from(sorted(REFERENCE)))
    return validator, draw(config(validator))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=validator_and_config())
def test_a_config_gets_pydantic_s_verdict_problems_and_values(case: tuple[str, dict[str, Any]]) -> None:
    validator, given = case
    expected, expected_problems = reference(validator, given)
    found, problems = parse_config(validator, given)
    assert problems == expected_problems
    assert (found is None) == (expected is None)
    if found is not None:
        assert isinstance(found, RECORDS[validator]) and expected is not None
        assert typed(found._asdict()) == typed(expected.model_dump())
        # what pydantic took, the schema alone takes too (it refuses less: 1.0 as an integer, Infinity)
        assert Draft202012Validator(SCHEMA).is_valid({"validator": validator, "validator_config": given})
    # checks_for reports the first problem of a case, as it reported pydantic's first
    evaluated = EvalCase("q", Expected(("x",)), validator=validator, validator_config=given)
    if expected is None:
        with pytest.raises(CheckConfigError) as refused:
            checks_for(evaluated, target="sm_90a")
        assert str(refused.value) == expected_problems[0]


PROBLEMS = {
    "a float where an integer is asked": ("cuda_kernel", {"kernel": "k", "max_spill_bytes": 1.0},
                                          ["validator_config.max_spill_bytes: must be an integer"]),
    "a negative float there, type first": ("cuda_kernel", {"kernel": "k", "max_spill_bytes": -1.0},
                                           ["validator_config.max_spill_bytes: must be an integer"]),
    "Infinity": ("nvcc_compile", {"timeout_s": math.inf}, ["validator_config.timeout_s: must be a finite number"]),
    "NaN": ("cuda_kernel", {"kernel": "k", "max_sass_per_element": math.nan},
            ["validator_config.max_sass_per_element: must be a finite number"]),
    "an integer too large for a float": ("python_test", {"script": "t.py", "timeout_s": 2**1024},
                                         ["validator_config.timeout_s: must be a number"]),
    "true as a number": ("nvcc_compile", {"timeout_s": True}, ["validator_config.timeout_s: must be a number"]),
    "a number as true or false": ("regex", {"pattern": "x", "ignore_case": 1},
                                  ["validator_config.ignore_case: must be true or false"]),
    "a float bound is worded as a float": ("nvcc_compile", {"timeout_s": 0}, ["validator_config.timeout_s: must be > 0.0"]),
    "an integer bound as an integer": ("cuda_kernel", {"kernel": "k", "elements_per_thread": 0},
                                       ["validator_config.elements_per_thread: must be > 0"]),
    "a newline after the name": ("cuda_kernel", {"kernel": "k\n"},
                                 ["validator_config.kernel: must match ^[A-Za-z_][A-Za-z0-9_]*$"]),
    "an empty script": ("python_test", {"script": ""}, ["validator_config.script: must have at least 1 character(s)"]),
    "in field order, unknown keys as written": (
        "cuda_kernel", {"zz": 1, "sass_opcodes": "x", "aa": 2, "arch": 5},
        ["validator_config.arch: must be a string", "validator_config.kernel: is required",
         "validator_config.sass_opcodes: must match ^[A-Z0-9_. ]*$", "validator_config.zz: is not a known field",
         "validator_config.aa: is not a known field"],
    ),
}


@pytest.mark.parametrize(("validator", "given", "problems"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_problems_are_worded_and_ordered_as_pydantic_did(validator: str, given: dict[str, Any],
                                                         problems: list[str]) -> None:
    assert reference(validator, given)[1] == problems  # the record of what pydantic said
    assert parse_config(validator, given) == (None, problems)


def test_an_unknown_empty_key_is_named_at_its_place_not_as_the_root() -> None:
    """The one line that differs, on purpose: pydantic's path of the key ``""`` joined to nothing, so it was
    reported as ``validator_config.(root)``, as if the config itself were wrong; skill_meta.json's problems
    name such a key at its place (``tests.0.context.files.: ...``), and so do these now."""
    assert reference("regex", {"pattern": "x", "": 1})[1] == ["validator_config.(root): is not a known field"]
    assert parse_config("regex", {"pattern": "x", "": 1}) == (None, ["validator_config.: is not a known field"])


def test_an_integer_where_a_number_is_asked_becomes_a_float_and_defaults_fill_the_rest() -> None:
    found, _ = parse_config("cuda_kernel", {"kernel": "k", "timeout_s": 5, "elements_per_thread": 8,
                                            "max_sass_per_element": 3})
    assert found is not None
    assert typed(found._asdict()) == typed({
        "kernel": "k", "arch": None, "generic_arch": None, "timeout_s": 5.0, "max_spill_bytes": 0,
        "allow_local_memory": False, "sass_opcodes": "", "elements_per_thread": 8, "max_sass_per_element": 3.0})


def test_the_records_defaults_and_fields_are_the_schema_s() -> None:
    """The schema documents each default; the records hold them; both list pydantic's fields."""
    assert sorted(SCHEMA["properties"]["validator"]["enum"]) == sorted(VALIDATORS) == sorted(RECORDS)
    for validator, record in RECORDS.items():
        properties = SCHEMA["$defs"][validator]["properties"]
        assert list(properties) == list(REFERENCE[validator].model_fields), validator  # the order problems come in
        assert set(record._fields) == set(properties), validator
        documented = {name: field["default"] for name, field in properties.items() if "default" in field}
        assert typed(documented) == typed({name: value for name, value in record._field_defaults.items()
                                           if value is not None}), validator


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
