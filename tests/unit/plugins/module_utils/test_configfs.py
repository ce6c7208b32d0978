from __future__ import annotations

import os

import pytest
from fake_configfs import FakeKernelConfigfs

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import (
    ConfigfsStore,
    TargetReconciler,
    desired_attributes,
    format_state,
    live_targets,
    read_counter_note,
    validate_userdata,
    write_counter_note,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError, Target

FRIEND = Target(
    remote_ip="192.0.2.2",
    local_ip="192.0.2.1",
    dev_name="eth0",
    remote_mac="52:54:00:00:00:02",
    extended=True,
)


@pytest.fixture
def kernel(tmp_path):
    return FakeKernelConfigfs(str(tmp_path / "netconsole"), release="6.1")


def reconcile(store, target=FRIEND, check_mode=False, **kwargs):
    return TargetReconciler(store, "cmdline0", check_mode=check_mode).present(desired_attributes(target), **kwargs)


def test_new_target_is_written_then_enabled_last(kernel):
    changed, before, after = reconcile(kernel)
    assert changed and before is None
    assert kernel.writes[-1] == ("cmdline0", "enabled", "1")
    assert after["remote_ip"] == "192.0.2.2" and after["enabled"] == "1"
    assert after["local_mac"] == "52:54:00:00:00:01"


def test_second_run_reads_everything_and_writes_nothing(kernel):
    reconcile(kernel)
    kernel.writes.clear()
    changed, before, after = reconcile(kernel)
    assert not changed and before == after
    assert kernel.writes == []


def test_a_change_on_an_enabled_target_is_disable_write_enable(kernel):
    reconcile(kernel)
    kernel.writes.clear()
    moved = Target(**{**FRIEND.__dict__, "remote_ip": "192.0.2.3", "remote_mac": "52:54:00:00:00:03"})
    changed, before, after = reconcile(kernel, moved)
    assert changed
    assert kernel.writes == [
        ("cmdline0", "enabled", "0"),
        ("cmdline0", "remote_ip", "192.0.2.3"),
        ("cmdline0", "remote_mac", "52:54:00:00:00:03"),
        ("cmdline0", "enabled", "1"),
    ]
    assert before["remote_ip"] == "192.0.2.2" and after["remote_ip"] == "192.0.2.3"


def test_the_fake_refuses_writes_to_an_enabled_target(kernel):
    reconcile(kernel)
    with pytest.raises(OSError, match="Invalid argument"):
        kernel.write("cmdline0", "remote_port", "7000")


def test_check_mode_plans_but_never_writes(kernel):
    changed, before, after = reconcile(kernel, check_mode=True)
    assert changed and before is None and after["remote_ip"] == "192.0.2.2"
    assert not kernel.exists("cmdline0")
    reconcile(kernel)
    kernel.writes.clear()
    moved = Target(**{**FRIEND.__dict__, "remote_port": 7000})
    changed, _before, after = reconcile(kernel, moved, check_mode=True)
    assert changed and after["remote_port"] == "7000"
    assert kernel.writes == [] and kernel.read("cmdline0", "remote_port") == "6666"


def test_disable_only(kernel):
    reconcile(kernel)
    kernel.writes.clear()
    changed, _before, after = reconcile(kernel, enabled=False)
    assert changed and after["enabled"] == "0"
    assert kernel.writes == [("cmdline0", "enabled", "0")]


def test_release_is_refused_before_any_write_on_a_kernel_without_it(kernel):
    reconcile(kernel)
    kernel.writes.clear()
    with pytest.raises(NetconsoleError, match="release: this kernel's netconsole has no 'release'"):
        reconcile(kernel, Target(**{**FRIEND.__dict__, "release": True}))
    assert kernel.writes == []


def test_release_on_612_is_written_after_extended_and_switched_off_before_it(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.12")
    plain = Target(**{**FRIEND.__dict__, "extended": False})
    reconcile(kernel, plain)
    kernel.writes.clear()
    reconcile(kernel, Target(**{**FRIEND.__dict__, "release": True}))
    names = [w[1] for w in kernel.writes]
    assert names.index("extended") < names.index("release")
    kernel.writes.clear()
    reconcile(kernel, plain)
    names = [w[1] for w in kernel.writes]
    assert names.index("release") < names.index("extended")


def test_userdata_is_added_changed_and_pruned_live_on_69(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.9")
    reconcile(kernel, userdata={"host": "alice", "dc": "fra1"})
    kernel.writes.clear()
    changed, _before, after = reconcile(kernel, userdata={"host": "alice"})
    assert changed and "userdata.dc" not in after and after["userdata.host"] == "alice"
    assert ("cmdline0", "enabled", "0") not in kernel.writes
    assert not reconcile(kernel, userdata={"host": "alice"})[0]


def test_userdata_on_a_kernel_without_it_fails_before_writes(kernel):
    reconcile(kernel)
    kernel.writes.clear()
    with pytest.raises(NetconsoleError, match="userdata: this kernel's netconsole has no userdata"):
        reconcile(kernel, userdata={"host": "alice"})
    assert kernel.writes == []


@pytest.mark.parametrize(
    ("userdata", "needle"),
    [
        ({"a/b": "x"}, "key 'a/b'"),
        ({"k": "x" * 201}, "userdata.k"),
        ({str(i): "v" for i in range(17)}, "17 entries"),
    ],
)
def test_userdata_limits(userdata, needle):
    with pytest.raises(NetconsoleError, match=needle):
        validate_userdata(userdata)


def test_missing_device_on_a_new_target_fails_and_leaves_nothing_behind(kernel):
    with pytest.raises(NetconsoleError, match=r"refused to enable it: No such device \(ENODEV\); interface eth9 does"):
        reconcile(kernel, Target(**{**FRIEND.__dict__, "dev_name": "eth9"}))
    assert not kernel.exists("cmdline0")


def live_state(kernel):
    return TargetReconciler(kernel, "cmdline0").snapshot()


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"dev_name": "eth9"}, r"No such device \(ENODEV\); interface eth9 does not exist"),
        (
            {"dev_name": "eth1"},
            r"Device or resource busy \(EBUSY\); eth1 is a port of a bridge or bond \(enslaved\)",
        ),
        ({"dev_name": "wlan0"}, r"\(ENOTSUPP\); wlan0 does not support netpoll"),
    ],
)
def test_a_refused_enable_restores_the_old_target_and_enables_it_again(tmp_path, change, needle):
    kernel = FakeKernelConfigfs(
        str(tmp_path / "nc"),
        devices={"eth0": "52:54:00:00:00:01", "eth1": "52:54:00:00:00:11", "wlan0": "52:54:00:00:00:21"},
        enslaved={"eth1"},
        no_netpoll={"wlan0"},
    )
    reconcile(kernel)
    good = live_state(kernel)
    with pytest.raises(NetconsoleError, match=needle) as failure:
        reconcile(kernel, Target(**{**FRIEND.__dict__, **change, "remote_ip": "192.0.2.3"}))
    assert "the previous attributes were restored and the target enabled again" in str(failure.value)
    assert live_state(kernel) == good and good["enabled"] == "1"


def test_a_refused_attribute_write_restores_what_was_already_written(kernel):
    reconcile(kernel)
    good = live_state(kernel)
    kernel.broken.add(("remote_mac", "52:54:00:00:00:03"))
    moved = Target(**{**FRIEND.__dict__, "remote_ip": "192.0.2.3", "remote_mac": "52:54:00:00:00:03"})
    with pytest.raises(NetconsoleError, match=r"refused the write to remote_mac: Input/output error \(EIO\)"):
        reconcile(kernel, moved)
    # remote_ip had been written before remote_mac failed: it is back too
    assert live_state(kernel) == good
    assert kernel.writes[-2:] == [("cmdline0", "remote_ip", "192.0.2.2"), ("cmdline0", "enabled", "1")]


def test_a_target_that_was_disabled_is_restored_and_stays_disabled(kernel):
    reconcile(kernel, enabled=False)
    good = live_state(kernel)
    with pytest.raises(NetconsoleError, match="the target was disabled before and stays so"):
        reconcile(kernel, Target(**{**FRIEND.__dict__, "dev_name": "eth9"}))
    assert live_state(kernel) == good and good["enabled"] == "0"


def test_when_the_restore_fails_too_the_message_says_logging_is_off(kernel):
    reconcile(kernel)
    kernel.broken.add(("remote_port", "6666"))  # the old value cannot be written back
    with pytest.raises(NetconsoleError, match=r"restoring the previous attributes failed too .*NOT logging now"):
        reconcile(kernel, Target(**{**FRIEND.__dict__, "remote_port": 7000, "dev_name": "eth9"}))


def test_out_of_range_port_from_the_kernel_is_named(kernel):
    kernel.create("cmdline0")
    with pytest.raises(OSError, match="out of range"):
        kernel.write("cmdline0", "remote_port", "70000")


def test_the_fake_refuses_enabling_twice_as_the_kernel_does(kernel):
    reconcile(kernel)
    with pytest.raises(OSError, match="Invalid argument"):
        kernel.write("cmdline0", "enabled", "1")


# What the kernel started from `netconsole=+6665@192.0.2.1/eth0,6666@192.0.2.2/52:54:00:00:00:02` (FRIEND).
BOOTED_FRIEND = {
    "enabled": "1",
    "extended": "1",
    "dev_name": "eth0",
    "local_ip": "192.0.2.1",
    "remote_ip": "192.0.2.2",
    "remote_mac": "52:54:00:00:00:02",
    "local_mac": "52:54:00:00:00:01",
}


def attach_on_612(tmp_path, booted=None):
    """present(FRIEND) for cmdline0 on a 6.12 kernel booted with ``booted`` (None: no command line target)."""
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.12")
    if booted:
        kernel.boot_targets["cmdline0"] = booted
    reconciler = TargetReconciler(kernel, "cmdline0")
    return kernel, reconciler, *reconciler.present(desired_attributes(FRIEND))


def test_cmdline_target_is_taken_over_on_67_and_not_rewritten(tmp_path):
    kernel, reconciler, changed, before, after = attach_on_612(tmp_path, BOOTED_FRIEND)
    # The directory is new, the target is not: attaching what already runs as wanted is no change.
    assert not changed and reconciler.adopted
    assert kernel.writes == []
    assert before == after and after["enabled"] == "1"


def test_taken_over_cmdline_target_that_differs_is_rewritten(tmp_path):
    booted = {**BOOTED_FRIEND, "remote_ip": "192.0.2.9", "remote_mac": "52:54:00:00:00:09"}
    kernel, reconciler, changed, before, after = attach_on_612(tmp_path, booted)
    assert changed and reconciler.adopted
    assert before["remote_ip"] == "192.0.2.9" and after["remote_ip"] == "192.0.2.2"
    assert kernel.writes[0] == ("cmdline0", "enabled", "0") and kernel.writes[-1] == ("cmdline0", "enabled", "1")


def test_new_target_on_a_takeover_kernel_is_not_adopted(tmp_path):
    _kernel, reconciler, changed, before, _after = attach_on_612(tmp_path)
    assert changed and before is None and not reconciler.adopted


def test_absent_disables_and_removes(kernel):
    reconcile(kernel)
    reconciler = TargetReconciler(kernel, "cmdline0")
    changed, before = reconciler.absent()
    assert changed and before["enabled"] == "1" and not kernel.exists("cmdline0")
    assert reconciler.absent() == (False, None)


def test_ipv6_values_read_back_compare_equal(kernel):
    kernel.create("cmdline0")
    kernel.write("cmdline0", "remote_ip", "2001:0db8:0000::0002")
    target = Target(remote_ip="2001:db8::2", local_ip="2001:db8::1", dev_name="eth0")
    reconcile(kernel, target)
    kernel.writes.clear()
    assert not reconcile(kernel, target)[0]


def test_diff_text_is_stable():
    assert format_state({"b": "2", "a": "1"}) == "a = 1\nb = 2\n"
    assert format_state(None) == ""


def test_live_targets_read_every_target_and_its_errors_since_the_last_run(tmp_path):
    store = FakeKernelConfigfs(str(tmp_path / "netconsole"), release="6.13")
    reconcile(store)
    TargetReconciler(store, "spare").present(desired_attributes(FRIEND), enabled=False)
    store.set_transmit_errors("cmdline0", 5)
    notes = tmp_path / "notes"
    write_counter_note(str(notes), "cmdline0", 2)
    os.mkdir(os.path.join(store.root, "half-made"))  # no attributes (yet): not a target to read
    found = {t["name"]: t for t in live_targets(store, str(notes))}
    assert sorted(found) == ["cmdline0", "spare"]
    assert found["cmdline0"]["enabled"] and not found["spare"]["enabled"]
    assert found["cmdline0"]["state"]["remote_ip"] == "192.0.2.2"
    assert found["cmdline0"]["transmit_errors"] == {"transmit_errors": 5, "previous": 2, "change": 3, "reset": False}
    assert found["spare"]["transmit_errors"]["previous"] is None
    assert read_counter_note(str(notes), "cmdline0") == "2\n"
    assert [store.enabled(name) for name in store.targets()] == [True, False]


def test_without_configfs_there_is_no_target(tmp_path):
    assert live_targets(ConfigfsStore(str(tmp_path / "absent"))) == []
