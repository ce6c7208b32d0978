"""The target module's entry: what it decides before and around the reconciler, run as Ansible runs it.

The configfs tree is the kernel-rule fake (tests/lib/fake_configfs.py); the kernel's release and /proc/cmdline
are the test's. What is checked is the module's own result: changed, msg, from_cmdline, what was written.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_configfs import FakeKernelConfigfs

from ansible_collections.logswap.netconsole.plugins.modules import target as module

WANTED = {
    "name": "cmdline0",
    "remote_ip": "192.0.2.2",
    "local_ip": "192.0.2.1",
    "dev_name": "eth0",
    "remote_mac": "52:54:00:00:00:02",
    "extended": True,
}
# what the kernel command line started, as configfs shows it once attached (6.7+)
BOOTED = {
    "enabled": "1",
    "extended": "1",
    "dev_name": "eth0",
    "local_ip": "192.0.2.1",
    "remote_ip": "192.0.2.2",
    "remote_mac": "52:54:00:00:00:02",
}
CMDLINE = "BOOT_IMAGE=/vmlinuz root=/dev/vda netconsole=+6665@192.0.2.1/eth0,6666@192.0.2.2/52:54:00:00:00:02\n"


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host whose kernel is ``host.release`` with ``host.cmdline``; configfs is the fake, netconsole loaded."""
    state = SimpleNamespace(release="6.1.0-18-amd64", kernel=None, root=str(tmp_path / "netconsole"))
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(CMDLINE)

    def store() -> FakeKernelConfigfs:
        if state.kernel is None:
            state.kernel = FakeKernelConfigfs(state.root, release=state.release)
            state.kernel.boot_targets["cmdline0"] = dict(BOOTED)
        return state.kernel

    state.store = store
    monkeypatch.setattr(module, "CONFIGFS_ROOT", state.root)
    monkeypatch.setattr(module, "ConfigfsStore", store)
    monkeypatch.setattr(module, "load_netconsole", lambda _module: None)
    monkeypatch.setattr(module, "PROC_CMDLINE", str(cmdline))
    # only the release is read; the rest of uname is this machine's
    monkeypatch.setattr(module.os, "uname", lambda: SimpleNamespace(release=state.release))
    return state


def run(capsys, args: dict, check_mode: bool = False) -> dict:
    with patch_module_args({**args, "_ansible_check_mode": check_mode}), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_a_bad_value_fails_before_configfs_is_touched(host, capsys):
    result = run(capsys, {**WANTED, "remote_ip": "192.0.2.300"})
    assert result["failed"] and result["msg"].startswith("target.remote_ip: '192.0.2.300' is not an IPv4")
    assert host.kernel is None
    result = run(capsys, {"name": "../x", "remote_ip": "192.0.2.2"})
    assert result["failed"] and result["msg"].startswith("name: '../x' is not a usable configfs target name")


def test_check_mode_predicts_a_new_target_and_writes_nothing(host, capsys):
    host.store()  # configfs present
    result = run(capsys, {**WANTED, "name": "friend"}, check_mode=True)
    assert result["changed"] and result["target"]["remote_ip"] == "192.0.2.2"
    assert not host.kernel.exists("friend") and host.kernel.writes == []
    made = run(capsys, {**WANTED, "name": "friend"})
    assert made["changed"] and host.kernel.exists("friend")
    assert result["configfs_targets"] == [] and made["configfs_targets"] == ["friend"]  # what the role prunes from
    host.kernel.writes.clear()
    again = run(capsys, {**WANTED, "name": "friend"}, check_mode=True)
    assert not again["changed"] and host.kernel.writes == []


def test_before_configfs_exists_check_mode_says_what_it_would_do(host, capsys):
    result = run(capsys, WANTED, check_mode=True)
    assert result["changed"] and result["msg"] == "would load netconsole and create target cmdline0"
    assert result["configfs_targets"] == []


def test_before_67_a_command_line_target_is_left_alone(host, capsys):
    host.store()
    result = run(capsys, WANTED)
    assert not result["changed"] and result["from_cmdline"]
    assert "cannot show it in configfs, so cmdline0 is not created twice" in result["msg"]
    assert not host.kernel.exists("cmdline0")


def test_from_67_the_command_line_target_is_taken_over_and_check_mode_says_so(host, capsys):
    host.release = "6.12.1-amd64"
    host.store()
    predicted = run(capsys, WANTED, check_mode=True)
    assert not predicted["changed"] and predicted["from_cmdline"]
    assert predicted["msg"].endswith("cmdline0 would be attached to it as is")
    assert not host.kernel.exists("cmdline0")
    attached = run(capsys, WANTED)
    assert not attached["changed"] and attached["from_cmdline"]
    assert (
        attached["msg"] == "attached cmdline0 to the target the kernel command line started; it already ran as wanted"
    )
    assert host.kernel.writes == []


def test_a_command_line_that_started_another_target_is_not_taken_for_this_one(host, capsys):
    host.store()
    result = run(capsys, {**WANTED, "remote_ip": "192.0.2.9", "remote_mac": "52:54:00:00:00:09"})
    assert result["changed"] and not result["from_cmdline"]
    assert host.kernel.read("cmdline0", "remote_ip") == "192.0.2.9"
