"""Data folders shipped with skillpm: the embedded registry and the JSON Schemas."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """``skillpm/_<name>`` in an installed wheel, else ``<name>/`` of the source checkout."""
    in_wheel = _PACKAGE_DIR / f"_{name}"
    return in_wheel if in_wheel.is_dir() else _PACKAGE_DIR.parent / name
