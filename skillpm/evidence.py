"""What every evidence document (eval, bench) names: the variant artifact it was measured on."""

from __future__ import annotations

import json
from typing import Any, Mapping

from skillpm.records import Record


class SkillRef(Record):
    """A package version's variant and its archive's sha256, as ``skillpm pack`` builds it."""

    name: str
    version: str
    target: str
    artifact_sha256: str

    def to_json(self) -> dict[str, str]:
        return self._asdict()


def evidence_bytes(document: Mapping[str, Any], *, sort_keys: bool) -> bytes:
    """An evidence file's bytes: indented JSON and one trailing newline.

    ValueError when a number is NaN or infinite: no evidence may hold one (it would
    compare as passing, or be read as a measurement that was never made).
    """
    try:
        text = json.dumps(document, indent=2, sort_keys=sort_keys, allow_nan=False)
    except ValueError:
        raise ValueError("the evidence holds a number that is NaN or infinite") from None
    return (text + "\n").encode()
