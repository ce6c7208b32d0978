"""The topology itself, on plain values: the filter layer (tests/unit/plugins/filter) reads the inventory."""

from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.topology import (
    Sender,
    friends_of,
    receivers_of,
    target_settings,
    targets_to,
)

GROUP = ["ann", "ben", "cat"]


def test_default_is_a_ring_and_a_list_replaces_it():
    assert [receivers_of(h, GROUP, None, "log_to") for h in GROUP] == [["ben"], ["cat"], ["ann"]]
    assert receivers_of("ann", GROUP, ["cat", "ben"], "log_to") == ["cat", "ben"]


def test_messages_name_the_variable_the_caller_gives():
    with pytest.raises(NetconsoleError, match=r"^where ann said: 'zed' is not in the netconsole group"):
        receivers_of("ann", GROUP, ["zed"], "where ann said")


def test_friends_are_filed_by_the_sources_they_discovered_towards_the_receiver():
    senders = [
        Sender("ben", "bens-box", ({"remote_ip": "192.0.2.1", "local_ip": "192.0.2.2"},), ("ben",)),
        Sender(
            "cat",
            "cat",
            (
                {"remote_ip": "192.0.2.1", "local_ip": "198.51.100.7"},
                {"remote_ip": "192.0.2.1", "local_ip": "198.51.100.7"},
                {"remote_ip": "192.0.2.9", "local_ip": "203.0.113.1"},
            ),
            (),
        ),
    ]
    assert friends_of("ann", "192.0.2.1", senders) == [
        {"name": "bens-box", "addresses": ["192.0.2.2"], "readers": ["ben"]},
        {"name": "cat", "addresses": ["198.51.100.7"], "readers": []},
    ]
    with pytest.raises(NetconsoleError, match=r"^cat has no discovered target for zed \(192\.0\.2\.9\)"):
        friends_of("zed", "192.0.2.9", [Sender("cat", "cat", (), ())])


def test_targets_are_the_receivers_address_and_port_with_the_settings():
    settings = target_settings({"extended": "yes", "local_port": "7000"}, 2, "extra")
    assert targets_to([("192.0.2.2", 7777), ("2001:db8::3", 6666)], settings) == [
        {"remote_ip": "192.0.2.2", "remote_port": 7777, "extended": True, "local_port": 7000},
        {"remote_ip": "2001:db8::3", "remote_port": 6666, "extended": True, "local_port": 7000},
    ]
    with pytest.raises(NetconsoleError, match=r"^extra\.remote_mac: this host logs to 2 receivers"):
        target_settings({"remote_mac": "52:54:00:00:00:01"}, 2, "extra")
