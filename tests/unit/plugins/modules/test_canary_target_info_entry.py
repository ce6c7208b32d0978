"""canary and target_info read configfs through the same store: what each makes of the targets there."""

from __future__ import annotations

import json
import socket

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_configfs import FakeKernelConfigfs

from ansible_collections.logswap.netconsole.plugins.module_utils import configfs
from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import TargetReconciler, desired_attributes
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import Target
from ansible_collections.logswap.netconsole.plugins.modules import canary, target_info


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    store = FakeKernelConfigfs(str(tmp_path / "netconsole"), release="6.13")
    # both modules make ConfigfsStore() with the default root
    monkeypatch.setattr(configfs.ConfigfsStore.__init__, "__defaults__", (store.root,))
    monkeypatch.setattr(canary, "cmdline_has_netconsole", lambda: False)
    return store


def run(capsys, main, args: dict, check_mode: bool = False) -> dict:
    with patch_module_args({**args, "_ansible_check_mode": check_mode}), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)


def test_without_a_live_target_the_canary_is_an_emulated_datagram(kernel, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(5)
        port = listener.getsockname()[1]
        target = {"local_ip": "127.0.0.1", "local_port": 0, "remote_ip": "127.0.0.1", "remote_port": port}
        dry = run(capsys, canary.main, {"text": "dry", "targets": [target]}, check_mode=True)
        assert dry["method"] == "udp" and dry["emulated"]
        sent = run(capsys, canary.main, {"text": "hello canary", "targets": [{**target, "extended": True}]})
        assert sent["method"] == "udp" and sent["emulated"] and not sent["changed"]
        datagram = listener.recv(2048).decode()
    # check mode sent nothing: the first datagram is the real one
    assert datagram.startswith("4,0,") and datagram.endswith(";hello canary\n")


def test_with_an_enabled_target_the_canary_goes_through_the_kernel(kernel, capsys):
    TargetReconciler(kernel, "friend").present(desired_attributes(Target(remote_ip="192.0.2.2", dev_name="eth0")))
    assert run(capsys, canary.main, {"text": "x"}, check_mode=True)["method"] == "kmsg"


def test_a_disabled_target_is_listed_but_not_live(kernel, capsys):
    TargetReconciler(kernel, "spare").present(desired_attributes(Target(remote_ip="192.0.2.2")), enabled=False)
    # auto picks udp, which needs targets to emulate: nothing is written to this machine's /dev/kmsg
    refused = run(capsys, canary.main, {"text": "x"}, check_mode=True)
    assert refused["failed"] and refused["msg"] == "targets: method udp needs the targets to emulate"
    [listed] = run(capsys, target_info.main, {}, check_mode=True)["targets"]
    assert listed["name"] == "spare" and not listed["enabled"] and listed["state"]["remote_ip"] == "192.0.2.2"
    assert listed["transmit_errors"]["transmit_errors"] == 0
