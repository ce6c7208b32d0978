"""The filters are what the roles call: each must pass the checked value on and turn a bad one into a task error."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import (
    FilterModule,
    checked_bool,
    checked_int,
    netconsole_merge_discovery,
    netconsole_parameter,
    netconsole_parameter_bound,
    netconsole_release_check,
    netconsole_same_receivers,
    netconsole_targets,
    netconsole_targets_to,
)


def test_every_filter_the_roles_use_is_registered():
    names = set(FilterModule().filters())
    assert {
        "netconsole_targets",
        "netconsole_parameter_bound",
        "netconsole_release_check",
        "netconsole_same_receivers",
        "netconsole_targets_to",
        "checked_bool",
        "checked_int",
    } <= names


def test_targets_come_back_filled_with_booleans_as_written():
    [target] = netconsole_targets([{"remote_ip": "10.0.0.2", "extended": "false", "release": "no"}])
    assert target == {
        "remote_ip": "10.0.0.2",
        "local_ip": None,
        "dev_name": None,
        "local_port": 6665,
        "remote_port": 6666,
        "remote_mac": None,
        "extended": False,
        "release": False,
    }
    assert netconsole_parameter([target]) == "6665@/,6666@10.0.0.2/"


@pytest.mark.parametrize(
    ("targets", "needle"),
    [
        ([{"remote_ip": "10.0.0.2", "extendd": True}], r"^sender_targets\[0\]: unknown key 'extendd'"),
        ([{"remote_ip": "10.0.0.2", "extended": "maybe"}], r"^sender_targets\[0\]\.extended: 'maybe' is not a boolean"),
        ([{"remote_ip": "10.0.0.2"}, {"remote_ip": "10.0.0.2"}], r"^sender_targets: the receiver '10\.0\.0\.2 port"),
        ([], r"^sender_targets: at least one target"),
        ("10.0.0.2", r"^sender_targets: expected a list"),
    ],
)
def test_bad_targets_are_a_filter_error_naming_the_variable(targets, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        netconsole_targets(targets)


def test_merged_discovery_keeps_what_was_given_and_fills_the_rest():
    given = netconsole_targets(
        [{"remote_ip": "10.0.0.2", "extended": "yes"}, {"remote_ip": "10.0.0.3", "dev_name": "eth1"}]
    )
    hops = [
        {"interface": "eth0", "source": "10.0.0.1", "remote_mac": "52:54:00:00:00:02"},
        {"interface": "eth9", "source": "10.0.0.1", "remote_mac": "52:54:00:00:00:03"},
    ]
    merged = netconsole_merge_discovery(given, hops)
    assert netconsole_parameter(merged) == (
        "+6665@10.0.0.1/eth0,6666@10.0.0.2/52:54:00:00:00:02;6665@10.0.0.1/eth1,6666@10.0.0.3/52:54:00:00:00:03"
    )


def test_the_length_bound_fails_before_discovery():
    v6 = [{"remote_ip": f"2001:db8:1234:5678:9abc:def0:1234:{i}", "extended": True} for i in range(1, 5)]
    assert netconsole_parameter_bound(v6[:3]) <= 255
    with pytest.raises(AnsibleFilterError, match=r"^sender_targets: the netconsole= parameter would be at least \d+"):
        netconsole_parameter_bound(v6)


def test_release_check_passes_or_names_the_target():
    targets = [{"remote_ip": "10.0.0.2", "extended": True, "release": "true"}]
    assert netconsole_release_check(targets, ["/boot/vmlinuz-6.12.1"]) is True
    assert netconsole_release_check(targets, None) is True
    with pytest.raises(AnsibleFilterError, match=r"^sender_targets\[0\]\.release: .* or set sender_persist: false"):
        netconsole_release_check(targets, ["/boot/vmlinuz-6.1.0-28-amd64"])


def test_self_repair_targets_must_name_the_same_receivers_in_order():
    given = netconsole_targets([{"remote_ip": "10.0.0.2"}, {"remote_ip": "10.0.0.3"}])
    repair = netconsole_targets([{"remote_ip": "10.0.0.2", "dev_name": "eth0"}, {"remote_ip": "10.0.0.3"}])
    assert netconsole_same_receivers(repair, given) is repair
    with pytest.raises(
        AnsibleFilterError,
        match=r"^sender_self_repair_targets: its receivers \(10\.0\.0\.3, 10\.0\.0\.2\)"
        r" are not those of sender_targets \(10\.0\.0\.2, 10\.0\.0\.3\), in order",
    ):
        netconsole_same_receivers(list(reversed(repair)), given)
    with pytest.raises(AnsibleFilterError, match=r"its receivers \(none\)"):
        netconsole_same_receivers([], given)


def test_targets_to_turns_a_bad_setting_into_a_filter_error():
    hostvars = {"ben": {"netconsole_address": "192.0.2.2"}}
    assert netconsole_targets_to(["ben"], hostvars, {"extended": "no"}) == [
        {"remote_ip": "192.0.2.2", "remote_port": 6666, "extended": False}
    ]
    with pytest.raises(AnsibleFilterError, match=r"^netconsole_target: unknown key 'extendd'"):
        netconsole_targets_to(["ben"], hostvars, {"extendd": True})


@pytest.mark.parametrize(
    ("value", "expected"), [("false", False), ("no", False), ("0", False), ("yes", True), (True, True)]
)
def test_checked_bool(value, expected):
    assert checked_bool(value, "sender_persist") is expected


def test_checked_bool_refuses_what_is_not_a_boolean():
    with pytest.raises(AnsibleFilterError, match=r"^sender_persist: 'perhaps' is not a boolean; write true or false"):
        checked_bool("perhaps", "sender_persist")


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "needle"),
    [
        (9, 0, 8, r"^sender_loglevel: 9 is out of range; give a number from 0 to 8"),
        ("-1", 0, None, r"^sender_loglevel: '-1' is out of range; give a number at least 0"),
        ("7.5", 0, 8, r"^sender_loglevel: '7\.5' is not a whole number"),
    ],
)
def test_checked_int_refuses_naming_the_variable(value, minimum, maximum, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        checked_int(value, "sender_loglevel", minimum, maximum)
    assert checked_int("7", "sender_loglevel", 0, 8) == 7


def test_the_parameter_names_the_target_a_bad_discovered_value_belongs_to():
    targets = [{"remote_ip": "10.0.0.2"}, {"remote_ip": "10.0.0.3", "dev_name": "a/b"}]
    with pytest.raises(AnsibleFilterError, match=r"^sender_targets\[1\]\.dev_name: 'a/b' is not a network interface"):
        netconsole_parameter(targets)
