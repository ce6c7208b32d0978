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


def test_a_duplicate_in_log_to_is_refused():
    with pytest.raises(NetconsoleError, match=r"netconsole_log_to of ann: the receiver 'ben' is given twice"):
        receivers_of("ann", GROUP, ["ben", "cat", "ben"])


def test_log_to_that_is_not_a_list_is_refused():
    with pytest.raises(NetconsoleError, match=r"netconsole_log_to of ann: expected a list"):
        receivers_of("ann", GROUP, 5)


def test_one_reader_given_as_text_is_one_reader():
    # INI inventories give netconsole_readers=ben as text; list("ben") would be three readers
    facts = hostvars()
    facts["ben"]["netconsole_readers"] = "ben"
    assert friends_of("cat", GROUP, facts)[0]["readers"] == ["ben"]


def test_the_receivers_address_matches_however_it_is_written():
    facts = {
        "ann": {"netconsole_address": "2001:DB8::0:1", "sender_discovered": []},
        "ben": {
            "netconsole_address": "2001:db8::2",
            "sender_discovered": [{"remote_ip": "2001:db8::1", "local_ip": "2001:db8::2"}],
        },
    }
    assert friends_of("ann", ["ann", "ben"], facts)[0]["addresses"] == ["2001:db8::2"]


def test_target_settings_written_as_text_mean_what_they_say():
    assert targets_to(["ben"], hostvars(), {"extended": "false", "release": "no", "local_port": "7000"}) == [
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
    with pytest.raises(NetconsoleError, match=needle):
        targets_to(["ben"], hostvars(), extra)


def test_one_mac_for_several_receivers_is_refused():
    mac = {"remote_mac": "52:54:00:00:00:01"}
    assert targets_to(["ben"], hostvars(), mac)[0]["remote_mac"] == "52:54:00:00:00:01"
    with pytest.raises(NetconsoleError, match=r"netconsole_target\.remote_mac: this host logs to 2 receivers"):
        targets_to(["ben", "cat"], hostvars(), mac)


@pytest.mark.parametrize(
    ("facts", "needle"),
    [
        ({"netconsole_address": "192.0.2.300"}, r"^netconsole_address of ben: '192\.0\.2\.300' is not an IPv4"),
        ({"netconsole_address": "192.0.2.2", "receiver_port": 70000}, r"^receiver_port of ben: 70000 is not a UDP"),
    ],
)
def test_the_receivers_facts_are_named_on_the_receivers_side(facts, needle):
    with pytest.raises(NetconsoleError, match=needle):
        targets_to(["ben"], {"ben": facts})


def test_a_host_may_name_its_interface_by_mac_for_discovery_to_resolve():
    targets = targets_to(["ben"], {"ben": {"netconsole_address": "10.0.0.2"}}, {"dev_name": "02-42-AC-1E-4E-0B"})
    assert targets[0]["dev_name"] == "02:42:ac:1e:4e:0b"
