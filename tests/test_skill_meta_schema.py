"""skill_meta.json is checked against schemas/skill-meta.schema.json, as pydantic checked it (issue 18, part 3).

The test cases used to be pydantic models; ``pack`` and ``publish`` of a skill with a
skill_meta.json (the skeleton ``skillpm init`` makes) imported pydantic only to read them. They
are now checked with jsonschema-rs and read into NamedTuples. The reference below is those
models as they were (skillpm/evaluation/cases.py before this change), which mirror upskill's
(huggingface/upskill, ``src/upskill/models.py``: ``TestCase``, ``ExpectedSpec``, ``TestCaseContext``,
``SkillMetadata``), with skillpm's one lax rule: ``contains`` may be one string. hypothesis holds
the new code to it on many documents: the same verdict, the same problem lines in the same order,
and the same JSON of each case (``model_dump(mode="json", exclude_none=True)``), which the
test-set digest recorded in archives and signed evidence is computed from.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillpm.evaluation.cases import case_json, canonical_json, parse_case, parse_suite
from skillpm.evaluation import subject
from skillpm.evaluation.testset import load_tests
from pydantic_wording import field_problems
from skillpm.manifest import SkillSource

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas" / "skill-meta.schema.json").read_text(encoding="utf-8"))


# --- the reference: skillpm's former pydantic models of upskill's format ------------------------------------


class RefExpected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contains: tuple[str, ...]

    @field_validator("contains", mode="before")
    @classmethod
    def _one_string(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class RefContext(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: dict[str, str] | None = None


class RefCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str
    context: RefContext | None = None
    expected: RefExpected
    output_file: str | None = None
    validator: str | None = None
    validator_config: dict[str, Union[str, bool, int, float]] | None = None


class RefSuite(BaseModel):
    model_config = ConfigDict(frozen=True)

    metadata: dict[str, Any] = Field(default_factory=dict)
    tests: tuple[RefCase, ...] = ()


def reference(model: type[BaseModel], data: object) -> tuple[BaseModel | None, list[str]]:
    """What the pydantic version answered: the model, or None and its problem lines."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [f"{where}: {reason}" for where, reason in field_problems(error.errors())]


# --- documents: upskill's format, and every kind of mistake in it ------------------------------------------

JUNK = st.sampled_from([None, True, False, 0, 1, -1, 2.5, 1.0, 10**30, "", "x", [], [1], ["a", 2], {}, {"a": 1}])
TEXT = st.text(max_size=8)
SCALAR = st.one_of(TEXT, st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False))


def table(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object holding some of ``fields``, now and then an unknown key, in any order."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        keys = draw(st.lists(st.sampled_from(list(fields)), unique=True))
        keys += draw(st.sampled_from([[]] * 8 + [["extra"], ["zz", "extra"]]))
        return {key: draw(fields.get(key, JUNK)) for key in draw(st.permutations(keys))}

    return build()


def sometimes(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``valid``, one time in ten a value of another type."""
    return st.integers(0, 9).flatmap(lambda roll: JUNK if roll == 0 else valid)


CONTAINS = st.one_of(TEXT, st.lists(sometimes(TEXT), max_size=3), JUNK)
EXPECTED = sometimes(table({"contains": CONTAINS}))
CONTEXT = st.one_of(st.none(), sometimes(table({"files": st.one_of(st.none(), st.dictionaries(TEXT, sometimes(TEXT),
                                                                                             max_size=3), JUNK)})))
CONFIG = st.one_of(st.none(), st.dictionaries(TEXT, sometimes(SCALAR), max_size=3), JUNK)
CASE_FIELDS = {
    "input": sometimes(TEXT),
    "context": CONTEXT,
    "expected": EXPECTED,
    "output_file": st.one_of(st.none(), sometimes(TEXT)),
    "validator": st.one_of(st.none(), sometimes(st.sampled_from(["regex", "nvcc_compile", "hf_eval_yaml"]))),
    "validator_config": CONFIG,
}


@st.composite
def case(draw: st.DrawFn) -> dict[str, Any]:
    """Usually a valid case, often with one or more fields missing, mistyped or unknown."""
    fields = dict(draw(table(CASE_FIELDS)))
    if draw(st.integers(0, 3)):  # the required fields, so that most cases pass or fail on one thing
        fields.setdefault("input", "q")
        fields.setdefault("expected", {"contains": ["a"]})
    return fields


VALID_CASE = st.fixed_dictionaries(
    {"input": TEXT, "expected": st.fixed_dictionaries({"contains": st.one_of(TEXT, st.lists(TEXT, max_size=3))})},
    optional={"context": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                  "files": st.one_of(st.none(), st.dictionaries(TEXT, TEXT, max_size=2))})),
              "output_file": st.one_of(st.none(), TEXT), "validator": st.one_of(st.none(), TEXT),
              "validator_config": st.one_of(st.none(), st.dictionaries(TEXT, SCALAR, max_size=3))},
)
SUITE = sometimes(table({"metadata": sometimes(st.dictionaries(TEXT, SCALAR, max_size=2)),
                         "tests": sometimes(st.lists(st.one_of(VALID_CASE, case()), max_size=4))}))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=SUITE)
def test_a_suite_gets_pydantic_s_verdict_problems_and_json(document: Any) -> None:
    expected, expected_problems = reference(RefSuite, document)
    suite, problems = parse_suite(document)
    assert problems == expected_problems
    assert (suite is None) == (expected is None)
    assert Draft202012Validator(SCHEMA).is_valid(document) == (expected is not None)
    if suite is not None:
        assert isinstance(expected, RefSuite)
        assert dict(suite.metadata) == expected.metadata
        # as bytes: True, 1 and 1.0 are equal in Python, not in the digest
        assert canonical_json([case_json(item) for item in suite.tests]) == canonical_json(
            [item.model_dump(mode="json", exclude_none=True) for item in expected.tests])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.one_of(VALID_CASE, sometimes(case())))
def test_one_case_gets_pydantic_s_verdict_and_problems(document: Any) -> None:
    """evals.json's evals are read as single cases (skillpm.evaluation.agentskills)."""
    expected, expected_problems = reference(RefCase, document)
    found, problems = parse_case(document)
    assert (problems, found is None) == (expected_problems, expected is None)
    if found is not None:
        assert isinstance(expected, RefCase)
        assert canonical_json(case_json(found)) == canonical_json(expected.model_dump(mode="json", exclude_none=True))


PROBLEMS = {
    "not a table": ([], ["(root): must be a table"]),
    "tests a table": ({"tests": {}}, ["tests: must be a list"]),
    "metadata null": ({"metadata": None}, ["metadata: must be a table"]),
    "case a string": ({"tests": ["q"]}, ["tests.0: must be a table"]),
    "contains a number": ({"tests": [{"input": "q", "expected": {"contains": 5}}]},
                          ["tests.0.expected.contains: must be a list"]),
    "context a string": ({"tests": [{"input": "q", "expected": {"contains": []}, "context": "x"}]},
                         ["tests.0.context: must be a table"]),
    "output_file a number": ({"tests": [{"input": "q", "expected": {"contains": []}, "output_file": 1}]},
                             ["tests.0.output_file: must be a string"]),
    "a config value a list": ({"tests": [{"input": "q", "expected": {"contains": []}, "validator_config": {"a": [1]}}]},
                              ["tests.0.validator_config.a: must be a string or true or false or an integer or a number"]),
    # jsonschema-rs leaves the key "" out of an error's path; skillpm.schemacheck puts it back
    "an empty key": ({"tests": [{"input": "q", "expected": {"contains": []}, "context": {"files": {"": 5}}}]},
                     ["tests.0.context.files.: must be a string"]),
    "in field order, unknown keys as written": (
        {"tests": [{"zeta": 1, "validator": 5, "alpha": 2, "context": {"files": {"b": 1, "a": 2}, "x": 0}}]},
        ["tests.0.input: is required", "tests.0.context.files.b: must be a string", "tests.0.context.files.a: must be a string",
         "tests.0.context.x: is not a known field", "tests.0.expected: is required", "tests.0.validator: must be a string",
         "tests.0.zeta: is not a known field", "tests.0.alpha: is not a known field"],
    ),
}


@pytest.mark.parametrize(("document", "problems"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_problems_are_worded_and_ordered_as_pydantic_did(document: Any, problems: list[str]) -> None:
    assert reference(RefSuite, document)[1] == problems  # the record of what pydantic said
    assert parse_suite(document) == (None, problems)


def test_a_case_keeps_each_json_type_and_is_immutable() -> None:
    suite, _ = parse_suite({"tests": [{"input": "q", "expected": {"contains": "a"}, "context": {"files": {"f": "x"}},
                                       "validator_config": {"b": True, "i": 1, "f": 1.0, "s": "1"}}]})
    assert suite is not None
    (only,) = suite.tests
    assert only.expected.contains == ("a",) and only.context is not None and dict(only.context.files or {}) == {"f": "x"}
    config = dict(only.validator_config or {})
    assert [(key, type(value)) for key, value in config.items()] == [("b", bool), ("i", int), ("f", float), ("s", str)]
    with pytest.raises(TypeError):
        only.validator_config["b"] = False  # type: ignore[index]
    with pytest.raises(AttributeError):
        only.input = "changed"  # type: ignore[misc]


def test_kernel_builder_cuda_s_test_sets_keep_the_digests_pydantic_gave() -> None:
    """The embedded registry's archives and signed evidence record these digests (its one
    skill_meta.json serves every variant; test_embedded_registry rebuilds the archives)."""
    source = SkillSource.load(ROOT / "skills" / "kernel-builder-cuda")
    expected, _ = reference(RefSuite, json.loads((source.root / "skill_meta.json").read_text(encoding="utf-8")))
    assert isinstance(expected, RefSuite) and expected.tests
    tests = [item.model_dump(mode="json", exclude_none=True) for item in expected.tests]
    for target in source.targets:
        read, _ = subject.test_reader(source.root, target, source.variant_files(target))
        loaded = load_tests(read, target=target)
        scripts = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(loaded.scripts.items())}
        digest = hashlib.sha256(canonical_json({"tests": tests, "scripts": scripts})).hexdigest()
        assert loaded.test_set.digest == digest, target


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
