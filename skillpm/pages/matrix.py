"""The target matrix: which variant of a version ``install`` picks for each GPU.

Pure. One row per compute capability a GPU has (:data:`skillpm.targets.KNOWN_CAPABILITIES`),
newest first, with the GPUs of that capability, then a row for a machine without an NVIDIA GPU.
The choice is :func:`skillpm.targets.best_target`, the rule ``install`` itself follows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from skillpm.gpu_names import GPU_CAPABILITIES
from skillpm.records import Record
from skillpm.targets import KNOWN_CAPABILITIES
from skillpm.index.model import VersionEntry
from skillpm.targets import Capability, best_target, match_kind, parse_target

#: Words of a product key written apart from the number that follows them (``rtx4090`` -> ``RTX 4090``).
_SPACED_PREFIXES = ("rtxpro", "rtx", "gtx", "titan", "jetson", "dgx", "agx")
_WORD_RE = re.compile(r"[a-z]+|[0-9]+")


class Row(Record):
    """One line of the matrix: a capability (``None``: no NVIDIA GPU), its GPUs, the variant chosen."""

    capability: Capability | None
    gpus: tuple[str, ...]
    target: str | None  # None: no variant runs there
    how: str


def gpu_label(key: str) -> str:
    """A product key of :data:`GPU_CAPABILITIES` as people write it: ``rtx4090`` -> ``RTX 4090``."""
    for prefix in _SPACED_PREFIXES:
        if key.startswith(prefix) and key != prefix:
            rest = key[len(prefix):]
            return f"{prefix.upper()} {gpu_label(rest) if rest[0].isalpha() else rest.upper()}"
    return key.upper()


@lru_cache(maxsize=1)
def gpus_by_capability() -> dict[tuple[int, int], tuple[str, ...]]:
    """Every capability's GPU names, in the order :data:`GPU_CAPABILITIES` lists them."""
    names: dict[tuple[int, int], list[str]] = {}
    for key, capability in GPU_CAPABILITIES.items():
        names.setdefault(capability, []).append(gpu_label(key))
    return {capability: tuple(found) for capability, found in names.items()}


def rows(entry: VersionEntry) -> tuple[Row, ...]:
    """The matrix of ``entry``'s variants that are not yanked (``install`` passes yanked ones over)."""
    return _rows(tuple(sorted(variant.target for variant in entry.variants if not variant.yanked)))


@lru_cache(maxsize=256)  # most packages of a registry share a handful of target sets
def _rows(targets: tuple[str, ...]) -> tuple[Row, ...]:
    gpus = gpus_by_capability()
    found = []
    for major, minor in reversed(KNOWN_CAPABILITIES):
        capability = Capability(major, minor)
        chosen = best_target(targets, capability)
        how = match_kind(parse_target(chosen), capability) if chosen else "no variant runs on this GPU"
        found.append(Row(capability, gpus.get((major, minor), ()), chosen, how))
    chosen = best_target(targets, None)
    found.append(Row(None, (), chosen, "generic, runs anywhere" if chosen else "no generic variant"))
    return tuple(found)


def install_arch(entry: VersionEntry, target: str) -> str | None:
    """An ``--arch`` value for which ``install`` picks ``target``; ``None`` when no GPU gets it.

    The target's own capability when it is chosen there, else the newest GPU that gets it;
    ``""`` for a variant chosen only where there is no NVIDIA GPU (install it without ``--arch``).
    """
    every = rows(entry)
    chosen = [row for row in every if row.target == target]
    if not chosen:
        return None
    if len(chosen) == len(every):
        return ""  # the only variant anyone gets
    own = target != "generic" and next((row for row in chosen if row.capability == parse_target(target).capability), None)
    row = own or chosen[0]
    return "" if row.capability is None else str(row.capability)
