from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import (
    netconsole_counter_change,
    netconsole_parameter,
    netconsole_targets,
    sender_heartbeat,
    sender_name,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, as_duration
from ansible_collections.logswap.netconsole.plugins.module_utils.heartbeat import heartbeat_level, heartbeat_settings


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5min", 300), (300, 300), ("300", 300), ("1h 30min", 5400), ("1h30s", 3630), (0, 0), ("0", 0), ("2 w", 1209600)],
)
def test_durations_as_systemd_writes_them(value, seconds):
    assert as_duration(value, "v") == seconds


@pytest.mark.parametrize("value", ["5 minutes ago", "5min\n", "-5", "1.5h", "5ms", True, None, "", "min", "5min; rm"])
def test_a_value_that_is_not_a_duration_is_refused_naming_the_variable(value):
    with pytest.raises(NetconsoleError, match=r"^sender_heartbeat_interval: .* is not a duration"):
        as_duration(value, "sender_heartbeat_interval")


@pytest.mark.parametrize(("loglevel", "level"), [(8, 5), (7, 5), (6, 5), (5, 4), (4, 3), (3, 2)])
def test_heartbeat_level_is_below_the_console_level(loglevel, level):
    # a line reaches the console (and netconsole) only when its level is below the console log level
    assert heartbeat_level(loglevel) == level < loglevel


@pytest.mark.parametrize("loglevel", [0, 1, 2])
def test_no_heartbeat_as_alert_or_emergency(loglevel):
    with pytest.raises(NetconsoleError, match="sender_heartbeat_interval: with sender_loglevel"):
        heartbeat_level(loglevel)


def test_heartbeat_settings():
    assert heartbeat_settings("5min", 7) == {"seconds": 300, "level": 5}
    # off needs no level, so a console level that lets nothing through is fine then
    assert heartbeat_settings(0, 1) == {"seconds": 0, "level": None}
    with pytest.raises(NetconsoleError, match=r"sender_heartbeat_interval: .5s. is 5 s; give 0 .off. or at least 10 s"):
        heartbeat_settings("5s", 7)
    with pytest.raises(AnsibleFilterError, match="sender_heartbeat_interval: '8d' is 691200 s"):
        sender_heartbeat("8d", 7)


def test_extended_is_the_role_default_and_a_target_may_say_otherwise():
    given = [{"remote_ip": "192.0.2.2"}, {"remote_ip": "192.0.2.3", "extended": "no"}]
    on, off = netconsole_targets(given, "sender_targets", True)
    assert on["extended"] is True and off["extended"] is False
    # the command line gets what it can express: the '+' of the extended one
    assert netconsole_parameter([on, off]).startswith("+")
    assert [t["extended"] for t in netconsole_targets(given, "sender_targets", "false")] == [False, False]
    assert [t["extended"] for t in netconsole_targets(given)] == [False, False]  # the kernel's own default
    with pytest.raises(AnsibleFilterError, match="sender_extended: 'maybe' is not a boolean"):
        netconsole_targets(given, "sender_targets", "maybe")


@pytest.mark.parametrize("name", ["zkj", "ann.example.org", "host_1-a", ""])
def test_sender_name_as_friends_file_it(name):
    assert sender_name(name) == name


@pytest.mark.parametrize("name", ["-x", "a b", "a\n", "../etc", "a/b", "x" * 64, "a=b"])
def test_sender_name_refused_naming_the_variable(name):
    with pytest.raises(AnsibleFilterError, match=r"^sender_name: "):
        sender_name(name)


def test_counter_change_filter_reads_the_files_text():
    assert netconsole_counter_change("4\n", "1\n") == {"transmit_errors": 4, "previous": 1, "change": 3, "reset": False}
    assert netconsole_counter_change("-", None)["transmit_errors"] is None


def _run_heartbeat_script(tmp_path, sender_name_value: str, inventory_hostname: str) -> str:
    """roles/sender/templates/heartbeat.sh.j2 rendered as the template module does and run once, its state file
    and /dev/kmsg moved into tmp_path; what it wrote to the kernel log."""
    import pathlib
    import subprocess

    import jinja2

    role = pathlib.Path(__file__).parents[4] / "roles" / "sender" / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(role), trim_blocks=True, undefined=jinja2.StrictUndefined)
    text = env.get_template("heartbeat.sh.j2").render(
        ansible_managed="managed",
        inventory_hostname=inventory_hostname,
        __sender_name=sender_name(sender_name_value),
        __sender_heartbeat=sender_heartbeat("5min", 7),
        __sender_loglevel=7,
    )
    kmsg = tmp_path / "kmsg"
    text = text.replace("/var/lib/logswap-netconsole/heartbeat.seq", str(tmp_path / "seq")).replace(
        "/dev/kmsg", str(kmsg)
    )
    script = tmp_path / "heartbeat.sh"
    script.write_text(text)
    subprocess.run(["sh", str(script)], cwd=tmp_path, check=True)
    return kmsg.read_text()


def test_heartbeat_names_the_sender_name(tmp_path):
    assert (
        _run_heartbeat_script(tmp_path, "zkj", "zkj.example.org")
        == "<5>logswap-heartbeat seq=1 host=zkj interval=300s\n"
    )


def test_heartbeat_without_sender_name_never_carries_the_unchecked_inventory_name(tmp_path):
    """sender_name '' used to put inventory_hostname, which nothing checks, between quotes in a root script."""
    line = _run_heartbeat_script(tmp_path, "", "web1'$(touch injected)'")
    assert line == "<5>logswap-heartbeat seq=1 interval=300s\n"
    assert not (tmp_path / "injected").exists()
