"""Whether a host is this machine or on a private network: what a redirect from the internet may not lead to.

A site on the internet that redirects skillpm to ``https://127.0.0.1:8443/admin`` or
``https://169.254.169.254/`` has it fetch, from inside the user's network, what the site itself cannot
reach (server-side request forgery), and a source installs the reply. :func:`internal` tells such hosts:
``localhost`` and its subdomains, and every host whose address (as given, or as the system resolves the
name) is not a global one: loopback, RFC 1918 and shared (100.64/10) networks, IPv6 unique-local and
link- or site-local addresses, unspecified and reserved ones, IPv4 addresses inside IPv6 (mapped,
compatible, 6to4, NAT64) judged as the IPv4 address they carry, and the local NAT64 prefix
``64:ff9b:1::/48`` (RFC 8215) whole: its translator may lead to any IPv4 address, a private one too,
and older Pythons (3.11.7, for one) count it global.
"""

from __future__ import annotations

import ipaddress
import socket

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def internal_address(address: Address) -> bool:
    """Whether ``address`` is not one of the internet's: loopback, private, shared, link-local, unspecified..."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped or address.sixtofour:
            return internal_address(address.ipv4_mapped or address.sixtofour)  # type: ignore[arg-type]
        if address in _NAT64 or int(address) >> 32 == 0:  # NAT64, IPv4-compatible (and :: and ::1)
            return internal_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in _LOCAL_NAT64 or address.is_site_local:
            return True
    return not address.is_global


def internal(host: str) -> bool | None:
    """Whether ``host`` (a URL's host name, without brackets) is this machine or on a private network:
    any of its addresses is (:func:`internal_address`). ``None`` when the name does not resolve here (a
    proxy may still reach it)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return internal_address(ipaddress.ip_address(name.split("%", 1)[0]))  # without an IPv6 zone
    except ValueError:
        pass
    try:  # a name, or an address in a form only the system reads (2130706433, 0x7f.1)
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found}
    return any(internal_address(address) for address in addresses) if addresses else None
