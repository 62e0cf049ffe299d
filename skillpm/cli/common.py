"""Options shared by several commands, and choosing the GPU a command resolves for."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from skillpm.cli.output import notice

if TYPE_CHECKING:
    from skillpm.targets import Capability

json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON document instead of text.")
registry_option = click.option(
    "--registry",
    metavar="DIR|URL",
    envvar="SKILLPM_REGISTRY",
    help="Registry to read: a directory or file:// URL. Default: $SKILLPM_REGISTRY, else the one built in.",
)
arch_option = click.option(
    "--arch",
    metavar="ARCH",
    envvar="SKILLPM_ARCH",
    help="GPU to resolve for: 9.0, 90, sm_90, sm_90a or a name (a100, h100, b200, l4...). "
    "Default: $SKILLPM_ARCH, else this machine's GPU.",
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
