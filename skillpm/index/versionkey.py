"""PEP 440 order in a few hundred bytes: a version's key, equal and ordered as packaging's ``Version`` (pure logic).

packaging's ``Version`` keeps each part of a local label (``1.0+a.b.c``) as a tuple of its own: a version of
128 characters costs kilobytes once compared, and a registry's tag list may name 100,000 of them. What orders
versions by the thousand (a tag list, a package's versions) keeps this key instead, with the local label as one
string whose order is PEP 440's order of labels.
"""

from __future__ import annotations

import functools
import re

from packaging.version import InvalidVersion, Version

from skillpm.records import Record

_INFINITY = float("inf")  # ints compare with it exactly, however long
#: A pre-release's phase, as packaging orders it: a dev release of no other kind first, a final release last.
_PHASES = {"a": 1, "b": 2, "rc": 3}
_DEV_ONLY, _NO_PRE = 0, 4


@functools.cache
def _label_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A local label as PEP 440's grammar reads it (ASCII letters in either case, as packaging reads them) with
    whitespace after the version, and what separates its parts: compiled when a version first has a label."""
    return re.compile(r"([a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*)\s*"), re.compile(r"[-_.]")


class VersionKey(Record):
    """A version as PEP 440 compares it (``1.0 == 1.0.0``, ``1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1 < 1.0+local``)."""

    epoch: int
    release: tuple[int, ...]  # without trailing zeros
    phase: int  # _DEV_ONLY, a pre-release's (_PHASES), or _NO_PRE
    pre: int  # the pre-release's number, else 0
    post: int | float  # -inf: none
    dev: int | float  # inf: none
    local: str  # "": none; else _local_order of the label

    @property
    def is_local(self) -> bool:
        """Whether the version has a local label (``+label``)."""
        return bool(self.local)

    @property
    def is_prerelease(self) -> bool:
        """Whether the version is a pre- or dev release, as packaging's ``Version.is_prerelease`` says."""
        return self.dev != _INFINITY or self.phase in _PHASES.values()


def version_key(text: str) -> VersionKey:
    """The key of the version ``text`` spells; ValueError when it is no PEP 440 version (packaging's
    ``InvalidVersion``, or a number longer than ``int()`` takes).

    packaging reads all but the local label, whose parts it would keep: the label is checked against PEP 440's
    grammar for it here, as packaging checks it (ASCII letters in either case, ``-``, ``_`` or ``.`` between parts).
    """
    public, plus, label = text.partition("+")
    label_match = _label_patterns()[0].fullmatch(label) if plus else None
    if plus and (label_match is None or public[-1:].isspace()):
        raise InvalidVersion(f"Invalid version: {text!r}")
    version = Version(public)
    release = version.release
    while release and release[-1] == 0:
        release = release[:-1]
    if version.pre is not None:
        phase, pre = _PHASES[version.pre[0]], version.pre[1]
    else:
        phase, pre = (_DEV_ONLY if version.post is None and version.dev is not None else _NO_PRE), 0
    return VersionKey(
        version.epoch, release, phase, pre,
        -_INFINITY if version.post is None else version.post,
        _INFINITY if version.dev is None else version.dev,
        "" if label_match is None else _local_order(label_match[1]),
    )


def _local_order(label: str) -> str:
    """``label`` as a string whose order is PEP 440's: part by part (parts are joined by ``-``, ``_`` or ``.``),
    a word before a number, words alphabetically in lower case, numbers by value, a label before a longer one it
    begins. A word is ``\x01``, itself, ``\x00``; a number ``\x02``, its digit count as one character, its
    digits without leading zeros."""
    return "".join(f"\x02{chr(len(number))}{number}" if (number := part.lstrip("0") or "0").isdigit()
                   else f"\x01{part}\x00" for part in _label_patterns()[1].split(label.lower()))
