"""What this user saw of each HTTP registry when it was last read online: signed or unsigned.

Offline, an HTTP registry is read from the index cache, which others may write (a shared CI
cache, a restored cache key): a planted ``config.json`` without ``index-keys`` would make a
signed registry whose key is not pinned read as unsigned, its cache (the planter's documents)
its only authority. So the user's data folder, not the cache, keeps one small record per
registry, written online and forgotten by ``registry trust --forget``; offline a cached registry
is read as unsigned only when its record says it was seen unsigned. A signed registry read
offline needs its key pinned (:mod:`skillpm.registry.trust`). The embedded registry and local folders are not cached and
never come here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from skillpm.errors import RegistryUnreachable

#: The most bytes of a record read (one is about 100): anything longer is no record.
MAX_RECORD = 4096


def seen_root() -> Path:
    """Where the records are kept: the user's data dir, beside the trust records."""
    from skillpm.userdirs import user_path

    return user_path("data") / "index-seen"


def _path(label: str, root: Path | None) -> Path:
    from skillpm.cache import registry_key

    return (root or seen_root()) / f"{registry_key(label)}.json"


def recorded(label: str, root: Path | None = None) -> bool | None:
    """Whether ``label`` was signed when last read online; ``None`` without a usable record (a broken one is none)."""
    from skillpm.jsonfile import read_json

    try:
        data = read_json(_path(label, root), MAX_RECORD)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("registry") != label or not isinstance(data.get("signed"), bool):
        return None
    return data["signed"]


def record(label: str, signed: bool, root: Path | None = None) -> None:
    """Remember that ``label`` was read online, signed or not (atomically, readable by this user alone).

    A data folder that cannot take the record fails no command: offline reads are then refused.
    """
    if recorded(label, root) is signed:
        return
    from skillpm.atomic import atomic_write

    path = _path(label, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"registry": label, "signed": signed}).encode() + b"\n", mode=0o600)
    except OSError:
        pass


def forget(label: str, root: Path | None = None) -> bool:
    """Forget how ``label`` was last read online (its one record goes at once); whether there was a record.

    Offline, the registry is then refused as one never read online, until it is read online again.
    """
    try:
        _path(label, root).unlink()
    except FileNotFoundError:
        return False
    return True


def sighting(label: str, *, offline: bool) -> Callable[[bool], None]:
    """What the index guard of the HTTP registry ``label`` calls once it knows whether the index is signed.

    Online it records the answer. Offline, where the answer came from the cache, an unsigned
    index is refused unless the record says the registry was seen unsigned online.
    """

    def seen(signed: bool) -> None:
        if not offline:
            record(label, signed)
        elif not signed and recorded(label) is not False:
            raise RegistryUnreachable(
                f"offline: {label} was never read online as an unsigned registry, and its index cache is no "
                "authority for that; refusing the cache",
                hint=f"run the command once without --offline, or, if the registry is signed, pin the key its "
                f"owner gave you: 'skillpm registry trust {label} --index-key KEY.pub'",
            )

    return seen
