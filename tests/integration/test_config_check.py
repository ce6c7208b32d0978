"""config_check with the real rsyslogd, logrotate and nft: the new drop-ins checked with the host's own
configuration around them, what each program said given back, and nothing left behind."""

from __future__ import annotations

import os
import tempfile

from logswap_testlib import run_module

GOOD_DROPIN = 'module(load="imudp")\ninput(type="imudp" port="16514")\n'


def host(tmp_path, main: str | None = None, others: dict[str, str] | None = None) -> dict:
    """A host's rsyslog.conf and rsyslog.d under tmp_path; the module's path options for them."""
    dropin_dir = tmp_path / "rsyslog.d"
    dropin_dir.mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(
        main
        if main is not None
        else f'$WorkDirectory {tmp_path}\n*.* {tmp_path}/all.log\ninclude(file="{dropin_dir}/*.conf")\n'
    )
    for name, text in (others or {}).items():
        (dropin_dir / name).write_text(text)
    return {"rsyslog_conf": str(conf), "rsyslog_dir": str(dropin_dir)}


def scratch_dirs() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.endswith(".logswap-check")}


def test_a_good_configuration_passes_every_check_and_leaves_nothing_behind(tmp_path):
    before = scratch_dirs()
    paths = host(tmp_path, others={"10-other.conf": "*.* stop\n"})
    (tmp_path / "x.log").write_text("")
    result = run_module(
        "config_check",
        {
            **paths,
            "rsyslog_dropins": {"30-logswap.conf": GOOD_DROPIN},
            "logrotate": f"{tmp_path}/x.log {{\n  rotate 2\n}}\n",
            "nftables": "table inet logswap_check {\n  chain input { type filter hook input priority 0; }\n}\n",
        },
    )
    assert not result["changed"]
    assert result["rsyslog"]["rc"] == 0, result["rsyslog"]["output"]
    assert result["logrotate"] == {"rc": 0, "errors": []}
    assert result["nftables"]["rc"] == 0, result["nftables"]["output"]
    assert result["unescaping"] == [] and result["includes_dropins"]
    assert scratch_dirs() == before
    assert sorted(os.listdir(tmp_path / "rsyslog.d")) == ["10-other.conf"]  # the real directory is untouched


def test_a_drop_in_rsyslogd_refuses_is_reported_under_its_real_path(tmp_path):
    paths = host(tmp_path)
    broken = 'module(load="imudp")\ninput(type="imudp" port=)\n'
    result = run_module("config_check", {**paths, "rsyslog_dropins": {"30-logswap.conf": broken}})
    assert result["rsyslog"]["rc"] != 0
    assert f"{tmp_path}/rsyslog.d/30-logswap.conf" in result["rsyslog"]["output"]
    assert ".logswap-check" not in result["rsyslog"]["output"]


def test_the_new_drop_in_replaces_the_old_one_and_an_omitted_one_is_left_out(tmp_path):
    # the old drop-in and the omitted one would both bind the same port as the new one: rsyslogd would refuse
    paths = host(tmp_path, others={"30-logswap.conf": "input(type=\n", "31-relp.conf": "input(type=\n"})
    result = run_module(
        "config_check",
        {**paths, "rsyslog_dropins": {"30-logswap.conf": GOOD_DROPIN}, "rsyslog_omit": ["31-relp.conf"]},
    )
    assert result["rsyslog"]["rc"] == 0, result["rsyslog"]["output"]


def test_another_drop_in_that_breaks_the_whole_configuration_is_caught(tmp_path):
    paths = host(tmp_path, others={"20-theirs.conf": GOOD_DROPIN})
    result = run_module("config_check", {**paths, "rsyslog_dropins": {"30-logswap.conf": GOOD_DROPIN}})
    assert result["rsyslog"]["rc"] != 0  # imudp loaded twice


def test_escaping_turned_off_elsewhere_and_a_main_file_without_the_include_are_reported(tmp_path):
    paths = host(
        tmp_path,
        main=f"$WorkDirectory {tmp_path}\n# $EscapeControlCharactersOnReceive off\n",
        others={"05-raw.conf": 'global(parser.escapeControlCharactersOnReceive="off")\n'},
    )
    result = run_module("config_check", {**paths, "rsyslog_dropins": {"30-logswap.conf": GOOD_DROPIN}})
    assert result["unescaping"] == [f"{tmp_path}/rsyslog.d/05-raw.conf"]  # the comment in the main file is not
    assert not result["includes_dropins"]


def test_logrotate_and_nft_errors_are_given_back(tmp_path):
    paths = host(tmp_path)
    result = run_module(
        "config_check",
        {**paths, "logrotate": f"{tmp_path}/x.log {{\n  rotate many\n}}\n", "nftables": "table inet {\n"},
    )
    assert result["logrotate"]["rc"] != 0 and result["logrotate"]["errors"]
    assert result["nftables"]["rc"] != 0 and "nftables.nft" in result["nftables"]["output"]


def test_a_drop_in_name_that_is_a_path_is_refused(tmp_path):
    paths = host(tmp_path)
    result = run_module("config_check", {**paths, "rsyslog_dropins": {"../rsyslog.conf": GOOD_DROPIN}})
    assert "'../rsyslog.conf' is not a plain file name ending in .conf" in result["msg"]
    result = run_module("config_check", {**paths, "rsyslog_dropins": {"30-logswap": GOOD_DROPIN}})
    assert "'30-logswap' is not a plain file name ending in .conf" in result["msg"]


def test_a_host_without_rsyslog_is_told_so(tmp_path):
    result = run_module("config_check", {"rsyslog_conf": str(tmp_path / "none.conf"), "rsyslog_dir": str(tmp_path)})
    assert result["failed"] and "is not a file; is rsyslog installed?" in result["msg"]


def test_accounts_groups_and_programs_the_host_lacks_are_named_in_order(tmp_path):
    paths = host(tmp_path)
    sendmail = tmp_path / "sendmail"
    sendmail.write_text("#!/bin/sh\n")
    sendmail.chmod(0o755)
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    result = run_module(
        "config_check",
        {
            **paths,
            "users": ["root", "logswap-nobody-zz", "nobody", "logswap-nobody-aa"],
            "groups": ["root", "logswap-nogroup"],
            "executables": [str(sendmail), str(not_executable), str(tmp_path / "absent")],
        },
    )
    assert result["missing"] == {
        "users": ["logswap-nobody-zz", "logswap-nobody-aa"],
        "groups": ["logswap-nogroup"],
        "executables": [str(not_executable), str(tmp_path / "absent")],
    }
