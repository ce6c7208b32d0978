"""verify.yml's filters: which canary goes to which file, read from the receivers' receiver_state."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import receiver_settings, receiver_state_of
from ansible_collections.logswap.netconsole.plugins.filter.verify import (
    FilterModule,
    verify_pairs,
    verify_receiver_sides,
    verify_results,
)

TARGET = {
    "remote_ip": "10.0.0.2",
    "local_ip": "10.0.0.1",
    "dev_name": "eth0",
    "local_port": 6665,
    "remote_port": 7777,
    "remote_mac": "52:54:00:00:00:02",
    "extended": True,
    "release": False,
}


SETTINGS = {
    "receiver_friends": [{"name": "ann", "addresses": ["10.0.0.1"]}],
    "receiver_port": 7777,
    "receiver_bind_address": "",
    "receiver_log_root": "/srv/logs",
    "receiver_log_owner": "root",
    "receiver_log_group": "adm",
    "receiver_rcvbuf": 4194304,
    "receiver_input_options": {},
    "receiver_logrotate_rotate": 30,
    "receiver_logrotate_maxage": 31,
    "receiver_logrotate_maxsize": "100M",
    "receiver_manage_fstab": True,
    "receiver_firewall": False,
    "receiver_friend_max_bytes": 268435456,
    "receiver_events": True,
    "receiver_events_silence": 900,
    "receiver_alerts": {},
    "receiver_alert_sendmail": "/usr/sbin/sendmail",
    "receiver_alert_from": "",
}


FINGERPRINT = "SHA512:" + ":".join(["AB"] * 64)


def state(relp_port=None):
    relp = (
        {}
        if relp_port is None
        else {"receiver_relp": True, "receiver_relp_port": relp_port, "receiver_relp_peers": [FINGERPRINT]}
    )
    return receiver_state_of(receiver_settings({**SETTINGS, **relp}))


def test_receiver_state_names_each_friends_files_and_the_ports():
    s = state()
    assert s["files"]["ann"] == {
        "dir": "/srv/logs/ann",
        "console": "/srv/logs/ann/console.log",
        "kernel": "/srv/logs/ann/kernel.log",
    }
    assert s["ports"] == {"udp": 7777, "relp": None}
    assert state("2514")["ports"] == {"udp": 7777, "relp": 2514}
    assert [f["name"] for f in s["friends"]] == ["ann"]
    with pytest.raises(AnsibleFilterError, match=r"^receiver_relp_port: 0 is not a TCP port"):
        state(0)
    with pytest.raises(
        AnsibleFilterError, match=r"^receiver_relp: the reliable channel is on but receiver_relp_peers is empty"
    ):
        receiver_settings({**SETTINGS, "receiver_relp": "yes"})


def test_the_settings_shown_leave_the_webhook_urls_out():
    alerts = {"ann": {"webhook": "https://hooks.example/T0KEN"}}
    shown = receiver_settings({**SETTINGS, "receiver_alerts": alerts}, "Debian", False)
    assert shown["events"]["friends"][0]["webhook"] == "(set)"
    assert "T0KEN" not in str(shown)
    assert receiver_settings({**SETTINGS, "receiver_alerts": alerts})["events"]["friends"][0]["webhook"].endswith(
        "T0KEN"
    )


def test_each_canary_goes_to_the_file_the_receiver_files_this_host_in():
    hostvars = {"ben": {"receiver_state": state()}}
    assert verify_pairs([TARGET], ["ben"], hostvars, "ann") == [
        {
            "receiver": "ben",
            "target": {
                "local_ip": "10.0.0.1",
                "local_port": 6665,
                "remote_ip": "10.0.0.2",
                "remote_port": 7777,
                "extended": True,
            },
            "file": "/srv/logs/ann/console.log",
            "port": 7777,
        }
    ]
    # a host without friends' targets (none discovered) has nothing to prove
    assert verify_pairs(None, ["ben"], hostvars, "ann") == []


def test_a_receiver_that_did_not_learn_its_state_or_does_not_know_the_sender_is_named():
    with pytest.raises(AnsibleFilterError, match=r"^ben has no receiver_state"):
        verify_pairs([TARGET], ["ben"], {"ben": {}}, "ann")
    with pytest.raises(AnsibleFilterError, match=r"^ben does not receive from zed \(.*files for ann\)"):
        verify_pairs([TARGET], ["ben"], {"ben": {"receiver_state": state()}}, "zed")


def test_results_pair_the_registered_loops_in_order_and_the_diagnoses_by_receiver():
    pairs = [{"receiver": "ben", "file": "/f", "port": 6666}, {"receiver": "cat", "file": "/g", "port": 6666}]
    canaries = {"results": [{"emulated": True, "sent_at": 0}, {"emulated": False, "sent_at": 0}]}
    arrivals = {"results": [{"rc": 0, "stdout": "1970-01-01T00:00:00.250000+00:00 x"}, {"rc": 124}]}
    results = verify_results(pairs, canaries, arrivals, "ann")
    assert [(r["receiver"], r["delivered"], r["latency_ms"]) for r in results] == [
        ("ben", True, 250.0),
        ("cat", False, None),
    ]
    sides = verify_receiver_sides({"results": [{"item": results[1], "stdout": "===\n===\nno file"}]})
    assert sides == {"cat": "listening: \nlast lines of /g:\nno file"}
    with pytest.raises(ValueError):
        verify_results(pairs, canaries, {"results": arrivals["results"][:1]}, "ann")


def test_every_filter_verify_yml_uses_is_registered():
    used = {"verify_pairs", "verify_results", "verify_line", "verify_counters", "verify_sender_side"}
    assert used | {"verify_receiver_sides", "verify_failure"} <= set(FilterModule().filters())
