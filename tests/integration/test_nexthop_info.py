"""nexthop_info against real network namespaces: a sender, an on-link receiver, a router, a far receiver.

snd:s0 10.77.1.1  ----------------- rcv:e0 10.77.1.2          (on-link)
snd:s1 10.77.2.1  --- rtr:r0 10.77.2.254 / rtr:r1 10.77.3.254 --- far:f0 10.77.3.2 (routed)
snd:s2 enslaved to snd:br0;  snd:tun1 a tun device without a MAC

Tests that need more (policy rules, reject routes, a link without carrier, a changed MAC) add it
themselves and take it away again.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

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


@contextmanager
def added(*commands: tuple[str, ...]):
    """Run ``ip -n snd`` commands, and their ``del`` counterparts afterwards (in reverse)."""
    done = []
    try:
        for command in commands:
            ip("snd", *command)
            done.append(command)
        yield
    finally:
        for command in reversed(done):
            verb = command.index("add")
            sh("ip", "-n", NS["snd"], *command[:verb], "del", *command[verb + 1 :], check=False)


@pytest.mark.parametrize(
    ("rule", "route", "destination", "source", "gateway"),
    [
        (
            ("rule", "add", "from", "10.77.1.1", "table", "100"),
            ("route", "add", "10.77.3.0/24", "via", "10.77.1.2", "dev", "s0", "table", "100"),
            "10.77.3.2",
            "10.77.1.1",
            "10.77.1.2",
        ),
        (
            ("-6", "rule", "add", "from", "fd77:1::1", "table", "100"),
            ("-6", "route", "add", "fd77:3::/64", "via", "fd77:1::2", "dev", "s0", "table", "100"),
            "fd77:3::2",
            "fd77:1::1",
            "fd77:1::2",
        ),
    ],
)
def test_policy_routing_resolves_the_gateway_of_the_sources_table(net, rule, route, destination, source, gateway):
    """The main table reaches the far network through s1; a rule sends what the source sends through s0."""
    with added(rule, route):
        flush_neighbours()
        result = discover(destination, source=source)
    assert not result.get("failed"), result
    assert (result["interface"], result["gateway"], result["source"]) == ("s0", gateway, source)
    assert result["remote_mac"] == mac_of("rcv", "e0")


@pytest.mark.parametrize(
    ("destination", "interface", "used"),
    [
        ("10.77.3.2", "s0", "through s1 via gateway 10.77.2.254"),
        ("10.77.1.2", "s1", "through s0 (on-link)"),
        ("fd77:3::2", "s0", "through s1 via gateway fd77:2::fe"),
    ],
)
def test_interface_the_route_does_not_use_fails_at_once_naming_what_it_uses(net, destination, interface, used):
    started = time.monotonic()
    result = discover(destination, interface=interface, variable="sender_targets[1]", timeout=10)
    assert result["failed"] is True
    assert result["msg"].startswith(f"sender_targets[1].dev_name: {interface} does not reach"), result["msg"]
    assert used in result["msg"]
    assert time.monotonic() - started < 5  # no waiting for an ARP answer that cannot come


def test_interface_given_as_mac_is_returned_as_its_name(net):
    result = discover("10.77.1.2", interface=mac_of("snd", "s0").upper())
    assert not result.get("failed"), result
    assert result["interface"] == "s0"
    assert result["remote_mac"] == mac_of("rcv", "e0")


def test_mac_of_no_interface_is_refused_naming_the_variable(net):
    result = discover("10.77.1.2", interface="02:00:00:00:00:99", variable="sender_targets[0]")
    assert result["failed"] is True
    assert "sender_targets[0].dev_name: 02:00:00:00:00:99 is the MAC address of no interface" in result["msg"]


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("10.77.99.1", "sender_targets[2].local_ip: 10.77.99.1 is not an address of this host"),
        ("10.77.2.254", "sender_targets[2].local_ip: 10.77.2.254 is not an address of this host"),
        (
            "fd77:1::1",
            "sender_targets[2].local_ip: fd77:1::1 is IPv6 but sender_targets[2].remote_ip 10.77.1.2 is IPv4",
        ),
    ],
)
def test_unusable_source_is_refused_naming_the_variable(net, source, needle):
    result = discover("10.77.1.2", source=source, variable="sender_targets[2]")
    assert result["failed"] is True
    assert needle in result["msg"]
    assert "Traceback" not in result["msg"]


def neighbour(address: str, dev: str) -> str:
    return sh("ip", "-n", NS["snd"], "neigh", "show", address, "dev", dev).stdout.strip()


def test_stale_entry_of_a_replaced_nic_yields_the_new_mac_at_once(net):
    old = mac_of("rcv", "e0")
    new = "02:77:00:00:01:02"
    ip("rcv", "link", "set", "e0", "address", new)
    try:
        ip("snd", "neigh", "replace", "10.77.1.2", "dev", "s0", "lladdr", old, "nud", "stale")
        started = time.monotonic()
        result = discover("10.77.1.2", timeout=10)
        elapsed = time.monotonic() - started
    finally:
        ip("rcv", "link", "set", "e0", "address", old)
        flush_neighbours()
    assert not result.get("failed"), result
    assert result["remote_mac"] == new and result["neighbour_state"] == "reachable"
    # generous for a busy CI machine; the kernel alone would wait 5 s and then probe the old MAC
    assert elapsed < 3, elapsed


@pytest.mark.parametrize("state", ["failed", "incomplete", "probe", "delay"])
def test_unsettled_entry_is_resolved_at_once(net, state):
    ip("snd", "neigh", "replace", "10.77.1.2", "dev", "s0", "lladdr", "02:77:00:00:09:09", "nud", state)
    started = time.monotonic()
    result = discover("10.77.1.2", timeout=10)
    assert not result.get("failed"), result
    assert result["remote_mac"] == mac_of("rcv", "e0")
    assert time.monotonic() - started < 3


def test_permanent_entry_is_used_as_is_and_kept(net):
    pinned = "02:77:00:00:0a:0a"
    ip("snd", "neigh", "replace", "10.77.1.2", "dev", "s0", "lladdr", pinned, "nud", "permanent")
    try:
        result = discover("10.77.1.2", timeout=1)
        assert not result.get("failed"), result
        assert result["remote_mac"] == pinned and result["resolved"] is False
        assert f"lladdr {pinned} PERMANENT" in neighbour("10.77.1.2", "s0")
    finally:
        ip("snd", "neigh", "del", "10.77.1.2", "dev", "s0")


def test_link_without_carrier_is_refused_naming_the_interface(net):
    sh("ip", "link", "add", f"{PREFIX}s3", "type", "veth", "peer", "name", f"{PREFIX}x3")
    sh("ip", "link", "set", f"{PREFIX}s3", "netns", NS["snd"], "name", "s3")
    try:
        address("snd", "s3", "10.77.6.1/24")
        ip("snd", "link", "set", "s3", "up")  # its peer stays down: no carrier
        result = discover("10.77.6.2", variable="sender_targets[0]")
    finally:
        ip("snd", "link", "del", "s3")
    assert result["failed"] is True
    assert "interface s3 (towards 10.77.6.2) has no carrier" in result["msg"]
    assert "sender_targets[0].dev_name" in result["msg"]


@pytest.mark.parametrize(
    ("route", "destination", "kind"),
    [
        (("route", "add", "blackhole", "10.77.81.0/24"), "10.77.81.2", "blackhole"),
        (("route", "add", "unreachable", "10.77.82.0/24"), "10.77.82.2", "unreachable"),
        (("route", "add", "prohibit", "10.77.83.0/24"), "10.77.83.2", "prohibit"),
        (("-6", "route", "add", "blackhole", "fd77:81::/64"), "fd77:81::2", "blackhole"),
        (("-6", "route", "add", "unreachable", "fd77:82::/64"), "fd77:82::2", "unreachable"),
    ],
)
def test_reject_route_is_named(net, route, destination, kind):
    with added(route):
        result = discover(destination, variable="sender_targets[3]")
    assert result["failed"] is True
    article = "an" if kind == "unreachable" else "a"
    assert result["msg"].startswith(f"sender_targets[3].remote_ip: this host has {article} {kind}"), result["msg"]


def test_no_route_is_named(net):
    result = discover("10.77.84.2", variable="sender_targets[3]")
    assert result["failed"] is True
    assert "sender_targets[3].remote_ip: this host has no route to 10.77.84.2" in result["msg"]


@pytest.mark.parametrize(
    ("destination", "what"),
    [
        ("10.77.1.255", "broadcast address on this host's network"),
        ("255.255.255.255", "the broadcast address"),
        ("224.0.0.1", "multicast address"),
        ("ff02::1", "multicast address"),
    ],
)
def test_receiver_that_is_not_one_host_is_refused(net, destination, what):
    result = discover(destination, variable="sender_targets[0]")
    assert result["failed"] is True
    assert result["msg"].startswith(f"sender_targets[0].remote_ip: {destination} is ")
    assert what in result["msg"] and "unicast" in result["msg"]
