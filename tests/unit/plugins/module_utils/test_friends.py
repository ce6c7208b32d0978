from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.logswap.netconsole.plugins.module_utils import configcheck
from ansible_collections.logswap.netconsole.plugins.module_utils.friends import (
    refusals,
    validate_friends,
    validate_receiver,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError


def test_friends_are_normalized():
    friends = validate_friends(
        [{"name": "alice", "addresses": ["192.0.2.10", "2001:DB8::0:10"], "readers": ["alice", "alice"]}]
    )
    assert friends == [{"name": "alice", "addresses": ["192.0.2.10", "2001:db8::10"], "readers": ["alice"]}]


def test_a_single_address_string_is_accepted():
    assert validate_friends([{"name": "bob", "addresses": "192.0.2.11"}])[0]["addresses"] == ["192.0.2.11"]


@pytest.mark.parametrize(
    ("friends", "needle"),
    [
        ([{"name": "a/b", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: 'a/b' cannot be a directory"),
        ([{"name": "..", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: '..'"),
        ([{"name": "al ice", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: 'al ice'"),
        ([{"addresses": ["192.0.2.1"]}], "receiver_friends[0].name: None"),
        ([{"name": "a", "addresses": ["192.0.2.300"]}], "receiver_friends[a].addresses: '192.0.2.300' is not"),
        ([{"name": "a", "addresses": []}], "receiver_friends[a].addresses: at least one"),
        (
            [{"name": "a", "addresses": ["192.0.2.1"]}, {"name": "a", "addresses": ["192.0.2.2"]}],
            "receiver_friends[a].name: 'a' is given twice",
        ),
        (
            [{"name": "a", "addresses": ["192.0.2.1"]}, {"name": "b", "addresses": ["192.0.2.01"]}],
            "receiver_friends[b].addresses: '192.0.2.01' is not an IPv4 or IPv6 address",
        ),
        (
            [{"name": "a", "addresses": ["2001:db8::1"]}, {"name": "b", "addresses": ["2001:DB8::0:1"]}],
            "receiver_friends[b].addresses: 2001:db8::1 is also given for friend 'a'",
        ),
        ([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["Bad User"]}], "receiver_friends[a].readers"),
        ([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["root"]}], "root reads everything"),
        ([{"name": "a\n", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: 'a\\n' cannot be"),
        ([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["al\n"]}], "receiver_friends[a].readers: 'al\\n'"),
        ([{"name": "a", "addresses": ["192.0.2.1"], "reader": ["alice"]}], "receiver_friends[0]: unknown key 'reader'"),
        ("alice", "receiver_friends: expected a list"),
    ],
)
def test_bad_friends_name_the_variable(friends, needle):
    with pytest.raises(NetconsoleError) as info:
        validate_friends(friends)
    assert needle in str(info.value)


# Every receiver variable, checked in one place (validate_receiver) -------------------------------------------

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles" / "receiver" / "defaults" / "main.yml").read_text())
SCENARIO_FRIENDS = [
    {"name": "alice", "addresses": ["172.30.77.21"], "readers": ["alice"]},
    {"name": "bob", "addresses": ["172.30.77.22"], "readers": ["bob"]},
]
BAD_VALUES = yaml.safe_load((ROOT / "tests" / "lib" / "receiver_bad_values.yml").read_text())


def settings(**overrides: object) -> dict:
    return {**DEFAULTS, "receiver_friends": SCENARIO_FRIENDS, **overrides}


def test_the_defaults_and_the_scenarios_friends_pass():
    checked = validate_receiver(settings())
    assert checked["port"] == 6666 and checked["bind"] == "" and checked["input_options"] == []
    assert checked["log_root"] == "/var/log/remote" and checked["logrotate_maxsize"] == "100M"
    assert checked["manage_fstab"] is True and checked["firewall"] is False


@pytest.mark.parametrize("case", [c for c in BAD_VALUES if c.get("stage", "filter") == "filter"], ids=lambda c: c["id"])
def test_each_bad_value_is_refused_naming_the_variable(case):
    with pytest.raises(NetconsoleError) as info:
        validate_receiver(settings(**case["vars"]))
    for needle in case["needles"]:
        assert needle in str(info.value)


@pytest.mark.parametrize("case", [c for c in BAD_VALUES if c.get("stage") == "host"], ids=lambda c: c["id"])
def test_values_only_the_host_can_refuse_pass_the_variable_check(case):
    validate_receiver(settings(**case["vars"]))


@pytest.mark.parametrize(
    ("written", "meant"),
    [("false", False), ("no", False), ("0", False), ("off", False), ("true", True), ("yes", True), ("1", True)],
)
def test_booleans_written_as_text_mean_what_they_say(written, meant):
    checked = validate_receiver(settings(receiver_firewall=written, receiver_manage_fstab=written))
    assert checked["firewall"] is meant and checked["manage_fstab"] is meant


def test_an_ipv4_mapped_address_is_the_ipv4_sender():
    friends = validate_friends([{"name": "a", "addresses": ["::ffff:192.0.2.7", "::FFFF:c000:208"]}])
    assert friends[0]["addresses"] == ["192.0.2.7", "192.0.2.8"]
    assert validate_receiver(settings(receiver_bind_address="::ffff:172.30.77.11"))["bind"] == "172.30.77.11"


def test_a_link_local_address_keeps_its_zone_in_the_form_rsyslog_shows():
    friends = validate_friends([{"name": "a", "addresses": ["FE80::0:1%veth0"]}])
    assert friends[0]["addresses"] == ["fe80::1%veth0"]


def test_a_bind_address_of_the_friends_family_is_accepted():
    v6 = [{"name": "a", "addresses": ["2001:db8::7", "fe80::7%eth0"]}]
    checked = validate_receiver(settings(receiver_bind_address="2001:db8::1", receiver_friends=v6))
    assert checked["bind"] == "2001:db8::1"
    assert validate_receiver(settings(receiver_bind_address="172.30.77.11"))["bind"] == "172.30.77.11"


def test_a_link_local_friend_cannot_be_opened_with_firewalld():
    friends = [{"name": "a", "addresses": ["fe80::7%eth0"]}]
    with pytest.raises(NetconsoleError, match=r"receiver_friends\[a\].addresses: firewalld rich rules take no zone"):
        validate_receiver(settings(receiver_friends=friends, receiver_firewall=True), os_family="RedHat")
    assert validate_receiver(settings(receiver_friends=friends, receiver_firewall=True))["firewall"] is True


def test_input_options_come_out_in_rsyslogs_spelling_with_checked_values():
    options = {"RateLimit.Burst": "20000", "ratelimit.interval": 0, "device": "eth1", "name.appendport": "yes"}
    assert validate_receiver(settings(receiver_input_options=options))["input_options"] == [
        ("device", "eth1"),
        ("name.appendPort", "on"),
        ("ratelimit.burst", "20000"),
        ("ratelimit.interval", "0"),
    ]


def test_the_documented_input_options_example_is_accepted():
    """defaults/main.yml names {"device": "eth1"}; the integration test runs it in rsyslogd."""
    assert '{"device": "eth1"}' in (ROOT / "roles" / "receiver" / "defaults" / "main.yml").read_text()
    checked = validate_receiver(settings(receiver_input_options={"device": "eth1"}))
    assert checked["input_options"] == [("device", "eth1")]


def test_alerts_come_out_per_friend_with_the_defaults_filled_in():
    alerts = {
        "alice": {"mail": ["alice@example.org", "alice@example.org"], "webhook": "https://[2001:db8::5]:8443/h?t=1"},
        "bob": {"alert_on": ["silence", "panic"], "silence": "600"},
    }
    events = validate_receiver(settings(receiver_alerts=alerts, receiver_events_silence=120))["events"]
    assert events["on"] is True and events["mail"] is True and events["sendmail"] == "/usr/sbin/sendmail"
    alice, bob = events["friends"]
    assert alice == {
        "name": "alice",
        "addresses": ["172.30.77.21"],  # the service counts a silence only while it can hear one of them
        "silence": 120,
        "alert_on": ["panic", "oops", "reboot", "silence"],
        "mail": ["alice@example.org"],
        "webhook": "https://[2001:db8::5]:8443/h?t=1",
    }
    assert (bob["alert_on"], bob["silence"], bob["mail"], bob["webhook"]) == (["panic", "silence"], 600, [], "")


# What config_check refuses, in the receiver's words (refusals) ---------------------------------------------


def _found(users=(), groups=(), executables=(), unescaping=(), includes=True, rsyslog=0, output="") -> dict:
    """config_check's result with the given findings."""
    return {
        "missing": {"users": list(users), "groups": list(groups), "executables": list(executables)},
        "unescaping": list(unescaping),
        "includes_dropins": includes,
        "rsyslog": {"rc": rsyslog, "output": output},
        "logrotate": {"rc": 0, "errors": []},
        "nftables": {"rc": 0, "output": ""},
    }


def test_each_missing_reader_is_named_by_friend_and_every_problem_is_said_at_once():
    friends = [
        {"name": "a", "addresses": ["192.0.2.1"], "readers": ["alice", "ghost"]},
        {"name": "b", "addresses": ["192.0.2.2"], "readers": ["ghost"]},
    ]
    checked = validate_receiver({**DEFAULTS, "receiver_friends": friends})
    refuse = refusals(checked)
    said = configcheck.refusals(_found(users=["ghost"], rsyslog=1, output="error on line 3"), refuse)
    assert said[0] == (
        "receiver_friends[a].readers: user 'ghost' does not exist on this host; create the account first (or remove "
        "it from readers); receiver_friends[b].readers: user 'ghost' does not exist on this host; create the account "
        "first (or remove it from readers);"
    )
    assert said[1].startswith("rsyslogd -N1 refused") and said[1].endswith("rsyslogd said: error on line 3")
    assert len(said) == 2


def test_a_host_that_has_everything_and_accepts_the_configuration_is_not_refused():
    checked = validate_receiver({**DEFAULTS, "receiver_friends": SCENARIO_FRIENDS})
    assert configcheck.refusals(_found(), refusals(checked)) == []
    # the owner and group by their own variables; files that unescape listed before the reason
    said = configcheck.refusals(
        _found(
            users=[checked["log_owner"]],
            groups=[checked["log_group"]],
            unescaping=["/etc/rsyslog.d/x.conf"],
            includes=False,
        ),
        refusals(checked),
    )
    assert said[0] == f"receiver_log_owner: user {checked['log_owner']!r} does not exist on this host;"
    assert said[1] == f"receiver_log_group: group {checked['log_group']!r} does not exist on this host;"
    assert said[2].startswith("/etc/rsyslog.d/x.conf turns off escapeControlCharactersOnReceive")
    assert said[3].startswith("/etc/rsyslog.conf does not include /etc/rsyslog.d/*.conf")


def test_findings_the_caller_does_not_refuse_are_left_alone():
    assert configcheck.refusals(_found(users=["ghost"], rsyslog=1), {"groups": {}}) == []
    assert configcheck.refusals(_found(users=["ghost"]), {"users": {}}) == ["user 'ghost' does not exist on this host."]
    # an account named twice (the log owner is a reader too) is said once
    assert configcheck.refusals(_found(users=["ghost", "ghost"]), {"users": {}}) == [
        "user 'ghost' does not exist on this host."
    ]
