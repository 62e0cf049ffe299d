"""DSSE: the PAE encoding (the specification's test vector) and the envelope's JSON form."""

from __future__ import annotations

import base64

import pytest

from skillpm.attest import AttestationError
from skillpm.attest.dsse import PAYLOAD_TYPE, Envelope, Signature, pae


def test_pae_matches_the_specification_test_vector() -> None:
    # https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md#test-vectors
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 " + "é".encode()
    assert pae("", b"") == b"DSSEv1 0  0 "


def test_envelope_round_trip() -> None:
    envelope = Envelope(b'{"a":1}', PAYLOAD_TYPE, (Signature(b"\x01\x02", "k1"), Signature(b"\x03")))
    data = envelope.to_json()
    assert data["payload"] == base64.b64encode(b'{"a":1}').decode()
    assert data["signatures"] == [{"sig": "AQI=", "keyid": "k1"}, {"sig": "Aw=="}]
    assert Envelope.from_json(data) == envelope
    assert envelope.pae() == pae(PAYLOAD_TYPE, b'{"a":1}')


def test_envelope_accepts_url_safe_unpadded_base64() -> None:
    data = {"payload": base64.urlsafe_b64encode(b"\xfb\xff").decode().rstrip("="), "payloadType": "t",
            "signatures": [{"sig": "-_8"}]}
    envelope = Envelope.from_json(data)
    assert envelope.payload == b"\xfb\xff"
    assert envelope.signatures[0].sig == b"\xfb\xff"


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "not a JSON object"),
        ({"payload": "YQ==", "signatures": [{"sig": "YQ=="}]}, "no payloadType"),
        ({"payload": "YQ==", "payloadType": "t", "signatures": []}, "no signatures"),
        ({"payload": "YQ==", "payloadType": "t"}, "no signatures"),
        ({"payload": "YQ==", "payloadType": "t", "signatures": ["x"]}, "signature is not a JSON object"),
        ({"payload": "YQ==", "payloadType": "t", "signatures": [{"sig": "YQ==", "keyid": 3}]}, "keyid"),
        ({"payload": "YQ==", "payloadType": "t", "signatures": [{}]}, "signature is missing"),
        ({"payload": "!!", "payloadType": "t", "signatures": [{"sig": "YQ=="}]}, "payload is not valid base64"),
        ({"payloadType": "t", "signatures": [{"sig": "YQ=="}]}, "payload is missing"),
    ],
)
def test_malformed_envelopes_are_refused(data: object, message: str) -> None:
    with pytest.raises(AttestationError, match=message):
        Envelope.from_json(data)
