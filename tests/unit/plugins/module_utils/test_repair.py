"""The self-repair check's decisions against the fake configfs (the kernel's rules) and a scripted discovery."""

from __future__ import annotations

import json

import pytest
from fake_configfs import FakeKernelConfigfs

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import TargetReconciler, desired_attributes
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError, Target
from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import NexthopError
from ansible_collections.logswap.netconsole.plugins.module_utils.repair import (
    RepairTarget,
    check_target,
    differences,
    main,
    repair_settings,
    repair_targets,
)

OLD_MAC = "52:54:00:77:00:02"
NEW_MAC = "52:54:00:77:00:99"
FRIEND = Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth0", remote_mac=OLD_MAC, extended=True)
WANTED = RepairTarget(name="cmdline0", remote_ip="192.0.2.2")
SETTINGS = {"holddown": 60, "confirm": 5}


def found(mac: str = OLD_MAC, interface: str = "eth0", source: str = "192.0.2.1") -> dict:
    return {"interface": interface, "source": source, "remote_mac": mac, "next_hop": "192.0.2.2"}


class Clock:
    """now() and sleep() of one check; sleep moves the clock."""

    def __init__(self, start: float = 1000.0) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds


def looks(*answers):
    """A discovery that answers each look in turn (an exception is raised)."""
    queue = list(answers)

    def look(_target: RepairTarget) -> dict:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    look.left = queue
    return look


@pytest.fixture
def kernel(tmp_path):
    store = FakeKernelConfigfs(
        str(tmp_path / "netconsole"), release="7.3", devices={"eth0": "52:54:00:00:00:01", "eth1": "52:54:00:00:00:11"}
    )
    reconciler = TargetReconciler(store, "cmdline0")
    reconciler.present(desired_attributes(FRIEND), userdata={"host": "zkj"}, sysdata={"msgid": True})
    store.writes.clear()
    return store


def check(kernel, look, state=None, clock=None, target=WANTED):
    clock = clock or Clock()
    return check_target(target, kernel, look, {} if state is None else state, SETTINGS, clock.now, clock.sleep)


def test_a_changed_mac_seen_twice_is_written_with_disable_write_enable_and_nothing_else(kernel):
    clock = Clock()
    state: dict = {}
    outcome = check(kernel, looks(found(NEW_MAC), found(NEW_MAC)), state, clock)
    assert outcome.action == "repaired"
    assert outcome.changes == {"remote_mac": (OLD_MAC, NEW_MAC)}
    assert f"remote_mac {OLD_MAC} -> {NEW_MAC}" in outcome.message and "seen twice, 5 s apart" in outcome.message
    assert clock.slept == [5]
    assert kernel.writes == [
        ("cmdline0", "enabled", "0"),
        ("cmdline0", "remote_mac", NEW_MAC),
        ("cmdline0", "enabled", "1"),
    ]
    # what only configfs holds stays: the friend still gets host= and msgid=
    assert kernel.userdata("cmdline0") == {"host": "zkj"}
    assert kernel.read("cmdline0", "userdata/msgid_enabled") == "1"
    assert state == {"cmdline0": {"changed_at": 1005.0}}


def test_the_next_check_after_a_repair_finds_nothing_to_do(kernel):
    check(kernel, looks(found(NEW_MAC), found(NEW_MAC)))
    kernel.writes.clear()
    outcome = check(kernel, looks(found(NEW_MAC)))
    assert outcome.action == "ok" and kernel.writes == []


def test_interface_and_source_moved_together(kernel):
    moved = found(NEW_MAC, "eth1", "192.0.2.9")
    outcome = check(kernel, looks(moved, moved))
    assert outcome.action == "repaired"
    assert set(outcome.changes) == {"dev_name", "local_ip", "remote_mac"}
    assert kernel.read("cmdline0", "dev_name") == "eth1" and kernel.read("cmdline0", "local_ip") == "192.0.2.9"


def test_nothing_differs_means_one_look_and_no_write(kernel):
    look = looks(found(), found())
    clock = Clock()
    outcome = check(kernel, look, clock=clock)
    assert outcome.action == "ok" and kernel.writes == [] and clock.slept == []
    assert len(look.left) == 1


def test_a_flap_between_the_two_looks_changes_nothing(kernel):
    outcome = check(kernel, looks(found(NEW_MAC), found(OLD_MAC)))
    assert outcome.action == "unconfirmed" and kernel.writes == []
    assert "no difference" in outcome.message


def test_two_looks_that_see_different_new_values_change_nothing(kernel):
    outcome = check(kernel, looks(found(NEW_MAC), found("52:54:00:77:00:aa")))
    assert outcome.action == "unconfirmed" and kernel.writes == []


@pytest.mark.parametrize(
    "error", [NexthopError("the MAC address of 192.0.2.2 on eth0 did not resolve"), OSError(101, "unreachable")]
)
def test_a_failed_first_look_changes_nothing(kernel, error):
    outcome = check(kernel, looks(error))
    assert outcome.action == "failed" and kernel.writes == []
    assert "nothing changed" in outcome.message


def test_a_failed_second_look_changes_nothing(kernel):
    outcome = check(kernel, looks(found(NEW_MAC), NexthopError("did not resolve")))
    assert outcome.action == "failed" and kernel.writes == []


def test_a_target_changed_recently_is_held_down_then_changed_after_the_holddown(kernel):
    clock = Clock()
    state: dict = {}
    assert check(kernel, looks(found(NEW_MAC), found(NEW_MAC)), state, clock).action == "repaired"
    kernel.writes.clear()
    clock.time += 30  # within the 60 s hold-down: the old MAC answers again (a VRRP flap back)
    held = check(kernel, looks(found(OLD_MAC)), state, clock)
    assert held.action == "held" and kernel.writes == []
    assert "held down" in held.message
    clock.time += 31
    assert check(kernel, looks(found(OLD_MAC), found(OLD_MAC)), state, clock).action == "repaired"
    assert kernel.read("cmdline0", "remote_mac") == OLD_MAC


def test_a_refused_change_is_rolled_back_logging_as_before_and_held_down(kernel):
    state: dict = {}
    gone = found(NEW_MAC, "eth7")  # an interface the kernel does not know: enabling fails (ENODEV)
    outcome = check(kernel, looks(gone, gone), state)
    assert outcome.action == "refused"
    assert "interface eth7 does not exist" in outcome.message and "logs as before" in outcome.message
    assert kernel.read("cmdline0", "enabled") == "1" and kernel.read("cmdline0", "dev_name") == "eth0"
    assert kernel.read("cmdline0", "remote_mac") == OLD_MAC
    assert "cmdline0" in state  # not tried again at the next check


def test_a_remote_mac_the_user_gave_is_never_replaced(kernel):
    pinned = RepairTarget(name="cmdline0", remote_ip="192.0.2.2", remote_mac=OLD_MAC)
    outcome = check(kernel, looks(found(NEW_MAC)), target=pinned)
    assert outcome.action == "ok" and kernel.writes == []


def test_a_target_not_in_configfs_is_skipped(tmp_path):
    store = FakeKernelConfigfs(str(tmp_path / "netconsole"), release="6.1")
    outcome = check(store, looks())
    assert outcome.action == "skipped" and "not in configfs" in outcome.message


def test_a_target_someone_pointed_elsewhere_is_left_alone(kernel):
    other = RepairTarget(name="cmdline0", remote_ip="192.0.2.77")
    outcome = check(kernel, looks(), target=other)
    assert outcome.action == "skipped" and kernel.writes == []


def test_a_disabled_target_is_left_alone(kernel):
    kernel.write("cmdline0", "enabled", "0")
    kernel.writes.clear()
    outcome = check(kernel, looks())
    assert outcome.action == "skipped" and kernel.writes == []


def test_differences_compare_addresses_as_the_kernel_prints_them():
    live = {"dev_name": "eth0", "local_ip": "2001:db8::1", "remote_mac": OLD_MAC}
    same = {"interface": "eth0", "source": "2001:DB8:0::1", "remote_mac": OLD_MAC.upper()}
    assert differences(live, same, WANTED) == {}


def test_settings_are_checked_and_name_the_variable():
    assert repair_settings(True, "20s", 7) == {"enabled": True, "seconds": 20, "holddown": 60, "confirm": 5, "level": 5}
    assert repair_settings("false", 0, 7)["enabled"] is False
    assert repair_settings(True, "5min", 2)["level"] is None  # only alert/emergency reach the console
    assert repair_settings(True, 0, 7)["enabled"] is False  # 0 is off, as for the heartbeat
    with pytest.raises(
        NetconsoleError, match=r"sender_self_repair_interval: '5s' is 5 s; give 0 \(off\) or at least 10 s"
    ):
        repair_settings(True, "5s", 7)
    with pytest.raises(NetconsoleError, match="sender_self_repair_interval: '5 minutes please' is not a duration"):
        repair_settings(True, "5 minutes please", 7)
    with pytest.raises(NetconsoleError, match="sender_self_repair"):
        repair_settings("maybe", "5min", 7)


def test_targets_keep_their_command_line_names_and_what_the_user_gave():
    given = [
        {"remote_ip": "192.0.2.2", "dev_name": None, "local_ip": None, "remote_mac": None},
        {"remote_ip": "192.0.2.3", "dev_name": "eth0", "local_ip": "192.0.2.1", "remote_mac": OLD_MAC},
        {"remote_ip": "192.0.2.4", "dev_name": "52:54:00:00:00:01", "local_ip": "192.0.2.1", "remote_mac": OLD_MAC},
    ]
    assert repair_targets(given) == [
        {
            "name": "cmdline0",
            "remote_ip": "192.0.2.2",
            "interface": None,
            "source": None,
            "remote_mac": None,
            "variable": "sender_targets[0]",
        },
        # cmdline1 has nothing to find again; cmdline2's interface is found by its MAC
        {
            "name": "cmdline2",
            "remote_ip": "192.0.2.4",
            "interface": "52:54:00:00:00:01",
            "source": "192.0.2.1",
            "remote_mac": OLD_MAC,
            "variable": "sender_targets[2]",
        },
    ]


def test_main_writes_the_change_to_the_journal_and_the_kernel_log(kernel, tmp_path, capsys):
    kmsg = tmp_path / "kmsg"
    config = tmp_path / "repair.json"
    config.write_text(
        json.dumps(
            {
                "targets": [{"name": "cmdline0", "remote_ip": "192.0.2.2"}],
                "configfs": kernel.root,
                "state": str(tmp_path / "run" / "state.json"),
                "holddown": 60,
                "confirm": 0,
                "level": 5,
                "kmsg": str(kmsg),
            }
        )
    )
    assert main(["--config", str(config)], look=looks(found(NEW_MAC), found(NEW_MAC))) == 0
    out = capsys.readouterr().out
    assert f"logswap-netconsole-repair: repaired: cmdline0: remote_mac {OLD_MAC} -> {NEW_MAC}" in out
    assert kmsg.read_text().startswith(f"<5>logswap-netconsole-repair: cmdline0: remote_mac {OLD_MAC} -> {NEW_MAC}")
    assert "cmdline0" in json.loads((tmp_path / "run" / "state.json").read_text())
    # the next run: held down state read back, nothing differs, nothing written to the kernel log
    kmsg.write_text("")
    assert main(["--config", str(config)], look=looks(found(NEW_MAC))) == 0
    assert "ok: cmdline0: as discovered" in capsys.readouterr().out and kmsg.read_text() == ""


def test_main_fails_the_unit_when_a_look_fails(kernel, tmp_path, capsys):
    config = tmp_path / "repair.json"
    config.write_text(
        json.dumps(
            {
                "targets": [{"name": "cmdline0", "remote_ip": "192.0.2.2"}],
                "configfs": kernel.root,
                "state": str(tmp_path / "state.json"),
                "holddown": 60,
                "confirm": 0,
            }
        )
    )
    assert main(["--config", str(config)], look=looks(NexthopError("no route"))) == 1
    assert "failed: cmdline0: the next hop could not be found, nothing changed: no route" in capsys.readouterr().out
    assert kernel.writes == []
