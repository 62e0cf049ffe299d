"""Private HTTPS-style registries: a bearer token per registry (login, environment), ~/.netrc, and
credentials that go nowhere else: not to another host, not into skills.lock, the cache or the output."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import subprocess

import pytest
import test_http_server
from conftest import _console_script

from skillpm.registry.credentials import credentials_path

Served = test_http_server.Served
served = test_http_server.served  # the fixtures, shared
fast_retries = test_http_server.fast_retries

KERNEL = "kernel-helper"
TOKEN = "s3cr3t-t0ken-for-team"


@pytest.fixture
def private(served: Served, run_cli, isolated) -> Served:
    """The test registry behind a server that wants ``Bearer TOKEN``, configured as ``team``."""
    served.script.authorization = f"Bearer {TOKEN}"
    assert run_cli("registry", "add-remote", "team", served.url).exit_code == 0
    return served


def skillpm(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script (errors as users see them), in this test's environment."""
    return subprocess.run([_console_script(), *args], input=input, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})


def refused(result: subprocess.CompletedProcess[str], phrase: str) -> str:
    """One ``error:`` line (and a hint) holding ``phrase``, no traceback, non-zero exit; the stderr."""
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ") and phrase in lines[0], result.stderr
    assert len(lines) <= 2, result.stderr
    return result.stderr


def everything_written(*roots: Path) -> bytes:
    return b"".join(path.read_bytes() for root in roots if root.exists() for path in root.rglob("*") if path.is_file())


def test_without_credentials_the_error_says_how_to_log_in(private: Served, run_cli, isolated) -> None:
    stderr = refused(skillpm("install", KERNEL, "--arch", "9.0", "--registry", "team"), "needs credentials")
    assert "skillpm registry login team" in stderr and "SKILLPM_TOKEN_TEAM" in stderr


def test_login_keeps_the_token_private_and_install_uses_it(private: Served, run_cli, isolated) -> None:
    login = run_cli("registry", "login", "team", "--token-stdin", input=f"{TOKEN}\n")
    assert login.exit_code == 0, login.stderr
    assert TOKEN not in login.stdout + login.stderr
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
    result = run_cli("-v", "install", KERNEL, "--arch", "9.0", "--registry", "team")
    assert result.exit_code == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    written = everything_written(isolated.project, isolated.cache)
    assert TOKEN.encode() not in written  # not in skills.lock, the installed tree or the index cache
    assert private.url.encode() in isolated.lockfile.read_bytes()  # the lockfile names the URL, never a secret
    assert all(entry[2].get("authorization") == f"Bearer {TOKEN}" for entry in private.script.log)
    assert run_cli("registry", "logout", "team").exit_code == 0
    assert TOKEN not in credentials_path().read_text()


def test_the_environment_variable_wins_over_the_stored_token(
    private: Served, run_cli, isolated, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("registry", "login", "team", "--token-stdin", input="stale-token\n").exit_code == 0
    monkeypatch.setenv("SKILLPM_TOKEN_TEAM", TOKEN)
    assert run_cli("info", KERNEL, "--registry", "team").exit_code == 0


def test_a_rejected_token_is_named_as_rejected(private: Served, run_cli, isolated, monkeypatch) -> None:
    monkeypatch.setenv("SKILLPM_TOKEN_TEAM", "wr0ng-t0ken")
    stderr = refused(skillpm("info", KERNEL, "--registry", "team"), "refused the credentials")
    assert "wr0ng-t0ken" not in stderr


def _netrc(isolated, text: str) -> None:
    netrc = isolated.home / ".netrc"
    netrc.parent.mkdir(parents=True, exist_ok=True)
    netrc.write_text(text)
    netrc.chmod(0o600)


def test_netrc_gives_basic_auth_for_the_host_of_a_configured_registry(served: Served, run_cli, isolated) -> None:
    served.script.authorization = "Basic " + base64.b64encode(b"alice:pa55").decode()
    _netrc(isolated, "machine 127.0.0.1 login alice password pa55\n")
    assert run_cli("registry", "add-remote", "team", served.url).exit_code == 0
    for registry in ("team", served.url):  # by name, or by its URL
        result = run_cli("info", KERNEL, "--registry", registry)
        assert result.exit_code == 0, result.stderr


def test_a_registry_a_cloned_lockfile_names_gets_no_netrc_credentials(served: Served, run_cli, isolated) -> None:
    """A cloned project's skills.lock names a registry the user never configured (found by a hostile review:
    the netrc 'default' entry, or the 'machine' entry of the host at any port, went with the first request
    of a read-only 'outdated', before the server asked for anything)."""
    assert run_cli("install", KERNEL, "--arch", "9.0", "--registry", served.url).exit_code == 0
    _netrc(isolated, "machine 127.0.0.1 login bob password b0b-s3cret\ndefault login alice password al1ce-s3cret\n")
    served.script.log.clear()
    for command in (("outdated",), ("update",), ("sync", "--force")):
        result = run_cli(*command)
        assert result.exit_code == 0, result.stderr
    assert served.script.log, "the registry was asked nothing"
    assert all("authorization" not in entry[2] for entry in served.script.log), served.script.log


def test_the_netrc_default_entry_goes_to_no_registry(served: Served, run_cli, isolated) -> None:
    """netrc's 'default' names no host: sent to a configured registry, it would go wherever that registry
    moves; only a 'machine' entry for the registry's host is used."""
    served.script.authorization = "Basic " + base64.b64encode(b"alice:pa55").decode()
    _netrc(isolated, "default login alice password pa55\n")
    assert run_cli("registry", "add-remote", "team", served.url).exit_code == 0
    refused(skillpm("info", KERNEL, "--registry", "team"), "needs credentials")


def test_credentials_are_not_sent_to_another_host_on_redirect(private: Served, run_cli, isolated, monkeypatch) -> None:
    """A registry (or whoever controls its redirects) cannot make skillpm hand the token to another origin."""
    monkeypatch.setenv("SKILLPM_TOKEN_TEAM", TOKEN)
    private.fail("kernel-helper.json", "redirect_localhost")
    refused(skillpm("info", KERNEL, "--registry", "team"), "only to the registry itself")
    redirected = [entry for entry in private.script.log if entry[2].get("host", "").startswith("localhost")]
    assert redirected and all("authorization" not in entry[2] for entry in redirected)


def test_a_credentials_file_others_can_read_is_refused(private: Served, run_cli, isolated) -> None:
    assert run_cli("registry", "login", "team", "--token-stdin", input=f"{TOKEN}\n").exit_code == 0
    credentials_path().chmod(0o644)
    assert "chmod 600" in refused(skillpm("info", KERNEL, "--registry", "team"), "can be read by other users")


@pytest.mark.parametrize("token", ["", "two words", "bell\x07token", "x" * 5000])
def test_unusable_tokens_are_refused_without_echoing_them(private: Served, isolated, token: str) -> None:
    stderr = refused(skillpm("registry", "login", "team", "--token-stdin", input=token + "\n"), "the token is")
    assert (token not in stderr) or not token
    assert not credentials_path().exists()


@pytest.mark.parametrize("flags", [(), ("--token-stdin",), ("--json",)], ids=["prompt", "token-stdin", "json"])
def test_login_with_stdin_closed_is_one_line(private: Served, isolated, flags: tuple[str, ...]) -> None:
    """`registry login team <&-` (CI runners and daemons start commands so): Python's sys.stdin is None,
    which ended login in an AttributeError traceback."""
    result = subprocess.run([_console_script(), "registry", "login", "team", *flags], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "NO_COLOR": "1"}, preexec_fn=lambda: os.close(0))
    assert "--token-stdin" in refused(result, "no standard input to read the token from")
    assert not credentials_path().exists()


def test_login_to_an_unconfigured_registry_says_to_add_it(run_cli, isolated) -> None:
    assert "add-remote nowhere" in refused(skillpm("registry", "login", "nowhere", "--token-stdin", input="x\n"),
                                           "no registry named")


def test_credentials_path_is_in_the_user_config_folder(isolated) -> None:
    assert credentials_path().is_relative_to(isolated.home) or os.environ.get("XDG_CONFIG_HOME", "") in str(
        credentials_path()
    )



def test_verbose_never_prints_the_netrc_line_skillpm_kept_out_of_its_error(served: Served, run_cli, isolated) -> None:
    """netrc's parse error quotes the file (a password with spaces is read as tokens); skillpm drops it
    with ``from None``, and -v printed it anyway as a 'cause:' line (found by a hostile review), with
    --json too."""
    _netrc(isolated, "machine 127.0.0.1 login bob password correct horse battery staple\n")
    assert run_cli("registry", "add-remote", "team", served.url).exit_code == 0
    for flags in (("-v",), ("-v", "--json")):
        result = skillpm(flags[0], "info", KERNEL, "--registry", "team", *flags[1:])
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "cannot read" in result.stderr and "line 1" in result.stderr, result.stderr
        assert "horse" not in result.stdout + result.stderr and "cause:" not in result.stderr, result.stderr


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o606], ids=oct)
def test_a_netrc_others_can_read_or_write_is_refused_and_nothing_sent(served: Served, run_cli, isolated, mode) -> None:
    """skillpm passes netrc its path, and Python's netrc checks permissions only for the ~/.netrc it finds
    itself: a netrc any user could read or rewrite had its password sent (found by a hostile review)."""
    _netrc(isolated, "machine 127.0.0.1 login bob password NETRC-S3CRET\n")
    (isolated.home / ".netrc").chmod(mode)
    assert run_cli("registry", "add-remote", "team", served.url).exit_code == 0
    served.script.log.clear()
    stderr = refused(skillpm("info", KERNEL, "--registry", "team"), "can be read or written by other users")
    assert "chmod 600" in stderr and "NETRC-S3CRET" not in stderr
    assert all("authorization" not in entry[2] for entry in served.script.log), served.script.log
