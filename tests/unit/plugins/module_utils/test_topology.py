from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.topology import friends_of, receivers_of, targets_to

GROUP = ["ann", "ben", "cat"]


def test_default_is_a_ring():
    assert [receivers_of(h, GROUP, None) for h in GROUP] == [["ben"], ["cat"], ["ann"]]


def test_two_friends_log_to_each_other_and_one_host_logs_nowhere():
    assert receivers_of("ann", ["ann", "ben"], None) == ["ben"]
    assert receivers_of("ben", ["ann", "ben"], None) == ["ann"]
    assert receivers_of("ann", ["ann"], None) == []


def test_a_host_may_list_its_receivers():
    assert receivers_of("ann", GROUP, ["cat", "ben"]) == ["cat", "ben"]
    assert receivers_of("ann", GROUP, "cat") == ["cat"]


@pytest.mark.parametrize(("log_to", "needle"), [(["zed"], "'zed' is not in the netconsole group"), (["ann"], "itself")])
def test_bad_log_to_names_the_host(log_to, needle):
    with pytest.raises(NetconsoleError, match=needle):
        receivers_of("ann", GROUP, log_to)


def hostvars():
    return {
        "ann": {
            "netconsole_address": "192.0.2.1",
            "netconsole_readers": ["ann"],
            "sender_discovered": [{"remote_ip": "192.0.2.2", "local_ip": "192.0.2.1"}],
        },
        "ben": {
            "netconsole_address": "192.0.2.2",
            "netconsole_readers": ["ben"],
            "netconsole_name": "bens-box",
            "receiver_port": 7777,
            "sender_discovered": [{"remote_ip": "192.0.2.3", "local_ip": "192.0.2.2"}],
        },
        "cat": {
            "netconsole_address": "192.0.2.3",
            "sender_discovered": [{"remote_ip": "192.0.2.1", "local_ip": "198.51.100.7"}],
        },
    }


def test_friends_come_from_the_senders_side():
    assert friends_of("ann", GROUP, hostvars()) == [{"name": "cat", "addresses": ["198.51.100.7"], "readers": []}]
    assert friends_of("cat", GROUP, hostvars()) == [
        {"name": "bens-box", "addresses": ["192.0.2.2"], "readers": ["ben"]}
    ]


def test_a_sender_without_discovery_is_an_error():
    facts = hostvars()
    facts["cat"]["sender_discovered"] = []
    with pytest.raises(NetconsoleError, match="cat has no discovered target for ann"):
        friends_of("ann", GROUP, facts)


def test_targets_use_the_receivers_address_and_port():
    assert targets_to(["ben"], hostvars(), {"extended": True}) == [
        {"remote_ip": "192.0.2.2", "remote_port": 7777, "extended": True}
    ]
