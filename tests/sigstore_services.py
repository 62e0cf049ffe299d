"""The Fulcio and Rekor of a synthetic Sigstore instance (tests/test_attest_keyless.py), served on 127.0.0.1.

They answer as sigstore-python's clients ask (sigstore 4.x, ``sigstore/_internal/fulcio/client.py`` and
``sigstore/_internal/rekor/client.py``): ``POST /api/v2/signingCert`` takes a CSR and answers with a
leaf of its key for the instance's IDENTITY from ISSUER, valid now, and the CA after it; ``POST /api/v1/log/entries``
takes a proposed dsse entry and answers with it canonicalised, in a log of one. Every certificate, SCT,
checkpoint and promise is signed by the instance's keys, so what skillpm signs through them verifies
against the instance's trusted root. ``answer`` replaces a path's answer (status, body) to play a
service that misbehaves.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import http_served
from test_attest_keyless import Instance, dsse_entry

FULCIO = "/api/v2/signingCert"
#: The issuer extensions (OID, raw value) of a certificate, in their order; None: the v1 one of the instance's ISSUER.
Issuers = Sequence[tuple[str, bytes]] | None
REKOR = "/api/v1/log/entries"


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def signing_cert(instance: Instance, request: dict[str, Any], issuers: Issuers = None) -> dict[str, Any]:
    """Fulcio's answer to ``request``: a leaf of the CSR's key, with an SCT, and the chain up to the CA
    (``issuers``: Instance.certificate's)."""
    csr = x509.load_pem_x509_csr(base64.b64decode(request["certificateSigningRequest"]))
    key = csr.public_key()
    leaf = instance.certificate(key, issuers=issuers, at=datetime.now(timezone.utc))  # type: ignore[arg-type]  # P-256
    return {"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem(leaf), pem(instance.ca)]}}}


def log_entry(instance: Instance, proposed: dict[str, Any]) -> dict[str, Any]:
    """Rekor's answer to a proposed dsse entry: the entry canonicalised, keyed by its UUID, in a log of one."""
    content = proposed["spec"]["proposedContent"]
    body = dsse_entry(json.loads(content["envelope"]), content["verifiers"][0])
    entry = instance.log_entry(body, at=datetime.now(timezone.utc))
    return {hashlib.sha256(b"\x00" + body).hexdigest(): entry}  # keyed by its leaf hash, as Rekor's UUIDs end


@contextmanager
def serving(
    instance: Instance, answer: dict[str, tuple[int, bytes]] | None = None, issuers: Issuers = None,
    asked: list[str] | None = None,
) -> Iterator[str]:
    """``instance``'s Fulcio and Rekor on 127.0.0.1 while the block runs: their URL (one for both); ``issuers``: the
    issuer extensions of the certificates Fulcio gives (Instance.certificate's); ``asked`` is given the path of each
    request, in the order they came."""
    planted = answer or {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if asked is not None:
                asked.append(self.path)
            if self.path in planted:
                status, body = planted[self.path]
            elif self.path == FULCIO:
                status, body = 200, json.dumps(signing_cert(instance, request, issuers)).encode()
            elif self.path == REKOR:
                status, body = 201, json.dumps(log_entry(instance, request)).encode()
            else:
                status, body = 404, b'{"message": "no such endpoint"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    with http_served(Handler) as url:
        yield url


def trust_config(path: Path, instance: Instance, url: str) -> Path:
    """A ClientTrustConfig at ``path``: ``instance``'s trusted root, and a signing config whose Fulcio and Rekor
    are at ``url`` (the format of sigstore-python's --trust-config, and of the signing_config.v0.2.json its
    TUF repository serves)."""
    service = {"url": url, "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "test"}
    signing = {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json", "caUrls": [service],
               "oidcUrls": [], "rekorTlogUrls": [service], "tsaUrls": [], "rekorTlogConfig": {"selector": "ANY"},
               "tsaConfig": {"selector": "ANY"}}
    path.write_text(json.dumps({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                                "trustedRoot": json.loads(instance.trusted_root()._inner.to_json()),
                                "signingConfig": signing}))
    return path
