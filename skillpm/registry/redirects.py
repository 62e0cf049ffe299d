"""Where a redirect may take a request: the rules every GET follows (pure but for the name lookup that
tells whether a host is on this machine or its network, :mod:`skillpm.registry.addresses`)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from skillpm.display import clean
from skillpm.errors import RegistryError
from skillpm.registry.config import check_url
from skillpm.registry.urls import shown_url

MAX_REDIRECTS = 5


def host_of(url: str) -> str:
    """The ``host[:port]`` of ``url``, for error messages."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or url


def origin(url: str) -> tuple[str, str, int | None]:
    """``url``'s scheme, host name and port (the scheme's default when it names none): whom credentials are for.

    ValueError for a port that is no number in range, or an unclosed ``[``.
    """
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or {"https": 443, "http": 80}.get(parts.scheme)


def redirect_target(current: str, location: str, hops: int, first: str | None = None) -> str:
    """Where a redirect from ``current`` to ``location`` leads; RegistryError when skillpm must not go there.

    Refused: more than :data:`MAX_REDIRECTS` hops, a change of scheme (https to http,
    http to https, anything to ``file:``), any URL ``check_url`` refuses (plain
    http off this machine), and, when ``first`` is given (the URL asked for, which :func:`off_network` found
    off this machine and the user's network), a target on them (:func:`~skillpm.registry.addresses.internal`).
    """
    if hops > MAX_REDIRECTS:
        raise RegistryError(
            f"GET {current}: more than {MAX_REDIRECTS} redirects; refused",
            hint="the server redirects in a loop or too far; use the final URL as the registry",
        )
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        target, parts = "", None
    if parts is None or not target.isascii() or not target.isprintable():
        raise RegistryError(f"GET {current}: refusing a redirect to a malformed URL ({clean(shown_url(location))})")
    before, after = urlsplit(current).scheme, parts.scheme
    if after != before:
        raise RegistryError(
            f"GET {current}: refusing a redirect from {before}:// to {after or 'no scheme'}:// ({clean(shown_url(target))})",
            hint="a registry must redirect within its own scheme; use the URL it should be served from",
        )
    if not parts.hostname:
        raise RegistryError(f"GET {current}: refusing a redirect to {clean(shown_url(target))} (no host)")
    check_url(target)
    if first is not None:
        _check_inward(first, current, target, parts.hostname)
    return target


def _check_inward(first: str, current: str, target: str, host: str) -> None:
    """RegistryError when ``target`` (on ``host``) is on this machine or a private network."""
    from skillpm.registry.addresses import internal

    if internal(host):
        raise inward(first, current, target, "an address of this machine or of a private network")


def off_network(first: str, peer: str = "") -> bool:
    """Whether the URL ``first`` asked for is off this machine and the user's network (or not known to be on
    them: a name only a proxy resolves): where a redirect from it may not lead, and what its redirects' own
    connections may not reach (:class:`skillpm.registry.transport.Transport`).

    Off it when its host's name or address says so, or when ``peer``, the address its reply came from (a
    direct connection's), is a public one: a rebinding name asked again may answer 127.0.0.1, so the caller
    judges once, with the peer, and keeps the verdict for every hop.
    """
    from ipaddress import ip_address

    from skillpm.registry.addresses import internal, internal_address

    if peer and not internal_address(ip_address(peer.split("%", 1)[0])):
        return True
    return not internal(urlsplit(first).hostname or "")


def inward(first: str, current: str, target: str, what: str) -> RegistryError:
    """The refusal of a redirect from ``first`` (via ``current``) to ``target``, which is ``what``."""
    return RegistryError(
        f"GET {current}: refusing a redirect from {host_of(first)} to {clean(shown_url(target))}, {what}",
        hint="a server on the internet may not send skillpm into your network; if you trust it, use the URL "
             "it redirects to",
    )
