"""What every evidence document (eval, bench) names: the variant artifact it was measured on."""

from __future__ import annotations

from typing import NamedTuple


class SkillRef(NamedTuple):
    """A package version's variant and its archive's sha256, as ``skillpm pack`` builds it."""

    name: str
    version: str
    target: str
    artifact_sha256: str

    def to_json(self) -> dict[str, str]:
        return self._asdict()
