"""nexthop_info against real network namespaces: a sender, an on-link receiver, a router, a far receiver.

snd:s0 10.77.1.1  ----------------- rcv:e0 10.77.1.2          (on-link)
snd:s1 10.77.2.1  --- rtr:r0 10.77.2.254 / rtr:r1 10.77.3.254 --- far:f0 10.77.3.2 (routed)
snd:s2 enslaved to snd:br0;  snd:tun1 a tun device without a MAC
"""

from __future__ import annotations

import uuid

import pytest
from logswap_testlib import need_root, run_module, sh

PREFIX = "lsn" + uuid.uuid4().hex[:5]
NS = {name: f"{PREFIX}-{name}" for name in ("snd", "rcv", "rtr", "far")}


def ip(ns: str, *args: str) -> None:
    sh("ip", "-n", NS[ns], *args)


def mac_of(ns: str, dev: str) -> str:
    out = sh("ip", "-n", NS[ns], "-br", "link", "show", dev).stdout.split()
    return out[2].lower()


def veth(ns_a: str, dev_a: str, ns_b: str, dev_b: str) -> None:
    sh("ip", "link", "add", f"{PREFIX}{dev_a}", "type", "veth", "peer", "name", f"{PREFIX}{dev_b}")
    sh("ip", "link", "set", f"{PREFIX}{dev_a}", "netns", NS[ns_a], "name", dev_a)
    sh("ip", "link", "set", f"{PREFIX}{dev_b}", "netns", NS[ns_b], "name", dev_b)
    for ns, dev in ((ns_a, dev_a), (ns_b, dev_b)):
        ip(ns, "link", "set", dev, "up")


def address(ns: str, dev: str, *cidrs: str) -> None:
    for cidr in cidrs:
        extra = ["nodad"] if ":" in cidr else []
        ip(ns, "addr", "add", cidr, "dev", dev, *extra)


@pytest.fixture(scope="module")
def net():
    need_root()
    for name in NS.values():
        sh("ip", "netns", "add", name)
    try:
        for name in NS:
            ip(name, "link", "set", "lo", "up")
        veth("snd", "s0", "rcv", "e0")
        veth("snd", "s1", "rtr", "r0")
        veth("rtr", "r1", "far", "f0")
        address("snd", "s0", "10.77.1.1/24", "fd77:1::1/64")
        address("rcv", "e0", "10.77.1.2/24", "fd77:1::2/64")
        address("snd", "s1", "10.77.2.1/24", "fd77:2::1/64")
        address("rtr", "r0", "10.77.2.254/24", "fd77:2::fe/64")
        address("rtr", "r1", "10.77.3.254/24", "fd77:3::fe/64")
        address("far", "f0", "10.77.3.2/24", "fd77:3::2/64")
        ip("snd", "route", "add", "10.77.3.0/24", "via", "10.77.2.254")
        ip("snd", "-6", "route", "add", "fd77:3::/64", "via", "fd77:2::fe")
        ip("far", "route", "add", "default", "via", "10.77.3.254")
        ip("far", "-6", "route", "add", "default", "via", "fd77:3::fe")
        sh(
            "ip",
            "netns",
            "exec",
            NS["rtr"],
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
            "net.ipv6.conf.all.forwarding=1",
        )
        ip("snd", "link", "add", "br0", "type", "bridge")
        sh("ip", "link", "add", f"{PREFIX}s2", "type", "veth", "peer", "name", f"{PREFIX}x2")
        sh("ip", "link", "set", f"{PREFIX}s2", "netns", NS["snd"], "name", "s2")
        ip("snd", "link", "set", "s2", "master", "br0")
        ip("snd", "link", "set", "br0", "up")
        ip("snd", "link", "set", "s2", "up")
        sh("ip", "netns", "exec", NS["snd"], "ip", "tuntap", "add", "tun1", "mode", "tun")
        address("snd", "tun1", "10.77.9.1/24")
        ip("snd", "link", "set", "tun1", "up")
        yield NS
    finally:
        for name in NS.values():
            sh("ip", "netns", "del", name, check=False)
        sh("ip", "link", "del", f"{PREFIX}x2", check=False)


def discover(destination: str, **extra) -> dict:
    return run_module("nexthop_info", {"destination": destination, "timeout": 3, **extra}, netns=NS["snd"])


def flush_neighbours() -> None:
    ip("snd", "neigh", "flush", "all")
    ip("snd", "-6", "neigh", "flush", "all")


def test_on_link_ipv4_returns_the_receivers_own_mac(net):
    result = discover("10.77.1.2")
    assert not result.get("failed"), result
    assert result["interface"] == "s0"
    assert result["source"] == "10.77.1.1"
    assert result["on_link"] is True and result["gateway"] is None
    assert result["remote_mac"] == mac_of("rcv", "e0")
    assert result["interface_mac"] == mac_of("snd", "s0")
    assert result["changed"] is False


def test_routed_ipv4_returns_the_routers_mac_never_the_receivers(net):
    result = discover("10.77.3.2")
    assert not result.get("failed"), result
    assert result["interface"] == "s1" and result["source"] == "10.77.2.1"
    assert result["on_link"] is False and result["gateway"] == "10.77.2.254"
    assert result["next_hop"] == "10.77.2.254"
    assert result["remote_mac"] == mac_of("rtr", "r0")
    assert result["remote_mac"] != mac_of("far", "f0")


def test_on_link_ipv6(net):
    result = discover("fd77:1::2")
    assert not result.get("failed"), result
    assert result["ip_version"] == 6
    assert result["source"] == "fd77:1::1"
    assert result["remote_mac"] == mac_of("rcv", "e0")


def test_routed_ipv6_returns_the_routers_mac(net):
    result = discover("fd77:3::2")
    assert not result.get("failed"), result
    assert result["gateway"] == "fd77:2::fe"
    assert result["remote_mac"] == mac_of("rtr", "r0")


@pytest.mark.parametrize("destination", ["10.77.1.2", "10.77.3.2", "fd77:1::2"])
def test_empty_neighbour_cache_is_resolved(net, destination):
    flush_neighbours()
    result = discover(destination)
    assert not result.get("failed"), result
    assert result["resolved"] is True
    assert result["neighbour_state"] == "reachable"


def test_stale_entry_is_confirmed_again(net):
    discover("10.77.1.2")
    ip("snd", "neigh", "change", "10.77.1.2", "dev", "s0", "lladdr", mac_of("rcv", "e0"), "nud", "stale")
    result = run_module("nexthop_info", {"destination": "10.77.1.2", "timeout": 10}, netns=NS["snd"])
    assert not result.get("failed"), result
    assert result["resolved"] is True and result["neighbour_state"] == "reachable"


def test_unresolvable_next_hop_names_address_and_interface(net):
    result = discover("10.77.1.99", timeout=1)
    assert result["failed"] is True
    assert "10.77.1.99 on s0 did not resolve" in result["msg"]
    assert "remote_mac" in result["msg"]


def test_device_without_mac_is_refused(net):
    result = discover("10.77.9.5")
    assert result["failed"] is True
    assert "tun1" in result["msg"] and "no Ethernet link-layer address" in result["msg"]


def test_own_address_is_refused(net):
    result = discover("10.77.1.1")
    assert result["failed"] is True
    assert "address of this host" in result["msg"]


def test_enslaved_interface_names_the_master(net):
    result = discover("10.77.1.2", interface="s2")
    assert result["failed"] is True
    assert "enslaved to bridge br0" in result["msg"] and "interface: br0" in result["msg"]


def test_interface_override_is_used(net):
    result = discover("10.77.1.2", interface="s0")
    assert not result.get("failed"), result
    assert result["interface"] == "s0"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"destination": "10.77.1.300"}, "destination: '10.77.1.300' is not an IPv4 or IPv6 address"),
        ({"destination": "10.77.1.2", "interface": "no/such"}, "interface: 'no/such'"),
        ({"destination": "10.77.1.2", "interface": "nosuch0"}, "'nosuch0' does not exist"),
        ({"destination": "10.77.1.2", "source": "banana"}, "source: 'banana'"),
    ],
)
def test_bad_input_names_the_variable(net, args, needle):
    result = run_module("nexthop_info", args, netns=NS["snd"])
    assert result["failed"] is True
    assert needle in result["msg"]
