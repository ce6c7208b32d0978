"""The topology filters read the inventory (hostvars) and name each value as the user wrote it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import (
    netconsole_friends,
    netconsole_receivers,
    netconsole_targets_to,
)

GROUP = ["ann", "ben", "cat"]


def test_default_is_a_ring():
    assert [netconsole_receivers(h, GROUP, None) for h in GROUP] == [["ben"], ["cat"], ["ann"]]


def test_two_friends_log_to_each_other_and_one_host_logs_nowhere():
    assert netconsole_receivers("ann", ["ann", "ben"], None) == ["ben"]
    assert netconsole_receivers("ben", ["ann", "ben"], None) == ["ann"]
    assert netconsole_receivers("ann", ["ann"], None) == []


def test_a_host_may_list_its_receivers():
    assert netconsole_receivers("ann", GROUP, ["cat", "ben"]) == ["cat", "ben"]
    assert netconsole_receivers("ann", GROUP, "cat") == ["cat"]


@pytest.mark.parametrize(("log_to", "needle"), [(["zed"], "'zed' is not in the netconsole group"), (["ann"], "itself")])
def test_bad_log_to_names_the_host(log_to, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        netconsole_receivers("ann", GROUP, log_to)


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
    assert netconsole_friends("ann", GROUP, hostvars()) == [
        {"name": "cat", "addresses": ["198.51.100.7"], "readers": []}
    ]
    assert netconsole_friends("cat", GROUP, hostvars()) == [
        {"name": "bens-box", "addresses": ["192.0.2.2"], "readers": ["ben"]}
    ]


def test_a_sender_without_discovery_is_an_error():
    facts = hostvars()
    facts["cat"]["sender_discovered"] = []
    with pytest.raises(AnsibleFilterError, match="cat has no discovered target for ann"):
        netconsole_friends("ann", GROUP, facts)


def test_targets_use_the_receivers_address_and_port():
    assert netconsole_targets_to(["ben"], hostvars(), {"extended": True}) == [
        {"remote_ip": "192.0.2.2", "remote_port": 7777, "extended": True}
    ]


def test_a_duplicate_in_log_to_is_refused():
    with pytest.raises(AnsibleFilterError, match=r"netconsole_log_to of ann: the receiver 'ben' is given twice"):
        netconsole_receivers("ann", GROUP, ["ben", "cat", "ben"])


def test_log_to_that_is_not_a_list_is_refused():
    with pytest.raises(AnsibleFilterError, match=r"netconsole_log_to of ann: expected a list"):
        netconsole_receivers("ann", GROUP, 5)


def test_one_reader_given_as_text_is_one_reader():
    # INI inventories give netconsole_readers=ben as text; list("ben") would be three readers
    facts = hostvars()
    facts["ben"]["netconsole_readers"] = "ben"
    assert netconsole_friends("cat", GROUP, facts)[0]["readers"] == ["ben"]


def test_the_receivers_address_matches_however_it_is_written():
    facts = {
        "ann": {"netconsole_address": "2001:DB8::0:1", "sender_discovered": []},
        "ben": {
            "netconsole_address": "2001:db8::2",
            "sender_discovered": [{"remote_ip": "2001:db8::1", "local_ip": "2001:db8::2"}],
        },
    }
    assert netconsole_friends("ann", ["ann", "ben"], facts)[0]["addresses"] == ["2001:db8::2"]


def test_target_settings_written_as_text_mean_what_they_say():
    assert netconsole_targets_to(["ben"], hostvars(), {"extended": "false", "release": "no", "local_port": "7000"}) == [
        {"remote_ip": "192.0.2.2", "remote_port": 7777, "extended": False, "release": False, "local_port": 7000}
    ]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"extendd": True}, r"^netconsole_target: unknown key 'extendd'; the keys are dev_name, local_ip"),
        ({"extended": "maybe"}, r"^netconsole_target\.extended: 'maybe' is not a boolean"),
        ({"local_port": 0}, r"^netconsole_target\.local_port: 0 is not a UDP port"),
        ({"remote_ip": "192.0.2.9"}, r"^netconsole_target\.remote_ip: set by each receiver"),
        ({"remote_port": 1}, r"^netconsole_target\.remote_port: set by each receiver"),
        ("extended=true", r"^netconsole_target: expected a mapping such as \{extended: true\}"),
    ],
)
def test_bad_target_settings_are_refused_naming_them(extra, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        netconsole_targets_to(["ben"], hostvars(), extra)


def test_one_mac_for_several_receivers_is_refused():
    mac = {"remote_mac": "52:54:00:00:00:01"}
    assert netconsole_targets_to(["ben"], hostvars(), mac)[0]["remote_mac"] == "52:54:00:00:00:01"
    with pytest.raises(AnsibleFilterError, match=r"netconsole_target\.remote_mac: this host logs to 2 receivers"):
        netconsole_targets_to(["ben", "cat"], hostvars(), mac)


@pytest.mark.parametrize(
    ("facts", "needle"),
    [
        ({"netconsole_address": "192.0.2.300"}, r"^netconsole_address of ben: '192\.0\.2\.300' is not an IPv4"),
        ({"netconsole_address": "192.0.2.2", "receiver_port": 70000}, r"^receiver_port of ben: 70000 is not a UDP"),
    ],
)
def test_the_receivers_facts_are_named_on_the_receivers_side(facts, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        netconsole_targets_to(["ben"], {"ben": facts})


def test_a_host_may_name_its_interface_by_mac_for_discovery_to_resolve():
    hostvars = {"ben": {"netconsole_address": "10.0.0.2"}}
    targets = netconsole_targets_to(["ben"], hostvars, {"dev_name": "02-42-AC-1E-4E-0B"})
    assert targets[0]["dev_name"] == "02:42:ac:1e:4e:0b"
