"""Signing keys and key-based bundles from hostile hands, through the real command line."""

from __future__ import annotations

import base64
import json
import shutil

from test_publish import NAME

from .conftest import Hostile
from .test_trust import Signed, replace_bundle, signed  # noqa: F401 (signed: the fixture)


def test_an_envelope_of_more_than_16_signatures_is_refused(hostile: Hostile, signed: Signed) -> None:
    """Threat: a DSSE envelope held any number of signatures, each tried with every trusted key: a registry
    that padded its bundles with 38,000 copies of a bogus signature cost every verify, info and install of
    the variant 24 s of CPU. At most 16 are read, as of a signed index snapshot."""
    registry = shutil.copytree(signed.root, hostile.work / "registry")
    bundle_path = next(registry.glob("attestations/**/*.sigstore.json"))
    bundle = json.loads(bundle_path.read_text())
    envelope = bundle["dsseEnvelope"]
    envelope["signatures"] = [{"sig": base64.b64encode(bytes(64)).decode()}] * 16 + envelope["signatures"]
    replace_bundle(registry, json.dumps(bundle).encode())
    completed = hostile.run("verify", f"{NAME}==1.0.0", "--registry", registry, "--key", signed.pub, "--json")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    checks = json.loads(completed.stdout)["variants"][0]["attestations"][0]["checks"]
    bundle_check = next(check for check in checks if check["check"] == "bundle")
    assert bundle_check == {"check": "bundle", "ok": False, "required": True,
                            "detail": "DSSE envelope has 17 signatures; at most 16 are read"}


