"""skillpm.schemacheck (jsonschema-rs) agrees with the reference implementation, python-jsonschema.

Installs check predicates with jsonschema-rs because it loads in milliseconds; these
tests hold it to the verdicts of ``jsonschema`` (the Python reference implementation of
JSON Schema 2020-12) on the shipped evidence documents and on every one-step mutation of
them hypothesis draws: a removed key, a value of another type or range, an unknown key.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from skillpm import schemacheck

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
DOCUMENTS = [
    ("eval-evidence.schema.json", ROOT / "tests" / "assets" / "attest" / "eval-evidence.json"),
    ("bench-evidence.schema.json", ROOT / "tests" / "assets" / "attest" / "bench-evidence.json"),
    *(("static-kernel-evidence.schema.json", path) for path in sorted((ROOT / "evidence").rglob("static-kernel-*.json"))),
]
REPLACEMENTS = [None, True, 0, -1, 1, 2.5, 10**20, "", "x", "sm_90", [], [1], {}, {"a": 1}]


def _reference(schema: str, document: Any) -> bool:
    return Draft202012Validator(json.loads((SCHEMAS / schema).read_text(encoding="utf-8"))).is_valid(document)


def _places(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``document``, the document itself included."""
    places = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            places += _places(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            places += _places(value, (*path, index))
    return places


def _mutated(document: Any, path: tuple[Any, ...], how: str, replacement: Any) -> Any:
    document = copy.deepcopy(document)
    if not path:
        return replacement
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if how == "remove":
        del parent[path[-1]]
    elif how == "add" and isinstance(parent[path[-1]], dict):
        parent[path[-1]]["unknown_field"] = replacement
    else:
        parent[path[-1]] = replacement
    return document


def test_there_is_a_document_of_every_evidence_schema() -> None:
    assert {schema for schema, _ in DOCUMENTS} == {path.name for path in SCHEMAS.glob("*-evidence.schema.json")}
    assert len(DOCUMENTS) >= 7  # eval, bench and the five static-kernel documents of kernel-builder-cuda


@pytest.mark.parametrize(("schema", "path"), DOCUMENTS, ids=lambda item: getattr(item, "name", item))
def test_the_shipped_documents_are_valid_for_both(schema: str, path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert _reference(schema, document)
    assert schemacheck.errors(SCHEMAS / schema, document) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_mutation_gets_the_reference_verdict(data: st.DataObject) -> None:
    schema, path = data.draw(st.sampled_from(DOCUMENTS), label="document")
    document = json.loads(path.read_text(encoding="utf-8"))
    place = data.draw(st.sampled_from(_places(document)), label="place")
    how = data.draw(st.sampled_from(["remove", "replace", "add"] if place else ["replace"]), label="how")
    mutated = _mutated(document, place, how, data.draw(st.sampled_from(REPLACEMENTS), label="value"))
    found = schemacheck.errors(SCHEMAS / schema, mutated)
    assert (found == []) == _reference(schema, mutated)


def test_errors_say_where_and_what_in_order() -> None:
    document = json.loads((ROOT / "tests" / "assets" / "attest" / "eval-evidence.json").read_text(encoding="utf-8"))
    document["models"][0]["with_skill"]["pass_rate"] = 2
    del document["models"][0]["lift"]
    found = schemacheck.errors(SCHEMAS / "eval-evidence.schema.json", document)
    assert [(error.where(), error.message) for error in found] == [
        ("models.0", '"lift" is a required property'),
        ("models.0.with_skill.pass_rate", "2 is greater than the maximum of 1"),
    ]
    assert found[0].where("/") == "models/0"
    assert schemacheck.SchemaError((), "x").where("/", "(root)") == "(root)"


def test_a_missing_unreadable_or_invalid_schema_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(schemacheck.SchemaUnusable, match="is missing"):
        schemacheck.errors(tmp_path / "absent.schema.json", {})
    (tmp_path / "broken.schema.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(schemacheck.SchemaUnusable, match="cannot read the schema"):
        schemacheck.errors(tmp_path / "broken.schema.json", {})
    (tmp_path / "wrong.schema.json").write_text(json.dumps({"$schema": Draft202012Validator.META_SCHEMA["$id"],
                                                            "type": 12}), encoding="utf-8")
    with pytest.raises(schemacheck.SchemaUnusable, match="is itself invalid: 12 is not valid"):
        schemacheck.errors(tmp_path / "wrong.schema.json", {})


@pytest.mark.parametrize("depth", [300, 600])
def test_a_document_nested_too_deeply_to_check_breaks_the_schema_and_raises_nothing(depth: int) -> None:
    """jsonschema-rs stops at a few hundred levels (json.loads reads up to ~1000): a hostile predicate
    nested that deep is a failed check, not a crash of verify, info or install."""
    document = json.loads((ROOT / "tests" / "assets" / "attest" / "eval-evidence.json").read_text(encoding="utf-8"))
    document["models"] = json.loads("[" * depth + "]" * depth)
    found = schemacheck.errors(SCHEMAS / "eval-evidence.schema.json", document)
    assert found == [schemacheck.SchemaError((), "cannot be checked: Recursion limit reached", "unchecked")]
    assert found[0].where() == "(top)"


def test_a_value_json_has_no_type_for_breaks_the_schema_and_raises_nothing() -> None:
    found = schemacheck.errors(SCHEMAS / "bench-evidence.schema.json", {"created": object()})
    assert len(found) == 1 and found[0].message.startswith("cannot be checked: Unsupported type")


@pytest.mark.parametrize("key", ["00", "007", "0", "12"])
def test_a_property_name_of_digits_is_reported_as_spelled(tmp_path: Path, key: str) -> None:
    """jsonschema-rs (0.61) gives a property name of digits as the number it reads as ("00" as 0), so a
    skill_meta.json problem under validator_config's "00" was reported at "0" (found by a property test)."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "additionalProperties": {"type": "object",
                                                                         "additionalProperties": {"type": "string"}}}))
    (error,) = schemacheck.errors(schema, {"config": {key: None, "x": "ok"}})
    assert error.path == ("config", key)


# --- jsonschema-rs without email.utils (schemacheck._jsonschema_rs) -------------------------------------------

_CHECK = (
    "import sys\nfrom pathlib import Path\nfrom skillpm import schemacheck\n"
    "{before}\n"
    "found = schemacheck.errors(Path({schema!r}), {{'x': 1}})\n"
    "assert any(error.keyword == 'required' for error in found), found\n"
    "loaded = 'email.utils' in sys.modules\n"
    "from email import utils\n"
    "assert utils.formatdate(0).startswith('Thu, 01 Jan 1970'), 'the real email.utils once asked for'\n"
    "import jsonschema_rs.jsonschema_rs as extension\n"
    "print(loaded, type(extension.__build__['info-time']).__name__)\n"
)


def _check_in_a_new_interpreter(before: str = "") -> list[str]:
    """Check a document in a fresh interpreter after ``before``: whether email.utils was loaded by then,
    and the type of jsonschema-rs's build date."""
    code = _CHECK.format(before=before, schema=str(SCHEMAS / "manifest.schema.json"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_jsonschema_rs_loads_without_email_utils_which_stays_importable() -> None:
    assert _check_in_a_new_interpreter() == ["False", "str"]


def test_an_email_utils_loaded_already_is_the_one_jsonschema_rs_gets() -> None:
    assert _check_in_a_new_interpreter("import email.utils") == ["True", "datetime"]


def test_with_another_thread_running_jsonschema_rs_is_imported_the_ordinary_way() -> None:
    """Another thread could import email.utils while the stand-in is in sys.modules, and get it."""
    before = "import threading\nstop = threading.Event()\nthreading.Thread(target=stop.wait, daemon=True).start()"
    assert _check_in_a_new_interpreter(before) == ["True", "datetime"]


def test_a_jsonschema_rs_wanting_more_of_email_utils_is_imported_the_ordinary_way() -> None:
    assert _check_in_a_new_interpreter("schemacheck._STAND_IN = {}") == ["True", "datetime"]
