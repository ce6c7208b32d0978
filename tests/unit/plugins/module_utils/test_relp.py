from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import (
    tcp_port,
    validate_relp_targets,
    validate_sender_relp,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import fingerprint

FP = {name: fingerprint(name.encode()) for name in ("a", "b", "c")}


@pytest.mark.parametrize("bad", [0, 65536, "x", True, "2514\n"])
def test_tcp_port(bad):
    with pytest.raises(NetconsoleError, match=r"^receiver_relp_port: "):
        tcp_port(bad, "receiver_relp_port")


def test_targets_are_checked_and_named():
    good = {"name": "bob", "address": "192.0.2.2", "fingerprint": FP["b"].lower()}
    assert validate_relp_targets([good]) == [{**good, "port": 2514, "fingerprint": FP["b"]}]
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[1\]\.name: 'bob' is given twice"):
        validate_relp_targets([good, good])
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[0\]\.name: "):
        validate_relp_targets([{**good, "name": 'bob"\naction('}])
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[0\]: unknown key 'adress'"):
        validate_relp_targets([{"name": "bob", "adress": "192.0.2.2", "fingerprint": FP["b"]}])
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[0\]\.port: "):
        validate_relp_targets([{**good, "port": 0}])
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[0\]\.fingerprint: "):
        validate_relp_targets([{**good, "fingerprint": "SHA1:AA"}])


def test_names_that_would_share_a_queue_file_are_refused():
    one = {"name": "srv-1", "address": "192.0.2.2", "fingerprint": FP["b"]}
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[1\]\.name: 'srv_1' and 'srv-1' would share"):
        validate_relp_targets([one, {**one, "name": "srv_1", "address": "192.0.2.3"}])


@pytest.mark.parametrize("address", ['fe80::1%x" tls="off"', "fe80::1%eth0", "192.0.2.1\n"])
def test_an_address_with_a_zone_or_more_never_reaches_the_configuration(address):
    target = {"name": "bob", "address": address, "fingerprint": FP["b"]}
    if address.endswith("\n"):  # surrounding space is dropped: the canonical text is what is written
        assert validate_relp_targets([target])[0]["address"] == "192.0.2.1"
        return
    with pytest.raises(NetconsoleError, match=r"^sender_relp_targets\[0\]\.address: .* has a zone"):
        validate_relp_targets([target])


def test_the_channel_on_needs_a_friend_and_off_takes_none():
    assert validate_relp_targets([], required=False) == []
    with pytest.raises(NetconsoleError, match=r"^sender_relp: the reliable channel is on but sender_relp_targets is e"):
        validate_relp_targets([], "sender_relp_targets", True)


SENDER = {
    "sender_relp": "yes",
    "sender_relp_kernel_input": "false",
    "sender_relp_targets": [{"name": "bob", "address": "192.0.2.2", "fingerprint": FP["b"]}],
    "sender_relp_queue_max_disk": "2m",
    "sender_relp_key": "/etc/k.pem",
    "sender_relp_cert": "/etc/c.pem",
}


def test_the_senders_channel_settings_are_checked_together_as_written():
    checked = validate_sender_relp(SENDER)
    assert (checked["on"], checked["kmsg"], checked["queue_max_disk"]) == (True, False, 2 * 1024 * 1024)
    assert checked["targets"][0]["port"] == 2514 and checked["cert"] == "/etc/c.pem"
    assert validate_sender_relp({**SENDER, "sender_relp": False, "sender_relp_targets": []})["targets"] == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("sender_relp", "maybe"),
        ("sender_relp_kernel_input", None),
        ("sender_relp_targets", []),
        ("sender_relp_queue_max_disk", "1 g"),
        ("sender_relp_key", "relative.pem"),
        ("sender_relp_cert", '/etc/c.pem" action(type="omfile'),
    ],
)
def test_each_bad_sender_channel_value_is_refused_naming_its_variable(variable, value):
    expected = "sender_relp" if variable == "sender_relp_targets" else variable
    with pytest.raises(NetconsoleError, match=rf"^{expected}: "):
        validate_sender_relp({**SENDER, variable: value})
