"""--offline with attestations: bundles are cached by sha256 beside the archives, so attested variants install offline."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from skillpm.registry.serve import make_server, server_url
from test_install_policy import NAME, base  # noqa: F401  (the signed registry, built once)
from test_publish import skillpm


def test_an_attested_variant_installs_offline_after_one_online_install(isolated, base: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    import threading

    root = Path(shutil.copytree(base["root"], tmp_path / "registry"))
    server = make_server(root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = server_url(server)
    trusted = ("--trusted-key", str(base["pub"]), "--require-attestations")
    try:
        online = skillpm("install", NAME, "--registry", url, "--arch", "12.0", *trusted)
        assert online.exit_code == 0, online.output
    finally:  # stopped whatever happened: what follows runs with the server gone
        server.shutdown()
        server.server_close()
    offline = skillpm("install", NAME, "--registry", url, "--arch", "12.0", "--offline", "--dir", "elsewhere", *trusted)
    assert offline.exit_code == 0, offline.output
    assert (isolated.project / "elsewhere" / NAME / "SKILL.md").is_file()
    verified = skillpm("verify", NAME, "--registry", url, "--target", "generic", "--offline", "--key", str(base["pub"]))
    assert verified.exit_code == 0, verified.output  # the archive comes from the cache, checked by its digest
    assert "FAIL" not in verified.stdout
