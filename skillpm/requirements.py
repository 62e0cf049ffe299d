"""Package requirements such as ``kernel-builder-cuda>=0.2,<1`` (pure logic)."""

from __future__ import annotations

import re
from typing import NamedTuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from skillpm.errors import RequirementError

_REQUIREMENT_RE = re.compile(r"\s*(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)\s*(?P<spec>.*?)\s*", re.IGNORECASE)


class Requirement(NamedTuple):
    """A package name and the versions of it that are acceptable."""

    name: str
    specifier: SpecifierSet

    @property
    def pinned_version(self) -> str | None:
        """The version when the specifier is one exact ``==`` pin, else ``None``."""
        specs = list(self.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None

    def __str__(self) -> str:
        return f"{self.name}{self.specifier}"


def parse_requirement(text: str) -> Requirement:
    """Parse ``NAME`` or ``NAME<specifier>``, e.g. ``kernel-builder-cuda==0.1.0``."""
    match = _REQUIREMENT_RE.fullmatch(text)
    if match is None:
        raise RequirementError(
            f"invalid requirement {text!r}",
            hint="write NAME or NAME followed by a PEP 440 specifier, e.g. kernel-builder-cuda>=0.1",
        )
    spec = match["spec"]
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        raise RequirementError(
            f"invalid version specifier {spec!r} in {text!r}",
            hint="use PEP 440 specifiers such as ==0.1.0, >=0.1,<1 or ~=0.1",
        ) from None
    return Requirement(match["name"].lower(), specifier)
