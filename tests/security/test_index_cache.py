"""Validators in the HTTP index cache: what a server sends and what a planted ``.meta`` holds go back to a
server only as short printable ASCII; anything else is as if there were none (no traceback, no injected header).

Each case serves the test registry from a :class:`~tests.security.test_http.RawServer` and looks at
the requests the second command made.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.security.conftest import Hostile
from tests.security.test_http import KERNEL, QUICK, RawServer, send_head, serve  # noqa: F401

DOCUMENT = f"index/ke/rn/{KERNEL}.json"
OBS_TEXT_ETAG = '"v\xe9"'  # HTTP allows bytes over 0x7f (obs-text) in a header; sent as the latin-1 byte 0xE9


def info(hostile: Hostile, server: RawServer):
    return hostile.run("info", KERNEL, "--registry", server.url, env=QUICK)


def sent_validators(server: RawServer, since: int) -> list[dict[str, str]]:
    """The conditional headers of the requests for DOCUMENT from number ``since`` on."""
    return [
        {name: value for name, value in headers.items() if name in ("if-none-match", "if-modified-since")}
        for path, headers in server.requests[since:]
        if path == DOCUMENT
    ]


def with_obs_text_etag(server: RawServer, connection: socket.socket, path: str) -> None:
    data = server.file(path)
    send_head(connection, "200 OK", {"Content-Length": str(len(data)), "ETag": OBS_TEXT_ETAG})
    connection.sendall(data)


def test_a_server_etag_that_is_not_ascii_is_neither_kept_nor_sent_back(hostile: Hostile, serve) -> None:  # noqa: F811
    server = serve({".json": with_obs_text_etag})
    hostile.ok(info(hostile, server))
    since = len(server.requests)
    hostile.ok(info(hostile, server))
    assert sent_validators(server, since) == [{}]


@pytest.mark.parametrize(
    "value",
    [123, True, 1.5, ["a", "b"], {"a": 1}, '"abc"\r\nX-Evil: 1', '"\u00e9t\u00e9"', '"\x00"', '"' + "a" * 5000 + '"'],
    ids=["int", "bool", "float", "list", "object", "crlf", "not-ascii", "nul", "long"],
)
@pytest.mark.parametrize("field", ["etag", "last-modified"])
def test_a_planted_validator_that_is_no_short_ascii_text_is_not_sent(hostile: Hostile, serve, field: str, value) -> None:  # noqa: F811
    server = serve()
    hostile.ok(info(hostile, server))
    [meta] = hostile.cache.glob(f"index/*/{DOCUMENT}.meta")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), field: value}))
    since = len(server.requests)
    hostile.ok(info(hostile, server))
    assert sent_validators(server, since) == [{}]
