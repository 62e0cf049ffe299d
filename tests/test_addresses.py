"""Which hosts a redirect from the internet may not lead to (skillpm.registry.addresses), and the redirect rule."""

from __future__ import annotations

import ipaddress

import pytest

from skillpm.errors import RegistryError
from skillpm.registry.addresses import internal, internal_address
from skillpm.registry.redirects import off_network, redirect_target

INTERNAL = ["127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
            "0.0.0.0", "::1", "::", "fc00::1", "fd12::1", "fe80::1", "fec0::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
            "::127.0.0.1", "2002:7f00:1::", "2002:c0a8:101::", "64:ff9b::7f00:1", "192.0.2.1", "240.0.0.1",
            "64:ff9b:1::a00:1", "64:ff9b:1::808:808"]
PUBLIC = ["8.8.8.8", "140.82.112.3", "2606:4700::1111", "2a00:1450:4001::64", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", INTERNAL)
def test_addresses_of_this_machine_and_private_networks_are_internal(address: str) -> None:
    assert internal_address(ipaddress.ip_address(address))
    assert internal(address) is True


@pytest.mark.parametrize("address", PUBLIC)
def test_the_internet_s_addresses_are_not(address: str) -> None:
    assert not internal_address(ipaddress.ip_address(address))
    assert internal(address) is False


def test_names() -> None:
    assert internal("localhost") is internal("LocalHost.") is internal("admin.localhost") is True
    assert internal("fe80::1%eth0") is True
    assert internal("no-such-host.invalid") is None  # it resolves nowhere here (a proxy may reach it)


@pytest.mark.parametrize(
    ("first", "target"),
    [("https://93.184.216.34/a", "https://127.0.0.1/x"), ("https://93.184.216.34/a", "https://localhost:8443/x"),
     ("https://[2606:4700::1111]/a", "https://[::1]/x"), ("https://site.invalid/a", "https://10.0.0.8/x"),
     ("https://site.invalid/a", "https://169.254.169.254/latest/meta-data/")],
)
def test_a_redirect_from_the_internet_into_this_machine_or_network_is_refused(first: str, target: str) -> None:
    with pytest.raises(RegistryError, match="an address of this machine or of a private network"):
        redirect_target(first, target, 1, first)
    assert redirect_target(first, target, 1) == target  # the rule is the caller's to ask for


@pytest.mark.parametrize(
    ("first", "target"),
    [("https://127.0.0.1:1/a", "https://127.0.0.1:2/x"), ("http://localhost:1/a", "http://127.0.0.1:2/x"),
     ("https://10.0.0.1/a", "https://10.0.0.2/x"), ("https://93.184.216.34/a", "https://140.82.112.3/x"),
     ("https://site.invalid/a", "https://cdn.invalid/x")],
)
def test_other_redirects_are_followed(first: str, target: str) -> None:
    assert redirect_target(first, target, 1, first if off_network(first) else None) == target


def test_a_public_peer_is_off_the_network_whatever_the_name_says() -> None:
    assert off_network("http://localhost:1/a", "93.184.216.34") and off_network("https://[::1]/a", "2606:4700::1111")
    assert not off_network("http://localhost:1/a", "127.0.0.1") and not off_network("https://10.0.0.1/a")
