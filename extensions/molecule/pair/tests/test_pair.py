"""Each friend's files on the other's machine, and the sender side's persistent configuration."""

from __future__ import annotations

import re

import testinfra

testinfra_hosts = ["ansible://ann", "ansible://ben"]
FRIEND = {"ann": "ben", "ben": "ann"}
ADDRESS = {"ann": "172.30.78.11", "ben": "172.30.78.12"}


def name_of(host) -> str:
    return host.backend.get_hostname()


def test_the_friends_lines_are_in_their_own_directory(host):
    friend = FRIEND[name_of(host)]
    log = host.file(f"/var/log/remote/{friend}/console.log")
    assert log.exists and "logswap-canary" in log.content_string
    assert all(line.split()[1] == ADDRESS[friend] for line in log.content_string.splitlines())


def test_only_the_friend_reads_and_nobody_else(host):
    me, friend = name_of(host), FRIEND[name_of(host)]
    directory = host.file(f"/var/log/remote/{friend}")
    assert (directory.user, directory.group, directory.mode) == ("root", "adm", 0o750)
    assert host.run(f"runuser -u {friend} -- cat /var/log/remote/{friend}/console.log").rc == 0
    assert host.run(f"runuser -u mallory -- cat /var/log/remote/{friend}/console.log").rc != 0
    assert not host.file(f"/var/log/remote/{me}").exists
    acl = host.check_output(f"getfacl -p /var/log/remote/{friend}")
    assert f"default:user:{friend}:r-x" in acl and "mallory" not in acl


def test_rsyslog_runs_with_a_valid_configuration(host):
    assert host.service("rsyslog").is_running
    assert host.run("rsyslogd -N1").rc == 0


def test_grub_drop_in_carries_the_netconsole_parameter(host):
    me, friend = name_of(host), FRIEND[name_of(host)]
    dropin = host.file("/etc/default/grub.d/60-logswap-netconsole.cfg").content_string
    flag = "+" if me == "ann" else ""
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
