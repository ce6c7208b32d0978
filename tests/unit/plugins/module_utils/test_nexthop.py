from __future__ import annotations

import errno
import re

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import (
    ARPHRD_ETHER,
    ARPHRD_LOOPBACK,
    ARPHRD_NONE,
    RTN_BLACKHOLE,
    RTN_BROADCAST,
    RTN_LOCAL,
    RTN_MULTICAST,
    RTN_PROHIBIT,
    RTN_UNICAST,
    RTN_UNREACHABLE,
    Link,
    Names,
    NexthopError,
    check_destination,
    check_link,
    check_route_type,
    check_source_is_local,
    check_versions,
    find_interface_by_mac,
    must_reprobe,
    names_for,
    next_hop,
    nud_state_name,
    route_error_message,
    unresolved_message,
    wrong_interface_message,
)


def link(**kwargs):
    fields = {"index": 2, "name": "eth0", "mac": "52:54:00:00:00:01", "link_type": ARPHRD_ETHER, "up": True}
    return Link(**{**fields, **kwargs})


def test_ethernet_link_that_is_up_is_fine():
    check_link(link(), "192.0.2.2")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"link_type": ARPHRD_LOOPBACK, "name": "lo"}, "address of this host"),
        ({"link_type": ARPHRD_NONE, "name": "wg0", "mac": None}, "wg0 (towards 192.0.2.2) has no Ethernet"),
        ({"master": "bond0", "master_kind": "bond"}, "enslaved to bond bond0"),
        ({"up": False}, "eth0 (towards 192.0.2.2) is down"),
    ],
)
def test_unusable_links_are_refused_with_the_reason(kwargs, needle):
    with pytest.raises(NexthopError, match=re.escape(needle)):
        check_link(link(**kwargs), "192.0.2.2")


def test_the_gateway_is_the_next_hop_when_routed():
    assert next_hop("203.0.113.2", "198.51.100.254") == ("198.51.100.254", False)
    assert next_hop("198.51.100.2", None) == ("198.51.100.2", True)


def test_neighbour_states_are_named():
    assert nud_state_name(0x02) == "reachable"
    assert nud_state_name(0x04) == "stale"
    assert nud_state_name(0) == "none"


ROLE = names_for("sender_targets[1]")


def test_messages_name_the_modules_options_or_the_roles_variable():
    assert names_for(None) == Names("destination", "interface", "source", "remote_mac")
    assert names_for("sender_targets[1]") == Names(
        "sender_targets[1].remote_ip",
        "sender_targets[1].dev_name",
        "sender_targets[1].local_ip",
        "sender_targets[1].remote_mac",
    )


def test_link_without_carrier_is_refused_naming_the_variable():
    with pytest.raises(
        NexthopError, match=r"eth0 \(towards 192\.0\.2\.2\) has no carrier \(operstate lowerlayerdown\)"
    ):
        check_link(link(carrier=False, operstate="lowerlayerdown"), "192.0.2.2", ROLE)
    with pytest.raises(NexthopError, match=r"set sender_targets\[1\]\.dev_name to an interface with a link"):
        check_link(link(carrier=False), "192.0.2.2", ROLE)


@pytest.mark.parametrize(
    ("destination", "needle"),
    [
        ("255.255.255.255", "sender_targets[1].remote_ip: 255.255.255.255 is the broadcast address"),
        ("224.0.0.1", "sender_targets[1].remote_ip: 224.0.0.1 is a multicast address"),
        ("ff02::1", "sender_targets[1].remote_ip: ff02::1 is a multicast address"),
        ("0.0.0.0", "is the unspecified address"),
    ],
)
def test_destinations_that_are_not_one_host_are_refused(destination, needle):
    with pytest.raises(NexthopError, match=re.escape(needle)):
        check_destination(destination, ROLE)


def test_unicast_destination_passes():
    check_destination("192.0.2.2", ROLE)
    check_destination("2001:db8::2", ROLE)


@pytest.mark.parametrize(
    ("route_type", "needle"),
    [
        (RTN_BROADCAST, "192.0.2.255 is a broadcast address on this host's network"),
        (RTN_MULTICAST, "is a multicast address"),
        (RTN_LOCAL, "is an address of this host"),
        (RTN_BLACKHOLE, "has a blackhole route covering 192.0.2.255"),
        (RTN_UNREACHABLE, "has an unreachable route"),
        (RTN_PROHIBIT, "has a prohibit route"),
    ],
)
def test_routes_that_deliver_to_no_one_host_are_named(route_type, needle):
    with pytest.raises(NexthopError, match=re.escape(needle)):
        check_route_type(route_type, "192.0.2.255", ROLE)
    check_route_type(RTN_UNICAST, "192.0.2.2", ROLE)


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        (errno.EINVAL, "a blackhole (or similar reject) route"),
        (errno.EHOSTUNREACH, "an unreachable (or similar reject) route"),
        (errno.EACCES, "a prohibit (or similar reject) route"),
        (errno.ENETUNREACH, "has no route to 192.0.2.2"),
        (errno.ENOBUFS, "no usable route to 192.0.2.2: boom"),
    ],
)
def test_route_lookup_errors_are_explained(code, needle):
    message = route_error_message(code, "boom", "192.0.2.2", ROLE)
    assert message.startswith("sender_targets[1].remote_ip: ")
    assert needle in message


def test_source_must_be_local_and_of_the_destinations_version():
    check_source_is_local("2001:db8::1", ["192.0.2.1", "2001:db8:0::1"], ROLE)
    with pytest.raises(
        NexthopError, match=r"sender_targets\[1\]\.local_ip: 192\.0\.2\.9 is not an address of this host"
    ):
        check_source_is_local("192.0.2.9", ["192.0.2.1"], ROLE)
    with pytest.raises(
        NexthopError, match=r"local_ip: 192\.0\.2\.1 is IPv4 but sender_targets\[1\]\.remote_ip 2001:db8::2 is IPv6"
    ):
        check_versions("2001:db8::2", "192.0.2.1", ROLE)
    check_versions("2001:db8::2", None, ROLE)


def test_wrong_interface_names_what_the_route_uses():
    message = wrong_interface_message(ROLE, "eth0", "203.0.113.2", "eth1", "198.51.100.254")
    assert message.startswith("sender_targets[1].dev_name: eth0 does not reach sender_targets[1].remote_ip 203.0.113.2")
    assert "through eth1 via gateway 198.51.100.254" in message
    assert "Set sender_targets[1].dev_name: eth1" in message
    assert "through eth1 (on-link)" in wrong_interface_message(ROLE, "eth0", "203.0.113.2", "eth1", None)
    assert "no route to it at all" in wrong_interface_message(ROLE, "eth0", "203.0.113.2", None, None)


def test_mac_is_resolved_to_the_one_interface_that_has_it():
    links = [
        link(index=2, name="eth0", mac="52:54:00:00:00:01"),
        link(index=3, name="eth1", mac="52:54:00:00:00:02"),
        link(index=4, name="tun0", mac=None, link_type=ARPHRD_NONE),
    ]
    assert find_interface_by_mac("52:54:00:00:00:02", links, ROLE).name == "eth1"
    with pytest.raises(NexthopError, match=r"dev_name: 52:54:00:00:00:09 is the MAC address of no interface"):
        find_interface_by_mac("52:54:00:00:00:09", links, ROLE)


def test_a_bonds_mac_means_the_bond_and_a_shared_mac_is_ambiguous():
    shared = "52:54:00:00:00:07"
    bond = [link(name="bond0", mac=shared), link(name="eth0", mac=shared, master="bond0", master_kind="bond")]
    assert find_interface_by_mac(shared, bond, ROLE).name == "bond0"
    vlans = [link(name="eth0.10", mac=shared), link(name="eth0.20", mac=shared)]
    with pytest.raises(NexthopError, match=r"belongs to several interfaces \(eth0\.10, eth0\.20\)"):
        find_interface_by_mac(shared, vlans, ROLE)


@pytest.mark.parametrize(
    ("state", "reprobe"),
    [
        (0x04, True),  # stale
        (0x20, True),  # failed
        (0x01, True),  # incomplete
        (0x08, True),  # delay
        (0x10, True),  # probe
        (0x02, False),  # reachable: confirmed, used as is
        (0x80, False),  # permanent: an administrator's, never touched
        (0x40, False),  # noarp
        (0, False),  # no entry
    ],
)
def test_only_unsettled_entries_are_removed_for_a_fresh_probe(state, reprobe):
    assert must_reprobe(state) is reprobe


@pytest.mark.parametrize(
    ("state", "reprobe"),
    [
        (0x02, True),  # reachable: the self-repair check asks the wire, the MAC may have changed since
        (0x04, True),  # stale
        (0x80, False),  # permanent: still never touched
        (0x40, False),  # noarp
        (0, False),  # no entry: nothing to remove
    ],
)
def test_fresh_resolution_removes_every_entry_but_an_administrators(state, reprobe):
    assert must_reprobe(state, fresh=True) is reprobe


def test_unresolved_message_names_the_remote_mac_variable():
    assert "give sender_targets[1].remote_mac by hand" in unresolved_message("192.0.2.1", "eth0", "failed", 3, ROLE)
