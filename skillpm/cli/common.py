"""Options shared by several commands, choosing the GPU a command resolves for, and the lockfile it works on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from skillpm.cli.output import notice

if TYPE_CHECKING:
    from skillpm.targets import Capability

F = TypeVar("F", bound=Callable[..., Any])


def _for_this_command(setting: str, value: object) -> Callable[[click.Context, click.Parameter, bool], bool]:
    """An option callback that sets ``registry.settings.settings.<setting>`` until the command ends."""

    def callback(ctx: click.Context, param: click.Parameter, flag: bool) -> bool:
        if flag:
            from skillpm.registry.settings import settings

            before = getattr(settings, setting)
            setattr(settings, setting, value)
            ctx.call_on_close(lambda: setattr(settings, setting, before))
        return flag

    return callback


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=_for_this_command("progress", False),
    help="Print a JSON document instead of text.",
)
_offline_flag = click.option(
    "--offline",
    is_flag=True,
    expose_value=False,
    callback=_for_this_command("offline", True),
    help="Use only cached index documents and archives; fail naming what is not cached ($SKILLPM_OFFLINE=1).",
)


def _network_for_this_command(ctx: click.Context, param: click.Parameter, seconds: float | None) -> float | None:
    """Start the command's clock for ``$SKILLPM_HTTP_DEADLINE``, and set ``--timeout``, until the command ends."""
    import time

    from skillpm.registry.settings import settings

    before = settings.timeout, settings.started
    settings.started = time.monotonic()
    if seconds is not None:
        settings.timeout = seconds
    ctx.call_on_close(lambda: (setattr(settings, "timeout", before[0]), setattr(settings, "started", before[1])))
    return seconds


_timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(0, 24 * 3600, min_open=True),
    metavar="SECONDS",
    expose_value=False,
    callback=_network_for_this_command,
    help="Give up on an HTTP request that has not fully arrived after SECONDS ($SKILLPM_HTTP_TIMEOUT, default 60).",
)


plain_http_option = click.option(
    "--plain-http",
    is_flag=True,
    expose_value=False,
    callback=_for_this_command("plain_http", True),
    help="Speak to an oci:// registry on another host over plain HTTP, without TLS (a loopback one "
    "falls back to it by itself; a configured registry can say 'plain-http = true').",
)


def offline_option(command: F) -> F:
    """``--offline``, ``--timeout`` and ``--plain-http``: whether and how to go online."""
    return _offline_flag(_timeout_option(plain_http_option(command)))

_registry_only = click.option(
    "--registry",
    metavar="DIR|URL|NAME",
    envvar="SKILLPM_REGISTRY",
    help="Registry to read: a directory, a file://, https:// or oci://HOST/NAMESPACE URL, or a name from "
    "'skillpm registry list'. "
    "Default: $SKILLPM_REGISTRY, else the configured registries by priority, then the one built in.",
)


def registry_option(command: F) -> F:
    """``--registry`` and ``--offline``: where to read packages from, and whether to go online."""
    return _registry_only(offline_option(command))


def arch_option(otherwise: str = "this machine's GPU") -> Callable[[F], F]:
    """``--arch``, defaulting to ``$SKILLPM_ARCH``, else to what ``otherwise`` says."""
    return click.option(
        "--arch",
        metavar="ARCH",
        envvar="SKILLPM_ARCH",
        help="GPU to resolve for: 9.0, sm_90a, compute_90, a name (h100, rtx 5090, or what nvidia-smi "
        "prints) or a generation (ampere, ada, hopper, blackwell). "
        f"Default: $SKILLPM_ARCH, else {otherwise}.",
    )


def choose_capability(arch: str | None, *, quiet: bool = False) -> Capability | None:
    """``--arch`` when given, else this machine's GPU; ``None`` (generic only) when there is none."""
    from skillpm.targets import parse_capability

    if arch:
        return parse_capability(arch)
    from skillpm.gpu import detect_gpu

    gpu = detect_gpu()
    if gpu is None:
        if not quiet:
            notice("note: no NVIDIA GPU detected; choosing the generic variant (pass --arch to pick a GPU)")
        return None
    if not quiet:
        notice(f"note: detected {gpu.name} (compute capability {gpu.capability}) via {gpu.source}")
    return gpu.capability


global_option = click.option(
    "--global", "user", is_flag=True, help="Use the user's skills directory and skills.lock, not the project's."
)
allow_outside_option = click.option(
    "--allow-outside",
    is_flag=True,
    help="Change skill directories outside the project after links (a cloned skills.lock, "
    "or a skills folder that is a link, may lead anywhere).",
)

links_within_option = click.option(
    "--links-within",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    metavar="DIR",
    help="Let a file that is a link lead into DIR too (the repository whose shared files the skill "
    "links to): its bytes are packed as a regular file. By default a link must stay inside the skill "
    "folder; never into a .git folder.",
)


def lockfile_path(user: bool) -> Path:
    """The skills.lock a command works on: the user's with ``--global``, else the project's."""
    from skillpm.project import LOCK_NAME, find_project_root, user_lockfile_path

    return user_lockfile_path() if user else find_project_root(Path.cwd()) / LOCK_NAME


def project_lockfile(user: bool) -> Path:
    """:func:`lockfile_path` for commands that work on what is installed: outside any project, an error saying so."""
    from skillpm.errors import InstallError
    from skillpm.project import find_project

    if not user and find_project(Path.cwd()) is None:
        raise InstallError(
            f"no project here: neither {Path.cwd()} nor a folder above it holds skills.lock or .git",
            hint="cd into your project, start one with 'skillpm install NAME', or pass --global for your own skills",
        )
    return lockfile_path(user)
