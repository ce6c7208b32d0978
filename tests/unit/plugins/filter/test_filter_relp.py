"""The reliable channel's filters read each host's fingerprint, address and RELP port from the inventory."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.relp import FilterModule
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import fingerprint

FP = {name: fingerprint(name.encode()) for name in ("a", "b", "c")}
peers_of = FilterModule().filters()["relp_peers"]
relp_targets_to = FilterModule().filters()["relp_targets"]


def hostvars(**extra):
    hv = {
        name: {"netconsole_address": f"192.0.2.{i + 1}", "netconsole_relp_fingerprint": FP[name]}
        for i, name in enumerate("abc")
    }
    for name, facts in extra.items():
        hv[name].update(facts)
    return hv


def test_a_receiver_pins_exactly_the_hosts_that_log_to_it():
    # ring a -> b -> c -> a; c also logs to b
    hv = hostvars(c={"netconsole_log_to": ["a", "b"]})
    assert peers_of("b", list("abc"), hv) == [FP["a"], FP["c"]]
    assert peers_of("a", list("abc"), hv) == [FP["c"]]


def test_a_sender_pins_each_receiver_with_its_port():
    hv = hostvars(b={"receiver_relp_port": "3514", "netconsole_name": "bee"})
    assert relp_targets_to(["b"], hv) == [{"name": "bee", "address": "192.0.2.2", "port": 3514, "fingerprint": FP["b"]}]


def test_a_host_with_the_channel_off_is_left_out_on_both_sides():
    hv = hostvars(a={"netconsole_relp_fingerprint": ""})
    assert peers_of("b", list("abc"), hv) == []
    assert relp_targets_to(["a"], hv) == []


def test_a_missing_identity_is_named():
    hv = hostvars()
    del hv["a"]["netconsole_relp_fingerprint"]
    with pytest.raises(AnsibleFilterError, match=r"^a has no netconsole_relp_fingerprint"):
        peers_of("b", list("abc"), hv)


def test_a_bad_relp_port_on_the_receiver_is_named_there():
    with pytest.raises(AnsibleFilterError, match="receiver_relp_port of b: 70000 is not a TCP port"):
        relp_targets_to(["b"], hostvars(b={"receiver_relp_port": 70000}))
