from __future__ import annotations

import re

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import (
    ARPHRD_ETHER,
    ARPHRD_LOOPBACK,
    ARPHRD_NONE,
    Link,
    NexthopError,
    check_link,
    next_hop,
    nud_state_name,
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
