"""The evidence document of an evaluation (``schemas/eval-evidence.schema.json``).

Pure. The document is self-contained: it names the artifact (by the sha256 of the archive
``skillpm pack`` builds), the test set (by digest), the endpoint (kind and host, never a
key or a path), the settings and each model's counts, so it can be signed as it is.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Mapping

from skillpm.evidence import SkillRef
from skillpm.records import Record

if TYPE_CHECKING:
    from skillpm.evaluation.stats import ModelResult

SCHEMA_URI = "https://skillpm.dev/evidence/eval/v1"
SCHEMA_ID = "https://skillpm.dev/schemas/eval-evidence.schema.json"


class TestSet(Record):
    """The test cases run: their digest, how many, and how many checks of each kind."""

    __test__ = False  # not a pytest class

    digest: str
    count: int
    checks: Mapping[str, int]

    def to_json(self) -> dict[str, object]:
        return {"digest": self.digest, "count": self.count, "checks": dict(sorted(self.checks.items()))}


def evidence_filename(skill: SkillRef) -> str:
    """The default file name: ``eval-<name>-<version>-<target>.json``."""
    return f"eval-{skill.name}-{skill.version}-{skill.target}.json"


def build_evidence(
    *,
    skill: SkillRef,
    test_set: TestSet,
    endpoint_kind: str,
    endpoint_host: str | None,
    trials: int,
    parameters: Mapping[str, object],
    results: Iterable[ModelResult],
    created: datetime,
    tool_version: str,
) -> dict[str, object]:
    """The evidence document; ``created`` must be timezone-aware (it is written in UTC)."""
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    return {
        "schema": SCHEMA_URI,
        "skill": skill.to_json(),
        "test_set": test_set.to_json(),
        "endpoint": {"kind": endpoint_kind, "host": endpoint_host},
        "trials": trials,
        "parameters": dict(parameters),
        "models": [result.to_json() for result in results],
        "created": created.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tool": {"name": "skillpm", "version": tool_version},
    }
