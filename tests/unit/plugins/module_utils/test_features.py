from __future__ import annotations

import errno

import pytest
from fake_configfs import FakeKernelConfigfs

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import (
    TargetReconciler,
    desired_attributes,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.features import (
    Offered,
    counter_change,
    features_summary,
    offered_features,
    plan_features,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError, Target

FRIEND = Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth0", remote_mac="52:54:00:00:00:02")
# what the sender role asks of every kernel
DEAL = {"sysdata": {"msgid": True, "cpu_nr": False, "taskname": False}, "userdata": {"host": "zkj"}}
BASE_FILES = {"enabled", "extended", "dev_name", "local_port", "remote_port", "local_ip", "remote_ip"}


def test_offered_is_read_from_the_files_not_the_version():
    assert offered_features(BASE_FILES | {"local_mac", "remote_mac"}, None) == Offered()
    offered = offered_features(BASE_FILES | {"release", "transmit_errors"}, {"cpu_nr_enabled", "msgid_enabled"})
    assert offered.names() == ["release", "userdata", "transmit_errors", "sysdata.cpu_nr", "sysdata.msgid"]
    # the documentation's names are not files the kernel makes: they count for nothing
    assert offered_features(BASE_FILES, {"cpu_nr", "msgid", "sysdata_msgid_enabled"}).sysdata == frozenset()


def test_plan_on_a_kernel_with_everything():
    offered = offered_features(BASE_FILES | {"release"}, {"cpu_nr_enabled", "taskname_enabled", "msgid_enabled"})
    plan = plan_features(offered, extended=True, missing="skip", **DEAL)
    assert plan.sysdata == {"msgid_enabled": "1", "cpu_nr_enabled": "0", "taskname_enabled": "0"}
    assert plan.userdata == {"host": "zkj"}
    assert plan.enabled == ["extended", "sysdata.msgid", "userdata.host"]
    assert plan.lacking == {} and plan.unsent == []


def test_plan_on_61_skips_and_names_what_is_missing():
    plan = plan_features(offered_features(BASE_FILES, None), extended=True, missing="skip", **DEAL)
    assert plan.sysdata == {} and plan.userdata is None
    assert plan.enabled == ["extended"]
    # switched-off features the kernel lacks are not "lacking": nothing was asked of them
    assert plan.lacking == {"sysdata.msgid": "Linux 6.17+", "userdata": "Linux 6.9+"}


def test_plan_on_69_has_userdata_but_no_sysdata():
    plan = plan_features(offered_features(BASE_FILES | {"release"}, set()), extended=True, missing="skip", **DEAL)
    assert plan.userdata == {"host": "zkj"} and plan.sysdata == {}
    assert plan.lacking == {"sysdata.msgid": "Linux 6.17+"}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"sysdata": {"msgid": True}}, r"sysdata\[msgid\]: this kernel's netconsole has no sysdata.msgid"),
        ({"userdata": {"host": "a"}}, "userdata: this kernel's netconsole has no userdata .added in Linux 6.9"),
        ({"release": True}, "release: this kernel's netconsole has no 'release' attribute"),
        ({"sysdata": {"cpu": True}}, "sysdata: unknown feature 'cpu'"),
        ({"missing": "maybe"}, "missing: 'maybe' is not one of fail, skip"),
    ],
)
def test_plan_fails_naming_the_feature(kwargs, needle):
    with pytest.raises(NetconsoleError, match=needle):
        plan_features(offered_features(BASE_FILES, None), extended=True, **kwargs)


def test_release_is_fatal_even_when_skipping():
    with pytest.raises(NetconsoleError, match="release"):
        plan_features(offered_features(BASE_FILES, None), extended=True, release=True, missing="skip")


def test_without_extended_the_extras_are_set_but_reported_unsent():
    offered = offered_features(BASE_FILES, {"msgid_enabled"})
    plan = plan_features(offered, extended=False, missing="skip", **DEAL)
    assert plan.enabled == [] and plan.unsent == ["sysdata.msgid", "userdata.host"]
    assert "set but not sent without extended: sysdata.msgid, userdata.host" in features_summary("t", plan, None)


def test_empty_userdata_removes_what_an_earlier_run_set():
    assert plan_features(offered_features(BASE_FILES, set()), extended=True, userdata={}).userdata == {}
    assert plan_features(offered_features(BASE_FILES, None), extended=True, userdata={}).userdata is None


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, 0, {"previous": None, "change": None, "reset": False}),
        ("2\n", 5, {"previous": 2, "change": 3, "reset": False}),
        ("7", 1, {"previous": 7, "change": 1, "reset": True}),
        ("garbage", 4, {"previous": None, "change": None, "reset": False}),
        ("3", None, {"previous": None, "change": None, "reset": False}),
    ],
)
def test_counter_change(previous, current, expected):
    assert counter_change(previous, current) == dict(expected, transmit_errors=current)


def test_summary_line():
    plan = plan_features(offered_features(BASE_FILES, None), extended=True, missing="skip", **DEAL)
    line = features_summary("cmdline0", plan, counter_change(None, None))
    assert line == (
        "cmdline0: on: extended; this kernel lacks: sysdata.msgid (Linux 6.17+), userdata (Linux 6.9+); "
        "transmit_errors: not offered (Linux 6.13+)"
    )
    assert "transmit_errors 4 (+1 since the last run)" in features_summary("c", plan, counter_change("3", 4))
    assert "transmit_errors 1 (+1 since the counter was reset)" in features_summary("c", plan, counter_change("3", 1))


# The reconciler against the fake kernel of each generation: the same request, what each one ends up with.
GENERATIONS = {
    "6.1": ({}, {"userdata": "Linux 6.9+", "sysdata.msgid": "Linux 6.17+"}),
    "6.9": ({"userdata.host": "zkj"}, {"sysdata.msgid": "Linux 6.17+"}),
    "6.15": (
        {"userdata.host": "zkj", "sysdata.cpu_nr": "0", "sysdata.taskname": "0", "sysdata.release": "0"},
        {"sysdata.msgid": "Linux 6.17+"},
    ),
    "6.17": (
        {
            "userdata.host": "zkj",
            "sysdata.cpu_nr": "0",
            "sysdata.taskname": "0",
            "sysdata.release": "0",
            "sysdata.msgid": "1",
        },
        {},
    ),
    "7.3": (
        {
            "userdata.host": "zkj",
            "sysdata.cpu_nr": "0",
            "sysdata.taskname": "0",
            "sysdata.release": "0",
            "sysdata.msgid": "1",
        },
        {},
    ),
}


def deal(kernel, target=FRIEND, name="cmdline0", check_mode=False, **overrides):
    reconciler = TargetReconciler(kernel, name, check_mode=check_mode)
    wanted = desired_attributes(Target(**{**target.__dict__, "extended": True}))
    kwargs = {"userdata": DEAL["userdata"], "sysdata": DEAL["sysdata"], "missing": "skip", **overrides}
    return reconciler, reconciler.present(wanted, **kwargs)


@pytest.mark.parametrize("release", sorted(GENERATIONS))
def test_each_generation_gets_what_it_offers_and_names_the_rest(tmp_path, release):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release=release)
    reconciler, (changed, _before, after) = deal(kernel)
    extras, lacking = GENERATIONS[release]
    assert changed and after["enabled"] == "1" and after["extended"] == "1"
    assert {k: v for k, v in after.items() if k.startswith(("userdata.", "sysdata."))} == extras
    assert reconciler.plan.lacking == lacking
    assert ("transmit_errors" in reconciler.offered().names()) == (release not in ("6.1", "6.9"))
    assert "transmit_errors" not in after  # a counter, reported apart, never part of the state or diff
    # a second run writes nothing
    kernel.writes.clear()
    _reconciler, (changed, _before, _after) = deal(kernel)
    assert not changed and kernel.writes == []


def test_sysdata_is_switched_live_without_disabling_the_target(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="7.3")
    deal(kernel, sysdata={"msgid": False})
    kernel.writes.clear()
    _reconciler, (changed, before, after) = deal(kernel, sysdata={"msgid": True, "taskname": True})
    assert changed and before["sysdata.msgid"] == "0" and after["sysdata.msgid"] == "1"
    assert ("cmdline0", "enabled", "0") not in kernel.writes  # live: no gap in logging
    assert sorted(kernel.writes) == [
        ("cmdline0", "userdata/msgid_enabled", "1"),
        ("cmdline0", "userdata/taskname_enabled", "1"),
    ]


def test_extended_is_switched_on_through_disable_write_enable(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="7.3")
    plain = desired_attributes(FRIEND)
    TargetReconciler(kernel, "cmdline0").present(plain)
    kernel.writes.clear()
    _reconciler, (changed, before, after) = deal(kernel)
    assert changed and before["extended"] == "0" and after["extended"] == "1"
    assert kernel.writes[0] == ("cmdline0", "enabled", "0")
    assert kernel.writes[-1] == ("cmdline0", "enabled", "1")
    assert ("cmdline0", "extended", "1") in kernel.writes


def test_check_mode_plans_sysdata_and_writes_nothing(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="7.3")
    deal(kernel, sysdata={"msgid": False})
    kernel.writes.clear()
    reconciler, (changed, _before, after) = deal(kernel, check_mode=True)
    assert changed and after["sysdata.msgid"] == "1" and kernel.writes == []
    assert reconciler.plan.enabled == ["extended", "sysdata.msgid", "userdata.host"]


def test_missing_fail_on_a_new_target_leaves_nothing_behind(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.9")
    with pytest.raises(NetconsoleError, match=r"sysdata\[msgid\]"):
        deal(kernel, missing="fail")
    assert kernel.names() == []


def test_a_refused_enable_puts_the_old_sysdata_back(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="7.3")
    deal(kernel, sysdata={"msgid": False})
    moved = Target(**{**FRIEND.__dict__, "dev_name": "eth9"})
    with pytest.raises(NetconsoleError, match=r"ENODEV.*enabled again"):
        deal(kernel, target=moved, sysdata={"msgid": True})
    assert kernel.read("cmdline0", "userdata/msgid_enabled") == "0"
    assert kernel.read("cmdline0", "dev_name") == "eth0" and kernel.read("cmdline0", "enabled") == "1"


# The fake refuses what the kernel refuses: a test passing against it would pass against the kernel's rules.
def test_fake_refusals_follow_the_kernel(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.15")
    deal(kernel)
    for attribute, value, code in [
        ("transmit_errors", "0", errno.EACCES),
        ("userdata/msgid_enabled", "1", errno.ENOENT),  # 6.15 has no msgid
        ("userdata/cpu_nr_enabled", "maybe", errno.EINVAL),
        ("userdata/host/value", "x" * 199, errno.EMSGSIZE),
    ]:
        with pytest.raises(OSError) as caught:
            kernel.write("cmdline0", attribute, value)
        assert caught.value.errno == code, attribute
    with pytest.raises(OSError) as caught:
        kernel.set_userdata("cmdline0", "k" * 54, "v")
    assert caught.value.errno == errno.ENAMETOOLONG


def test_before_70_sysdata_counts_against_the_16_userdata_entries(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.17")
    many = {f"k{i}": "v" for i in range(15)}
    deal(kernel, userdata=many, sysdata={"msgid": True})
    with pytest.raises(OSError) as caught:
        kernel.set_userdata("cmdline0", "k15", "v")
    assert caught.value.errno == errno.ENOSPC
    newer = FakeKernelConfigfs(str(tmp_path / "nc7"), release="7.3")
    deal(newer, userdata=dict(many, k15="v"), sysdata={"msgid": True})
    assert newer.read("cmdline0", "userdata/msgid_enabled") == "1"


def test_counter_is_read_and_not_in_the_state(tmp_path):
    kernel = FakeKernelConfigfs(str(tmp_path / "nc"), release="6.13")
    deal(kernel)
    kernel.set_transmit_errors("cmdline0", 3)
    assert kernel.counter("cmdline0", "transmit_errors") == 3
    old = FakeKernelConfigfs(str(tmp_path / "old"), release="6.12")
    deal(old)
    assert old.counter("cmdline0", "transmit_errors") is None
