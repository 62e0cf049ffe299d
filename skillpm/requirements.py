"""Package requirements such as ``kernel-builder-cuda>=0.2,<1`` (pure logic)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping

from skillpm.errors import RequirementError
from skillpm.records import Record

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from skillpm.index.versionkey import VersionKey

#: Index versions are at most 256 characters (skillpm.index.model); a specifier may list several.
MAX_SPECIFIER_LENGTH = 1024
#: A name as people type it: ASCII letters and digits in runs joined by ``-``, ``_`` or ``.``, maybe
#: with a trailing ``/`` (tab completion of a folder of that name). Not ``[a-z]`` with IGNORECASE:
#: that matches the Kelvin sign and the long s, which lower() makes ``k`` and ``s`` of.
_REQUIREMENT_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9]+(?:[-_.]+[A-Za-z0-9]+)*)/?\s*(?P<spec>.*?)\s*")
_SEPARATORS_RE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """The package name ``name`` means: separators and case as PEP 503 normalises them, a trailing ``/`` dropped.

    ``Kernel_Builder.CUDA`` and ``kernel-builder-cuda/`` are ``kernel-builder-cuda``.
    """
    return _SEPARATORS_RE.sub("-", name.rstrip("/")).lower()


class Requirement(Record):
    """A package name and the versions of it that are acceptable."""

    name: str
    specifier: SpecifierSet | None  # None: any version

    @property
    def pinned_version(self) -> str | None:
        """The version when the specifier is one exact ``==`` pin, else ``None``."""
        specs = list(self.specifier or ())
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None

    def filter(self, versions: Mapping[str, VersionKey]) -> list[str]:
        """Those of ``versions`` (each as spelt, with its key) this requirement accepts, under PEP 440's
        pre-release rules.

        Without a specifier this is packaging's rule for an empty ``SpecifierSet``:
        the final releases, or the pre-releases when there is no final release. It
        is spelled out here so that a bare name does not import packaging.specifiers,
        which costs more start-up time than the rest of ``skillpm resolve``.
        """
        if self.specifier is not None:
            return list(self.specifier.filter(versions))
        return [spelt for spelt, key in versions.items() if not key.is_prerelease] or list(versions)

    def __str__(self) -> str:
        return f"{self.name}{self.specifier or ''}"


def _shown(text: str) -> str:
    """``text`` quoted, and spelled in ASCII too when it is not: a letter that looks like ``k`` may not be one."""
    return repr(text) if text.isascii() else f"{text!r} ({ascii(text)}: names are ASCII)"


def parse_requirement(text: str) -> Requirement:
    """Parse ``NAME`` or ``NAME<specifier>``, e.g. ``kernel-builder-cuda==0.1.0``; the name normalised."""
    match = _REQUIREMENT_RE.fullmatch(text)
    if match is None:
        raise RequirementError(
            f"invalid requirement {_shown(text)}",
            hint="write NAME or NAME followed by a PEP 440 specifier, e.g. kernel-builder-cuda>=0.1",
        )
    spec = match["spec"]
    if not spec:
        return Requirement(normalize_name(match["name"]), None)
    if len(spec) > MAX_SPECIFIER_LENGTH:
        raise RequirementError(
            f"version specifier in {text[:40]!r}... is too long ({len(spec)} characters; "
            f"at most {MAX_SPECIFIER_LENGTH})"
        )
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        raise RequirementError(
            f"invalid version specifier {spec!r} in {_shown(text)}",
            hint="use PEP 440 specifiers such as ==0.1.0, >=0.1,<1 or ~=0.1",
        ) from None
    return Requirement(normalize_name(match["name"]), specifier)
