"""A real OCI registry for the tests: Debian's ``docker-registry`` (CNCF distribution 2.8) on 127.0.0.1.

Each test gets its own registry process and a temporary storage folder. ``oci_registry``
speaks plain HTTP; ``oci_registry_tls`` speaks TLS with a self-signed certificate (trusted
through ``SSL_CERT_FILE``) and asks for htpasswd basic auth. When ``docker-registry`` (or, for
TLS, ``htpasswd`` from apache2-utils) is not installed, the tests skip and say so:
``.ci/install-test-deps`` installs both.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tls_helpers import self_signed

REGISTRY = shutil.which("docker-registry")
HTPASSWD = shutil.which("htpasswd")
USER, PASSWORD = "skill-publisher", "correct horse battery staple"


@dataclass
class RunningRegistry:
    """A registry process: its ``host:port``, storage folder and log."""

    host: str
    storage: Path
    log: Path
    process: subprocess.Popen
    tls: bool = False

    def stop(self) -> None:
        """Stop the registry at once (a registry that goes away)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start the registry again on the same address and storage."""
        self.stop()
        self.process = _spawn(self.storage.parent / "config.yml", self.log)
        _wait_until_up(self, tls=self.tls, cert=self.storage.parent / "registry.crt")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(folder: Path, *, tls: bool) -> RunningRegistry:
    if REGISTRY is None:
        pytest.skip("docker-registry (Debian package) is not installed: .ci/install-test-deps installs it")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    lines = [
        "version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
        f"    rootdirectory: {folder / 'storage'}", "  delete:", "    enabled: true",
        "http:", f"  addr: 127.0.0.1:{port}",
    ]
    if tls:
        if HTPASSWD is None:
            pytest.skip("htpasswd (apache2-utils) is not installed: .ci/install-test-deps installs it")
        cert, key = self_signed(folder, "registry")
        subprocess.run([HTPASSWD, "-Bbc", str(folder / "htpasswd"), USER, PASSWORD], check=True,
                       capture_output=True, timeout=30)
        lines += ["  tls:", f"    certificate: {cert}", f"    key: {key}",
                  "auth:", "  htpasswd:", "    realm: skillpm-test", f"    path: {folder / 'htpasswd'}"]
    config = folder / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = folder / "registry.log"
    running = RunningRegistry(f"127.0.0.1:{port}", folder / "storage", log, _spawn(config, log), tls)
    _wait_until_up(running, tls=tls, cert=folder / "registry.crt")
    return running


def _spawn(config: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as sink:
        return subprocess.Popen([str(REGISTRY), "serve", str(config)], stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_until_up(running: RunningRegistry, *, tls: bool, cert: Path) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(cert)) if tls else None
    url = f"{'https' if tls else 'http'}://{running.host}/v2/"
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if running.process.poll() is not None:
            pytest.fail(f"docker-registry exited: {running.log.read_text(errors='replace')[-500:]}")
        try:
            urllib.request.urlopen(url, timeout=2, context=context)  # noqa: S310 - a loopback test server
            return
        except urllib.error.HTTPError:
            return  # 401 from an authenticated registry: it is up
        except OSError:
            time.sleep(0.05)
    running.stop()
    pytest.fail("docker-registry did not answer within 30 s")


@pytest.fixture
def oci_registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """A plain-HTTP registry on 127.0.0.1 without authentication."""
    running = _start(tmp_path / "oci-registry", tls=False)
    yield running
    running.stop()


@pytest.fixture
def oci_registry_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningRegistry]:
    """A TLS registry on 127.0.0.1 (certificate trusted through SSL_CERT_FILE) with htpasswd auth."""
    running = _start(tmp_path / "oci-registry-tls", tls=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(running.storage.parent / "registry.crt"))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    yield running
    running.stop()


def login_env(host: str) -> dict[str, str]:
    """The environment variables that give skillpm the test registry's credentials, for ``host`` alone."""
    return {"SKILLPM_OCI_USERNAME": USER, "SKILLPM_OCI_PASSWORD": PASSWORD, "SKILLPM_OCI_HOST": host}

