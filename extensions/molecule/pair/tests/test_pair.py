"""Each friend's files on the other's machine, and the sender side's persistent configuration."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra

# receiver_state read through the role (tests/lib, shared with the other scenarios)
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lib"))
from logswap_testlib import receiver_states

testinfra_hosts = ["ansible://ann", "ansible://ben"]
FRIEND = {"ann": "ben", "ben": "ann"}
ADDRESS = {"ann": "172.30.78.11", "ben": "172.30.78.12"}


def name_of(host) -> str:
    return host.backend.get_hostname()


@functools.cache
def states() -> dict[str, dict]:
    """Each receiver's receiver_state: the friends' files as the receiver role says."""
    return receiver_states(os.environ["MOLECULE_INVENTORY_FILE"])


def test_the_friends_lines_are_in_their_own_directory(host):
    friend = FRIEND[name_of(host)]
    log = host.file(states()[name_of(host)]["files"][friend]["console"])
    assert log.exists and "logswap-canary" in log.content_string
    assert all(line.split()[1] == ADDRESS[friend] for line in log.content_string.splitlines())


def test_only_the_friend_reads_and_nobody_else(host):
    me, friend = name_of(host), FRIEND[name_of(host)]
    mine = states()[me]["files"][friend]
    directory = host.file(mine["dir"])
    assert (directory.user, directory.group, directory.mode) == ("root", "adm", 0o750)
    assert host.run(f"runuser -u {friend} -- cat {mine['console']}").rc == 0
    assert host.run(f"runuser -u mallory -- cat {mine['console']}").rc != 0
    assert list(states()[me]["files"]) == [friend]
    assert not host.file(f"{states()[me]['log_root']}/{me}").exists
    acl = host.check_output(f"getfacl -p {mine['dir']}")
    assert f"default:user:{friend}:r-x" in acl and "mallory" not in acl


def test_rsyslog_runs_with_a_valid_configuration(host):
    assert host.service("rsyslog").is_running
    assert host.run("rsyslogd -N1").rc == 0


def test_grub_drop_in_carries_the_netconsole_parameter(host):
    me, friend = name_of(host), FRIEND[name_of(host)]
    dropin = host.file("/etc/default/grub.d/60-logswap-netconsole.cfg").content_string
    # ann's inventory says extended: true; ben says nothing and gets sender_extended's default (true)
    flag = "+"
    match = re.search(r'netconsole=(\S+)"', dropin)
    assert match, dropin
    assert re.fullmatch(
        rf"{re.escape(flag)}6665@{ADDRESS[me]}/eth0,6666@{ADDRESS[friend]}/([0-9a-f]{{2}}:){{5}}[0-9a-f]{{2}}",
        match.group(1),
    ), match.group(1)
    assert "loglevel=7" in dropin
    assert ("panic=10" in dropin) == (me == "ben")
    assert host.run("sh -n /etc/default/grub.d/60-logswap-netconsole.cfg").rc == 0


def test_the_mac_in_the_parameter_is_the_friends(host):
    friend = FRIEND[name_of(host)]
    friend_mac = testinfra.get_host(f"docker://{friend}").check_output("cat /sys/class/net/eth0/address").strip()
    dropin = host.file("/etc/default/grub.d/60-logswap-netconsole.cfg").content_string
    assert f"@{ADDRESS[friend]}/{friend_mac}" in dropin


def test_printk_and_panic_are_persisted(host):
    sysctl = host.file("/etc/sysctl.d/60-logswap-netconsole.conf").content_string
    assert re.search(r"^kernel\.printk\s*=\s*7 4 1 7$", sysctl, re.M), sysctl
    panic_wanted = name_of(host) == "ben"  # sender_panic_timeout: 10 on ben only
    assert bool(re.search(r"^kernel\.panic\s*=\s*10$", sysctl, re.M)) == panic_wanted, sysctl


# Bad values and booleans written as text, through the real playbook (issue 12, items 4 and 5). These run the
# playbook again, once, from ann's test; they run last and leave the pair as converge left it.
DROPIN = "/etc/default/grub.d/60-logswap-netconsole.cfg"
RSYSLOG_CONF = "/etc/rsyslog.d/30-logswap-netconsole.conf"


def converge(*extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            *extra,
            os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"),
    )
    proc.stdout += proc.stderr  # Ansible prints task errors on stderr
    return proc


def fingerprint() -> dict[str, str]:
    """What a run that changed anything would have changed, on both friends."""
    return {
        f"{name}:{path}": testinfra.get_host(f"docker://{name}").run(f"sha256sum {path}").stdout
        for name in FRIEND
        for path in (DROPIN, RSYSLOG_CONF)
    }


def only_on_ann(host) -> None:
    if name_of(host) != "ann":
        pytest.skip("runs the playbook for both friends; once, from ann, is enough")


def test_bad_values_fail_before_any_change_naming_the_variable(host):
    only_on_ann(host)
    before = fingerprint()
    # each case also asks for a new receiver port: had the receiver play run, rsyslog's file would differ
    cases = [
        ('{"netconsole_target": {"extendd": true}}', "netconsole_target: unknown key 'extendd'"),
        ('{"netconsole_target": {"remote_adress": "172.30.78.99"}}', "netconsole_target: unknown key 'remote_adress'"),
        ('{"netconsole_target": {"extended": "maybe"}}', "netconsole_target.extended: 'maybe' is not a boolean"),
        ('{"sender_persist": "perhaps"}', "sender_persist"),
        ('{"sender_loglevel": "9"}', "sender_loglevel: '9' is out of range; give a number from 0 to 8"),
        ('{"sender_discovery_timeout": 0}', "sender_discovery_timeout: 0 is out of range"),
        ('{"netconsole_log_to": ["ann", "ann"]}', "netconsole_log_to of"),
    ]
    for extra, needle in cases:
        result = converge("-e", extra, "-e", '{"receiver_port": 6667}')
        assert result.returncode != 0 and needle in result.stdout, (extra, result.stdout[-2500:])
        assert re.search(r"ann\s+:.*changed=0", result.stdout) and re.search(r"ben\s+:.*changed=0", result.stdout), (
            extra,
            result.stdout[-1500:],
        )
    assert fingerprint() == before


def test_false_written_as_text_means_false(host):
    only_on_ann(host)
    try:
        # ann's inventory says extended: true; "false" as text must give a plain target, not an extended one
        result = converge("-e", '{"netconsole_target": {"extended": "false", "release": "no"}}')
        assert result.returncode == 0, result.stdout[-3000:]
        match = re.search(r'netconsole=(\S+)"', host.file(DROPIN).content_string)
        assert match and match.group(1).startswith("6665@172.30.78.11/eth0,"), host.file(DROPIN).content_string

        # sender_persist=no, as -e and INI inventories give it, writes no GRUB drop-in (and leaves ben's alone;
        # read after the run above, which gave ben a plain target too: -e applies to every host)
        ben_dropin = testinfra.get_host("docker://ben").run(f"sha256sum {DROPIN}").stdout
        host.run(f"rm -f {DROPIN}")
        result = converge("-e", "sender_persist=no")
        assert result.returncode == 0, result.stdout[-3000:]
        assert not host.file(DROPIN).exists
        assert testinfra.get_host("docker://ben").run(f"sha256sum {DROPIN}").stdout == ben_dropin
    finally:
        restored = converge()
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert re.search(r"netconsole=\+6665@", host.file(DROPIN).content_string)
