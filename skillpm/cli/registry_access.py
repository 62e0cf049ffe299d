"""``skillpm registry login/logout``: the token a private registry needs, kept with mode 0600."""

from __future__ import annotations

import sys

import click

from skillpm.cli.common import json_option
from skillpm.cli.output import report


@click.command()
@click.argument("name")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input (for scripts and CI).")
@json_option
def login(name: str, token_stdin: bool, as_json: bool) -> None:
    """Keep a bearer token for the configured registry NAME.

    \b
    skillpm registry add-remote team https://skills.example.org/registry
    skillpm registry login team                        # asks for the token, not echoed
    printf %s "$TOKEN" | skillpm registry login team --token-stdin

    The token goes to credentials.toml in skillpm's config folder (mode 0600) and is sent
    only to NAME's host. $SKILLPM_TOKEN_<NAME> overrides it; without either, a ~/.netrc
    entry for the host is used.
    """
    from skillpm.errors import RegistryError
    from skillpm.registry.config import find_registry
    from skillpm.registry.credentials import check_token, store_token, token_variable

    remote = find_registry(name)
    if remote is None:
        raise RegistryError(f"no registry named {name!r} is configured",
                            hint=f"add it first: 'skillpm registry add-remote {name} URL'")
    if sys.stdin is None:  # started with stdin closed (<&-), as some CI runners and daemons start commands
        raise RegistryError("there is no standard input to read the token from",
                            hint=f"pipe it in with --token-stdin, or set {token_variable(remote.name)}")
    if token_stdin or not sys.stdin.isatty():
        token = sys.stdin.readline(8192).strip()
    else:
        token = click.prompt(f"token for {remote.name} ({remote.url})", hide_input=True, err=True).strip()
    path = store_token(remote.name, check_token(token))
    report(as_json, {"registry": remote.name, "url": remote.url, "credentials": str(path)},
           f"stored the token for {remote.name} in {path} (mode 0600); {token_variable(remote.name)} overrides it")


@click.command()
@click.argument("name")
@json_option
def logout(name: str, as_json: bool) -> None:
    """Forget the token kept for registry NAME."""
    from skillpm.registry.credentials import credentials_path, forget_token

    forgotten = forget_token(name)
    text = f"forgot the token for {name}" if forgotten else f"no token was kept for {name} in {credentials_path()}"
    report(as_json, {"registry": name, "forgotten": forgotten}, text)
