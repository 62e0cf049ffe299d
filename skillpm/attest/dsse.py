"""DSSE envelopes (DSSEv1): the pre-authentication encoding and the envelope's JSON form.

Pure: no cryptography here. A signer signs ``pae(payload_type, payload)``; the
envelope carries the payload and signatures in base64, as the DSSE specification
(https://github.com/secure-systems-lab/dsse/blob/v1.0.0/envelope.md) and Sigstore
bundles write them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from skillpm.attest import AttestationError
from skillpm.records import Record

PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: The most signatures an envelope may hold, as a signed index snapshot: each is tried with every trusted
#: key, so a registry that padded its bundles with copies would cost every verify seconds of CPU.
MAX_SIGNATURES = 16


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSEv1 pre-authentication encoding: what a signature actually covers.

    ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths as ASCII decimal
    byte counts.
    """
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


class Signature(Record):
    """One signature over the envelope's PAE; ``keyid`` is an unauthenticated hint."""

    sig: bytes
    keyid: str = ""


class Envelope(Record):
    """A DSSE envelope: a payload, its type, and one or more signatures."""

    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    def pae(self) -> bytes:
        """What each signature of this envelope must verify against."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        signatures = []
        for signature in self.signatures:
            item = {"sig": _b64(signature.sig)}
            if signature.keyid:
                item["keyid"] = signature.keyid
            signatures.append(item)
        return {"payload": _b64(self.payload), "payloadType": self.payload_type, "signatures": signatures}

    @classmethod
    def from_json(cls, data: object) -> Envelope:
        """Read an envelope; raise AttestationError naming the malformed field."""
        if not isinstance(data, dict):
            raise AttestationError("DSSE envelope is not a JSON object")
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str):
            raise AttestationError("DSSE envelope has no payloadType")
        signatures = data.get("signatures")
        if not isinstance(signatures, list) or not signatures:
            raise AttestationError("DSSE envelope has no signatures")
        if len(signatures) > MAX_SIGNATURES:
            raise AttestationError(f"DSSE envelope has {len(signatures)} signatures; at most {MAX_SIGNATURES} are read")
        parsed = []
        for item in signatures:
            if not isinstance(item, dict):
                raise AttestationError("DSSE envelope signature is not a JSON object")
            keyid = item.get("keyid", "")
            if not isinstance(keyid, str):
                raise AttestationError("DSSE envelope signature keyid is not a string")
            parsed.append(Signature(sig=_unb64(item.get("sig"), "signature"), keyid=keyid))
        return cls(_unb64(data.get("payload"), "payload"), payload_type, tuple(parsed))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, field: str) -> bytes:
    """Standard or URL-safe base64 (DSSE allows either), strictly decoded."""
    if not isinstance(value, str) or not value:
        raise AttestationError(f"DSSE envelope {field} is missing or not a string")
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AttestationError(f"DSSE envelope {field} is not valid base64") from None
