"""The one spelling of a registry's http(s) URL, by which skillpm names, pins and caches it. Pure.

A registry's index key is pinned, its rollback floor kept, its index cached and its entries
written in skills.lock under its URL. Spelt two ways (``http://LOCALHOST/reg``,
``https://host:443//./reg/``), one registry would have two pins, and a mirror that swaps
the key would be refused under one spelling and trusted anew under the other. So every
http(s) registry URL is first put in the normal form RFC 3986 section 6 describes:

- scheme and host in lowercase, without the host's final dot (``example.org.``), an IPv6 address in
  its compressed form (``[0::1]`` is ``[::1]``), the scheme's default port (80, 443) left out;
- dot segments removed and empty ones (``//``) dropped from the path, with no slash at its end;
- percent-escapes of unreserved characters decoded (``%7E`` is ``~``), the others in uppercase
  hex, and every character a path cannot hold as it is (a space, ``é``) percent-encoded in UTF-8.

A host that is not ASCII is refused: written as IDNA's ``xn--`` form it is one name; written in
Unicode it may be a look-alike of another (``еxample.org`` with a Cyrillic ``е``). So is a host of
other characters than letters, digits, ``.``, ``-`` and ``_``, an IPv4 address written otherwise
than as four decimal numbers (``127.1``, ``0x7f.0.0.1``, ``2130706433``), anything after an IPv6
address's ``]`` but its port, and a path holding a backslash, or ``/``, a backslash or NUL escaped, which
servers read differently (one decodes ``/%2Freg`` to ``//reg``, another does not). A query is kept
as it is (a redirect may lead to a signed download URL), a fragment, never sent, is dropped;
:func:`registry_base` refuses both in a registry's own URL, which its files are joined to.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")
#: What a path segment holds as it is: RFC 3986's pchar, but for percent-escapes.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
_ESCAPE_OR_CHAR = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_BRACKETED = re.compile(r"\[[^\]]+\](?::[0-9]*)?")
_ODD_PATH = re.compile(r"%2f|%5c|%00|\\", re.IGNORECASE)


class UrlProblem(ValueError):
    """Why a URL has no normal form skillpm can use (its message completes ``the URL ...``)."""


def canonical_url(url: str) -> str:
    """``url`` in its normal form when it is an http(s) URL (see the module); any other is returned as it is.

    UrlProblem for a malformed URL or a host that is not ASCII.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlProblem(f"is malformed ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = _host(parts.hostname or "", hostport)
    if _ODD_PATH.search(parts.path):
        raise UrlProblem("has '/', '\\' or NUL escaped, or a '\\', in its path, which servers read differently")
    netloc = f"{userinfo}@" if userinfo else ""
    netloc += f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{_path(parts.path)}{query}"


def shown_url(url: str) -> str:
    """``url`` as a message may quote it: without its user name and password, and its query as ``?...``
    (a password, a signed link's signature or a ``private_token`` are secrets). Never raises."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    ends = [index for index in (rest.find(mark) for mark in "/?#") if index >= 0]
    authority, tail = rest[: min(ends, default=len(rest))], rest[min(ends, default=len(rest)):]
    before, hash_mark, fragment = tail.partition("#")
    path, question, _ = before.partition("?")
    return f"{scheme}://{authority.rpartition('@')[2]}{path}{'?...' if question else ''}{hash_mark}{fragment}"


def registry_base(url: str) -> str:
    """The http(s) URL of a registry in normal form; UrlProblem also for a query or fragment, which the
    registry's files could not be joined to."""
    if "?" in url or "#" in url:
        raise UrlProblem("has a query or fragment, which no registry file can be joined to")
    return canonical_url(url)


def _host(host: str, hostport: str) -> str:
    """The URL's host name (lowercase, as urlsplit gives it; ``hostport`` as written) in normal form."""
    import ipaddress

    if not host.isascii():
        raise UrlProblem("has a host that is not ASCII: write it in its IDNA form (xn--...)")
    if hostport.startswith("["):
        if not _BRACKETED.fullmatch(hostport):
            raise UrlProblem("has something after its IPv6 address's ']' that is not a port")
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise UrlProblem(f"has {hostport.partition(']')[0]}], which is not an IPv6 address") from None
    host = host[:-1] if host.endswith(".") else host
    if host and not _HOST_NAME.fullmatch(host):  # none at all is for check_url to say
        raise UrlProblem("has a host of other characters than letters, digits, '.', '-' and '_'")
    if host.rsplit(".", 1)[-1].isdigit() or host.startswith("0x"):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise UrlProblem("has an IPv4 address not written as four decimal numbers (127.0.0.1)") from None
    return host


def _path(path: str) -> str:
    """``path`` with its dot and empty segments removed and each segment's escapes in normal form."""
    kept: list[str] = []
    for segment in path.split("/"):
        # Escapes first, as RFC 3986 section 6.2.2 orders it: '%2e%2e' is '..', which a server resolves.
        segment = "".join(map(_normal, _ESCAPE_OR_CHAR.findall(segment)))
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    return "".join(f"/{segment}" for segment in kept)


def _normal(piece: str) -> str:
    """One character or percent-escape of a segment, as the normal form writes it."""
    if len(piece) == 3:  # an escape
        decoded = unquote(piece)
        return decoded if _UNRESERVED.fullmatch(decoded) else piece.upper()
    return quote(piece, safe=_SEGMENT_SAFE)


def comparable(url: str) -> str:
    """``url`` as two registry URLs are compared (a lockfile's, a policy's, a configured one): in normal
    form when it is an http(s) URL that has one, else as written; never with a slash at the end."""
    try:
        return canonical_url(url).rstrip("/")
    except UrlProblem:
        return url.rstrip("/")
