"""Editing the configured registries: ``skillpm registry add-remote`` and ``remove``.

Above :mod:`skillpm.registry.factory`, which canonicalises an added registry's
address; reading the configuration is :mod:`skillpm.registry.config`, below it.
"""

from __future__ import annotations

from pathlib import Path

from skillpm.errors import RegistryError
from skillpm.registry.config import RemoteRegistry, config_path, load_registries
from skillpm.registry.factory import registry_label


def add_registry(
    name: str, url: str, *, priority: int = 0, plain_http: bool = False, path: Path | None = None
) -> RemoteRegistry:
    """Configure a new registry at ``url`` (a URL or a directory); RegistryError when ``name`` is taken.

    What is stored is the registry's canonical address (a directory becomes an absolute
    ``file://`` URL), so the configuration means the same from every folder. ``plain_http``
    lets an ``oci://`` registry on another host be spoken to without TLS.
    """
    path = path or config_path()
    added = RemoteRegistry(name, registry_label(url), priority, plain_http)
    with _locked(path):
        registries = load_registries(path)
        if any(registry.name == name for registry in registries):
            raise RegistryError(
                f"a registry named {name!r} is already configured in {path}",
                hint=f"remove it first with 'skillpm registry remove {name}'",
            )
        _write(path, [*registries, added])
    return added


def remove_registry(name: str, *, path: Path | None = None) -> RemoteRegistry:
    """Forget the configured registry ``name``; RegistryError when there is none."""
    path = path or config_path()
    with _locked(path):
        registries = load_registries(path)
        removed = next((registry for registry in registries if registry.name == name), None)
        if removed is None:
            raise RegistryError(
                f"no registry named {name!r} is configured in {path}", hint="see 'skillpm registry list'"
            )
        _write(path, [registry for registry in registries if registry is not removed])
    return removed


def _locked(path: Path):
    from skillpm.locks import lock_for

    return lock_for(path)


def _write(path: Path, registries: list[RemoteRegistry]) -> None:
    import tomli_w

    from skillpm.atomic import atomic_write

    header = "# skillpm registries: 'skillpm registry add-remote/remove' edit this file.\n"
    document = {"registry": [registry.to_toml() for registry in registries]}
    atomic_write(path, (header + tomli_w.dumps(document)).encode())
