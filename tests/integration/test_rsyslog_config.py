"""rsyslog_config and rsyslog_info with the real rsyslogd: a change is checked whole by rsyslogd -N1, a refused
one leaves every file as it was and rsyslog unrestarted, the kernel log is handed from imklog to imkmsg and back
exactly, and a second run changes nothing.

systemd is not PID 1 here: systemctl is the stand-in of tests/lib/fake_systemd.py (the real one runs in the
container and kernel scenarios); the running "rsyslogd" whose open files are checked is this test's process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from fake_systemd import install_fake_systemctl, set_units, state

from ansible_collections.logswap.netconsole.plugins.modules import rsyslog_config, rsyslog_info

MARK = "  # logswap.netconsole: the kernel log is read by imkmsg (reliable channel)"
IMKMSG_DROPIN = 'module(load="imkmsg")\n'
GOOD_DROPIN = 'module(load="imudp")\ninput(type="imudp" port="16515")\n'
BROKEN_DROPIN = 'module(load="imudp")\ninput(type="imudp" port=)\n'


@pytest.fixture
def host(tmp_path, monkeypatch):
    """rsyslog.conf loading imklog and including rsyslog.d, a fake systemd knowing rsyslog.service (running)."""
    (tmp_path / "rsyslog.d").mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(
        f"$WorkDirectory {tmp_path}\n"
        'module(load="imklog")   # provides kernel logging support\n'
        f"*.* {tmp_path}/all.log\n"
        f'include(file="{tmp_path}/rsyslog.d/*.conf")\n'
    )
    conf.chmod(0o640)
    state_path, unit_dir = install_fake_systemctl(tmp_path, monkeypatch)
    set_units(state_path, {"rsyslog.service": {"enabled": "enabled", "active": "active", "MainPID": os.getpid()}})
    monkeypatch.setattr(rsyslog_config, "SYSTEMD_DIRS", (f"{unit_dir}/",))
    return {"conf": conf, "dropins": tmp_path / "rsyslog.d", "state": state_path, "unit_dir": unit_dir}


def run(module, capsys, args: dict, check_mode: bool = False) -> dict:
    with (
        patch_module_args({**args, "_ansible_check_mode": check_mode, "_ansible_diff": True}),
        pytest.raises(SystemExit),
    ):
        module.main()
    return json.loads(capsys.readouterr().out)


def calls(host) -> list[list[str]]:
    return [call for call in state(host["state"])["calls"] if call[0] not in ("show", "is-active", "is-enabled")]


def args(host, **extra) -> dict:
    return {"config": str(host["conf"]), **extra}


def test_a_new_drop_in_is_checked_whole_written_and_rsyslog_restarted_and_the_next_run_changes_nothing(host, capsys):
    dropin = str(host["dropins"] / "30-logswap.conf")
    wanted = args(host, files=[{"path": dropin, "content": GOOD_DROPIN}])
    predicted = run(rsyslog_config, capsys, wanted, check_mode=True)
    assert predicted["changed"] and predicted["restarted"] and predicted["changed_files"] == [dropin]
    assert predicted["diff"][0]["after"] == GOOD_DROPIN
    assert not os.path.exists(dropin) and calls(host) == []

    first = run(rsyslog_config, capsys, wanted)
    assert first["changed"] and first["restarted"]
    assert "config validation run" in first["rsyslog"]
    assert Path(dropin).read_text() == GOOD_DROPIN and oct(os.stat(dropin).st_mode & 0o777) == "0o644"
    assert calls(host) == [["restart", "rsyslog.service"]]

    again = run(rsyslog_config, capsys, wanted)
    assert not again["changed"] and again["rsyslog"] == ""
    assert calls(host) == [["restart", "rsyslog.service"]]


def test_a_refused_drop_in_puts_the_old_one_back_and_rsyslog_keeps_running_unrestarted(host, capsys):
    old = host["dropins"] / "30-logswap.conf"
    old.write_text(GOOD_DROPIN)
    failed = run(rsyslog_config, capsys, args(host, files=[{"path": str(old), "content": BROKEN_DROPIN}]))
    assert failed["failed"]
    assert "rsyslog refused the configuration with the new" in failed["msg"] and str(old) in failed["msg"]
    assert "put back" in failed["msg"] and "rsyslogd -N1 said" in failed["msg"]
    assert old.read_text() == GOOD_DROPIN
    assert calls(host) == []


def test_a_refused_new_drop_in_is_removed_and_the_kernel_log_stays_with_imklog(host, capsys):
    main_before = host["conf"].read_text()
    new = host["dropins"] / "32-relp.conf"
    failed = run(
        rsyslog_config,
        capsys,
        args(host, files=[{"path": str(new), "content": BROKEN_DROPIN}], kernel_input="imkmsg", mark=MARK),
    )
    assert failed["failed"]
    assert not new.exists()
    assert host["conf"].read_text() == main_before and oct(host["conf"].stat().st_mode & 0o777) == "0o640"
    assert calls(host) == []


def test_imkmsg_beside_imklog_is_refused_and_handing_the_kernel_log_over_is_accepted_and_given_back_exactly(
    host, capsys
):
    main_before = host["conf"].read_text()
    dropin = str(host["dropins"] / "32-relp.conf")
    beside = run(rsyslog_config, capsys, args(host, files=[{"path": dropin, "content": IMKMSG_DROPIN}]))
    assert beside["failed"] and not os.path.exists(dropin)  # rsyslog refuses imkmsg and imklog together

    handed = run(
        rsyslog_config,
        capsys,
        args(host, files=[{"path": dropin, "content": IMKMSG_DROPIN}], kernel_input="imkmsg", mark=MARK),
    )
    assert handed["changed"] and handed["changed_files"] == [dropin, str(host["conf"])]
    assert f'#module(load="imklog")   # provides kernel logging support{MARK}\n' in host["conf"].read_text()
    assert oct(host["conf"].stat().st_mode & 0o777) == "0o640"
    info = run(rsyslog_info, capsys, args(host, mark=MARK))
    assert info["loads_imklog"] and not info["changed"]

    back = run(
        rsyslog_config,
        capsys,
        args(host, files=[{"path": dropin, "state": "absent"}], kernel_input="imklog", mark=MARK, running=False),
    )
    assert back["changed"] and host["conf"].read_text() == main_before and not os.path.exists(dropin)
    assert calls(host) == [["restart", "rsyslog.service"], ["try-restart", "rsyslog.service"]]


def test_a_unit_drop_in_reloads_systemd_before_the_restart(host, capsys):
    unit_dropin = str(host["unit_dir"] / "rsyslog.service.d" / "60-kmsg.conf")
    done = run(rsyslog_config, capsys, args(host, files=[{"path": unit_dropin, "content": "[Service]\n"}]))
    assert done["changed"] and os.path.isfile(unit_dropin)
    assert calls(host) == [["daemon-reload"], ["restart", "rsyslog.service"]]


def test_a_stopped_disabled_rsyslog_is_started_and_enabled_without_a_change(host, capsys):
    set_units(host["state"], {"rsyslog.service": {"enabled": "disabled", "active": "inactive", "MainPID": 0}})
    predicted = run(rsyslog_config, capsys, args(host), check_mode=True)
    assert predicted["changed"] and predicted["started"] and not predicted["restarted"] and calls(host) == []
    done = run(rsyslog_config, capsys, args(host))
    assert done["started"] and calls(host) == [["start", "rsyslog.service"], ["enable", "rsyslog.service"]]
    assert not run(rsyslog_config, capsys, args(host))["changed"]


def test_a_file_rsyslogd_must_hold_open_is_waited_for_and_its_absence_fails_naming_it(host, capsys, tmp_path):
    held = tmp_path / "kmsg"
    held.write_text("")
    with open(held):
        ok = run(rsyslog_config, capsys, args(host, reads=[str(held)]))
        assert not ok.get("changed", True), ok
    failed = run(rsyslog_config, capsys, args(host, reads=[str(held)], wait=1))
    assert failed["failed"] and f"does not hold {held} open after 1 s" in failed["msg"]


def test_bad_options_are_refused_naming_the_option_before_anything_is_written(host, capsys):
    dropin = str(host["dropins"] / "30-logswap.conf")
    failed = run(
        rsyslog_config,
        capsys,
        args(host, files=[{"path": dropin + "/../x.conf", "content": ""}, {"path": dropin}], kernel_input="imkmsg"),
    )
    assert failed["failed"]
    for option in ("files[0].path", "files[1].content", "mark:"):
        assert option in failed["msg"]
    assert os.listdir(host["dropins"]) == []


def test_a_drop_in_directory_others_may_write_is_refused(host, capsys):
    host["dropins"].chmod(0o777)
    failed = run(rsyslog_config, capsys, args(host, files=[{"path": str(host["dropins"] / "a.conf"), "content": ""}]))
    assert failed["failed"] and "may be written by others than root" in failed["msg"]


def test_info_reads_the_version_and_whether_the_host_has_a_kernel_log(host, capsys):
    info = run(rsyslog_info, capsys, args(host, mark=MARK))
    assert info["version"].startswith("8.") and info["loads_imklog"]
    assert info["kmsg"] is os.path.exists("/dev/kmsg")
    assert info["private_devices"] is False


def test_a_symlinked_main_configuration_is_handed_over_through_the_link_which_stays_a_link(host, capsys, tmp_path):
    real = tmp_path / "rsyslog.conf.real"
    host["conf"].rename(real)
    host["conf"].symlink_to(real)
    main_before = real.read_text()
    dropin = str(host["dropins"] / "32-relp.conf")
    wanted = args(host, files=[{"path": dropin, "content": IMKMSG_DROPIN}], kernel_input="imkmsg", mark=MARK)
    handed = run(rsyslog_config, capsys, wanted)
    assert handed["changed"] and handed["changed_files"] == [dropin, str(real)], handed
    assert host["conf"].is_symlink() and MARK in real.read_text() and oct(real.stat().st_mode & 0o777) == "0o640"
    assert not run(rsyslog_config, capsys, wanted)["changed"]
    back = args(host, files=[{"path": dropin, "state": "absent"}], kernel_input="imklog", mark=MARK)
    assert run(rsyslog_config, capsys, back)["changed"] and real.read_text() == main_before


def test_a_refusal_puts_back_a_symlink_and_the_main_configurations_owner(host, capsys, tmp_path):
    elsewhere = tmp_path / "admin-relp.conf"
    elsewhere.write_text(GOOD_DROPIN)
    link = host["dropins"] / "32-relp.conf"
    link.symlink_to(elsewhere)
    os.chown(host["conf"], 0, 4)
    failed = run(
        rsyslog_config,
        capsys,
        args(host, files=[{"path": str(link), "content": BROKEN_DROPIN}], kernel_input="imkmsg", mark=MARK),
    )
    assert failed["failed"] and "put back" in failed["msg"]
    assert link.is_symlink() and os.readlink(link) == str(elsewhere) and elsewhere.read_text() == GOOD_DROPIN
    assert MARK not in host["conf"].read_text()
    assert (host["conf"].stat().st_gid, oct(host["conf"].stat().st_mode & 0o777)) == (4, "0o640")


def test_a_directory_where_a_file_goes_and_a_path_given_twice_are_refused_before_anything_changes(host, capsys):
    (host["dropins"] / "31-dir.conf").mkdir()
    first = str(host["dropins"] / "30-logswap.conf")
    files = [{"path": first, "content": GOOD_DROPIN}, {"path": str(host["dropins"] / "31-dir.conf"), "state": "absent"}]
    failed = run(rsyslog_config, capsys, args(host, files=files))
    assert failed["failed"] and "files[1].path" in failed["msg"] and "not a regular file" in failed["msg"]
    twice = run(rsyslog_config, capsys, args(host, files=[files[0], files[0]]))
    assert twice["failed"] and "files[1].path" in twice["msg"] and "given twice" in twice["msg"]
    assert not os.path.exists(first) and calls(host) == []


def test_turned_off_a_stopped_rsyslog_is_not_restarted_nor_said_to_be(host, capsys):
    set_units(host["state"], {"rsyslog.service": {"enabled": "disabled", "active": "inactive", "MainPID": 0}})
    dropin = host["dropins"] / "32-relp.conf"
    dropin.write_text(GOOD_DROPIN)
    off = args(host, files=[{"path": str(dropin), "state": "absent"}], kernel_input="imklog", mark=MARK, running=False)
    predicted = run(rsyslog_config, capsys, off, check_mode=True)
    assert predicted["changed"] and not predicted["restarted"] and dropin.exists()
    done = run(rsyslog_config, capsys, off)
    assert done["changed"] and not done["restarted"] and not dropin.exists()
    assert calls(host) == [] and state(host["state"])["units"]["rsyslog.service"]["active"] == "inactive"


def test_a_directory_the_configuration_reads_is_made_with_its_mode_then_left_alone_then_removed(host, capsys, tmp_path):
    spool = tmp_path / "spool" / "pstore"
    wanted = args(host, directories=[{"path": str(spool)}])
    predicted = run(rsyslog_config, capsys, wanted, check_mode=True)
    assert predicted["changed"] and predicted["changed_files"] == [str(spool)] and not spool.exists()
    assert predicted["diff"] == [
        {"before_header": str(spool), "after_header": str(spool), "before": "", "after": "(directory, mode 0700)\n"}
    ]
    first = run(rsyslog_config, capsys, wanted)
    assert first["changed"] and first["restarted"] and oct(spool.stat().st_mode & 0o777) == "0o700"
    assert not run(rsyslog_config, capsys, wanted)["changed"]
    spool.chmod(0o755)
    assert run(rsyslog_config, capsys, wanted)["changed_files"] == [str(spool)]
    assert oct(spool.stat().st_mode & 0o777) == "0o700"
    (spool / "record.lines").write_text("a record waiting\n")
    gone = run(rsyslog_config, capsys, args(host, directories=[{"path": str(spool), "state": "absent"}]))
    assert gone["changed"] and not spool.exists()
    bad = run(rsyslog_config, capsys, args(host, directories=[{"path": str(spool), "mode": "rwx"}]))
    assert bad["failed"] and "directories[0].mode: 'rwx' is not an octal mode" in bad["msg"]
    twice = run(rsyslog_config, capsys, args(host, directories=[{"path": str(spool)}, {"path": str(spool)}]))
    assert twice["failed"] and f"directories[1].path: {spool} is given twice" in twice["msg"]
    spool.write_text("a file where the spool goes\n")
    taken = run(rsyslog_config, capsys, args(host, directories=[{"path": str(spool)}]))
    assert taken["failed"] and f"directories[0].path: {spool} is there and is not a directory" in taken["msg"]
