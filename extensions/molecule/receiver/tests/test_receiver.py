"""What a friend sees on the receivers: their lines, verbatim, only theirs, readable only by them."""

from __future__ import annotations

import base64
import difflib
import functools
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import testinfra
import yaml

# receiver_state read through the role (tests/lib, shared with the other scenarios)
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lib"))
import logswap_testlib

testinfra_hosts = ["ansible://recv12", "ansible://recv13"]
ADDRESSES = {"recv12": "172.30.77.11", "recv13": "172.30.77.12"}
SOURCES = {"alice": "172.30.77.21", "bob": "172.30.77.22", "stranger": "172.30.77.66"}
LINE_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) (\S+) (.*)$")


@functools.cache
def receiver_states() -> dict[str, dict]:
    return logswap_testlib.receiver_states(os.environ["MOLECULE_INVENTORY_FILE"], "receivers")


def state_of(host) -> dict:
    return receiver_states()[host.backend.get_hostname()]


def folder(host, friend: str) -> str:
    """The friend's directory, as the receiver role says (receiver_state.files)."""
    return state_of(host)["files"][friend]["dir"]


def console(host, friend: str) -> str:
    """The friend's netconsole file, as the receiver role says (receiver_state.files)."""
    return state_of(host)["files"][friend]["console"]


def sender(name: str):
    return testinfra.get_host(f"docker://{name}")


def send(source: str, receiver: str, payload: bytes, port: int = 6666) -> None:
    """One datagram from the source container, from netconsole's port 6665, as the kernel sends it."""
    code = (
        "import base64,socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
        "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('',6665));"
        "s.sendto(base64.b64decode(sys.argv[1]),(sys.argv[2],int(sys.argv[3])))"
    )
    encoded = base64.b64encode(payload).decode()
    sender(source).check_output(f'python3 -c "{code}" {encoded} {ADDRESSES[receiver]} {port}')


def wait_for_text(host, path: str, needle: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cmd = host.run(f"grep -F -- {needle!r} {path}")
        if cmd.rc == 0:
            return cmd.stdout
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} did not arrive in {path} on {host.backend.get_hostname()}")


@pytest.fixture
def name(host) -> str:
    return host.backend.get_hostname()


@pytest.mark.parametrize(
    "payload",
    [
        b"[   12.345678] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n",
        b"6,1234,5678901,-;usb 1-1: new device\n",
        b"vmhost kernel: this first word looks like a hostname\n",
    ],
    ids=["plain", "extended", "hostname-like"],
)
def test_each_friends_line_lands_verbatim_in_their_file(host, name, payload):
    for friend in ("alice", "bob"):
        tag = uuid.uuid4().hex[:8]
        body = payload.replace(b"\n", f" {friend}-{tag}\n".encode())
        send(friend, name, body)
        line = wait_for_text(host, console(host, friend), f"{friend}-{tag}").strip()
        match = LINE_RE.match(line)
        assert match, line
        assert match.group(2) == SOURCES[friend]
        assert match.group(3) == body.decode().rstrip("\n")


def test_extended_line_with_dictionary_is_kept_whole_on_one_line(host, name):
    tag = uuid.uuid4().hex[:8]
    payload = f"6,1240,5679000,-;usb 1-1: dict {tag}\n SUBSYSTEM=usb\n DEVICE=c189:1\n".encode()
    send("alice", name, payload)
    line = wait_for_text(host, console(host, "alice"), tag).strip()
    assert line.endswith(f"6,1240,5679000,-;usb 1-1: dict {tag}#012 SUBSYSTEM=usb#012 DEVICE=c189:1")


def test_control_characters_are_escaped(host, name):
    tag = uuid.uuid4().hex[:8]
    send("bob", name, f"\x1b]0;pwned\x07\x1b[2J evil {tag}\n".encode())
    line = wait_for_text(host, console(host, "bob"), tag)
    assert "\x1b" not in line and "\x07" not in line
    assert f"#033]0;pwned#007#033[2J evil {tag}" in line


def test_a_strangers_datagram_is_written_nowhere(host, name):
    tag = uuid.uuid4().hex[:8]
    send("stranger", name, f"stranger-{tag} should not be kept\n".encode())
    send("alice", name, f"friend-after-{tag}\n".encode())
    wait_for_text(host, console(host, "alice"), f"friend-after-{tag}")
    assert host.run(f"grep -rF stranger-{tag} /var/log").rc == 1


def test_network_lines_never_reach_the_hosts_own_logs(host, name):
    tag = uuid.uuid4().hex[:8]
    send("alice", name, f"own-logs-{tag}\n".encode())
    wait_for_text(host, console(host, "alice"), f"own-logs-{tag}")
    assert host.run(f"grep -rlF own-logs-{tag} /var/log").stdout.split() == [console(host, "alice")]


def test_each_reader_reads_their_friend_and_nobody_else(host, name):
    for friend in ("alice", "bob"):
        send(friend, name, f"readable by {friend}\n".encode())
        wait_for_text(host, console(host, friend), f"readable by {friend}")
    assert host.run(f"runuser -u alice -- cat {console(host, 'alice')}").rc == 0
    assert host.run(f"runuser -u bob -- cat {console(host, 'bob')}").rc == 0
    assert host.run(f"runuser -u alice -- cat {console(host, 'bob')}").rc != 0
    assert host.run(f"runuser -u bob -- ls {folder(host, 'alice')}").rc != 0
    assert host.run(f"runuser -u mallory -- cat {console(host, 'alice')}").rc != 0


def send_many(source: str, receiver: str, payloads: list[bytes], port: int = 6666) -> None:
    """Datagrams in this order from one process, as a kernel's burst leaves it (a short pause keeps the order)."""
    code = (
        "import base64,json,socket,sys,time;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
        "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('',6665));"
        "[(s.sendto(base64.b64decode(p),(sys.argv[2],int(sys.argv[3]))),time.sleep(0.02)) "
        "for p in json.loads(base64.b64decode(sys.argv[1]))]"
    )
    encoded = base64.b64encode(json.dumps([base64.b64encode(p).decode() for p in payloads]).encode()).decode()
    sender(source).check_output(f'python3 -c "{code}" {encoded} {ADDRESSES[receiver]} {port}')


def incident(tag: str) -> tuple[list[bytes], str]:
    """A boot, ordinary lines, a gap of two, an oops whose long line came in two fragments (the second first, and
    one twice), its trace, then a reboot; and the oops line whole, as the report must show it."""
    banner = f"Linux version 6.1.0-27-amd64 ({tag}) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1"
    rows = [f"5,0,0,-;{banner}"] + [f"6,{seq},{seq * 1000},-;ordinary line {seq} {tag}" for seq in range(1, 6)]
    rows += [f"6,{seq},{seq * 1000},-;after the gap {seq} {tag}" for seq in range(8, 11)]
    oops = f"BUG: kernel NULL pointer dereference, address: 0000000000000000 {tag} " + "m" * 1500 + " END"
    total = len(oops.encode())
    pieces = [f"1,11,20000000,-,ncfrag={off}/{total};{oops[off : off + 969]}" for off in range(0, total, 969)]
    rows += [pieces[1], pieces[0], pieces[1]]
    rows += [
        "1,12,20000100,-;#PF: supervisor write access in kernel mode",
        "4,13,20000200,-;Oops: 0002 [#1] PREEMPT SMP NOPTI",
        "4,14,20000300,-;Call Trace:",
        "4,15,20000400,-; sysrq_handle_crash+0x16/0x20",
        "4,16,20000500,-;---[ end trace 0000000000000000 ]---",
        f"5,0,0,-;{banner}",
        f"6,1,1000,-;the next boot {tag}",
    ]
    return [row.encode() + b"\n" for row in rows], oops


def test_the_report_tells_the_friend_the_story_and_refuses_another_friend(host, name):
    tag = uuid.uuid4().hex[:8]
    payloads, oops = incident(tag)
    send_many("alice", name, payloads)
    wait_for_text(host, console(host, "alice"), f"the next boot {tag}")
    report = host.run("runuser -u alice -- netconsole-report alice --json")
    assert report.rc == 0, report.stderr
    story = json.loads(report.stdout)
    crashed, rebooted = story["boots"][-2:]
    assert tag in crashed["banner"] and crashed["ended_by"] == "reboot"
    assert (crashed["records"], crashed["seq_gaps"], crashed["incomplete"]) == (15, 2, 0)
    assert crashed["gaps"][0]["after"] == 5 and crashed["gaps"][0]["missing"] == 2
    (event,) = crashed["events"]
    assert (event["kind"], event["also"]) == ("bug", ["oops"])
    assert event["trace"][0] == f"[   20.000000] {oops}"
    assert event["trace"][-1].endswith("---[ end trace 0000000000000000 ]---") and len(event["trace"]) == 6
    assert crashed["last_words"][-1] == "[   20.000500] ---[ end trace 0000000000000000 ]---"
    assert (rebooted["started_by"], rebooted["records"], rebooted["ended_by"]) == ("sequence reset", 2, None)
    text = host.run("runuser -u alice -- netconsole-report alice --kind oops,bug")
    assert (
        text.rc == 0
        and "BUG at " in text.stdout
        and oops in text.stdout
        and "last words before the reboot" in text.stdout
    )
    for stranger in ("bob", "mallory"):
        refused = host.run(f"runuser -u {stranger} -- netconsole-report alice")
        assert refused.rc == 2 and refused.stdout == ""
        assert f"cannot read {folder(host, 'alice')}: permission denied" in refused.stderr, refused.stderr


def events_of(host, tag: str) -> list[str]:
    """The kinds of alice's events.log lines that carry the tag, read as alice."""
    shown = host.run(f"runuser -u alice -- cat {folder(host, 'alice')}/events.log")
    assert shown.rc == 0, shown.stderr
    return [line.split(" ", 2)[1] for line in shown.stdout.splitlines() if tag in line]


def test_the_events_service_writes_the_incident_to_events_log_for_the_friend_only(host, name):
    """The same incident as the report's: in events.log within seconds, one line per event, readable by alice."""
    assert host.service("logswap-netconsole-events").is_running
    assert host.service("logswap-netconsole-events").is_enabled
    tag = uuid.uuid4().hex[:8]
    payloads, oops = incident(tag)
    send_many("alice", name, payloads)
    deadline = time.monotonic() + 20
    # the crashed boot's banner is itself a reboot: wait for the three events, not for the first reboot
    while len(events_of(host, tag)) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    kinds = events_of(host, tag)
    # the crashed boot's banner starts a boot (reboot after the earlier tests' lines), its oops, then the reboot
    assert kinds[1:] == ["bug", "reboot"] and kinds[0] in ("boot", "reboot"), kinds
    shown = host.check_output(f"grep -F -- {tag!r} {folder(host, 'alice')}/events.log")
    assert f"also=oops trace=6 | [   20.000000] {oops}" in shown
    state = json.loads(host.check_output(f"runuser -u alice -- cat {folder(host, 'alice')}/events.json"))
    assert state["friend"] == "alice" and state["boot"]["records"] == 2 and state["silent"] is False
    for stranger in ("bob", "mallory"):
        assert host.run(f"runuser -u {stranger} -- cat {folder(host, 'alice')}/events.log").rc != 0
        assert host.run(f"runuser -u {stranger} -- cat {folder(host, 'alice')}/events.json").rc != 0


def playbook(path: str | Path, *extra: str, limit: str | None = "recv12") -> subprocess.CompletedProcess:
    """ansible-playbook against this scenario's inventory (on recv12 only by default), its output as one text."""
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            *(["--limit", limit] if limit else []),
            *extra,
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        # one message per line (the project's YAML result format wraps long messages)
        env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_RESULT_FORMAT="json"),
    )
    proc.stdout += proc.stderr  # Ansible prints task errors on stderr
    return proc


def report_playbook(account: str, *extra: str) -> subprocess.CompletedProcess:
    """playbooks/report.yml against recv12, logged in as the account (the docker connection's user, as ssh's)."""
    return playbook(
        Path(__file__).resolve().parents[4] / "playbooks" / "report.yml", "-e", f"ansible_user={account}", *extra
    )


def test_the_report_playbook_prints_it_from_the_friends_controller(host, name):
    only_on_recv12(name)
    tag = uuid.uuid4().hex[:8]
    payloads, oops = incident(tag)
    send_many("alice", name, payloads)
    wait_for_text(host, console(host, "alice"), f"the next boot {tag}")
    mine = report_playbook("alice", "-e", "report_friend=alice", "-e", "report_kind=bug", "-e", "report_since=1h")
    assert mine.returncode == 0, mine.stdout[-3000:]
    assert "BUG at " in mine.stdout and oops in mine.stdout and "changed=0" in mine.stdout, mine.stdout[-3000:]
    theirs = report_playbook("bob", "-e", "report_friend=alice")
    assert theirs.returncode != 0
    assert f"cannot read {folder(host, 'alice')}: permission denied" in theirs.stdout, theirs.stdout[-3000:]
    bad = report_playbook("alice", "-e", "report_friend=../etc")
    assert bad.returncode != 0 and "report_friend must be the friend's name" in bad.stdout, bad.stdout[-3000:]


def test_the_report_keeps_control_sequences_from_the_terminal(host, name):
    tag = uuid.uuid4().hex[:8]
    send("bob", name, f"6,77,77000,-;evil {tag} \x1b]0;pwned\x07 \x7f \xc2\x9b2J\n".encode("latin-1"))
    wait_for_text(host, console(host, "bob"), tag)
    shown = host.run("runuser -u bob -- netconsole-report bob")
    assert shown.rc == 0, shown.stderr
    line = next(text for text in shown.stdout.splitlines() if tag in text)
    assert f"evil {tag} #033]0;pwned#007 #177 #233" in line
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", shown.stdout)


def test_modes_and_owners(host):
    for friend in ("alice", "bob"):
        directory = host.file(folder(host, friend))
        assert (directory.user, directory.group, directory.mode) == ("root", "adm", 0o750)
        log = host.file(console(host, friend))
        assert (log.user, log.group) == ("root", "adm")
        assert log.mode & 0o7077 == 0o040  # 0640 with the ACL mask as group bits
        acl = host.check_output(f"getfacl -p {folder(host, friend)}")
        assert f"default:user:{friend}:r-x" in acl and f"user:{friend}:r-x" in acl


def test_rotation_keeps_acls_and_the_next_line_lands_in_the_new_file(host, name):
    send("alice", name, b"before rotation\n")
    wait_for_text(host, console(host, "alice"), "before rotation")
    host.check_output("logrotate -f /etc/logrotate.d/logswap-netconsole")
    rotated = host.check_output(f"ls {folder(host, 'alice')}").split()
    assert "console.log" in rotated and any(f.startswith("console.log-") for f in rotated)
    tag = uuid.uuid4().hex[:8]
    send("alice", name, f"after rotation {tag}\n".encode())
    wait_for_text(host, console(host, "alice"), tag)
    assert host.run(f"runuser -u alice -- cat {console(host, 'alice')}").rc == 0
    assert host.run(f"runuser -u bob -- cat {console(host, 'alice')}").rc != 0
    acl = host.check_output(f"getfacl -p {console(host, 'alice')}")
    assert re.search(r"^user:alice:r-[-x](\s+#effective:r--)?$", acl, re.M), acl
    assert "user:bob" not in acl
    # a second rotation compresses the first rotated file (delaycompress)
    time.sleep(1.1)
    host.check_output("logrotate -f /etc/logrotate.d/logswap-netconsole")
    assert any(f.endswith(".gz") for f in host.check_output(f"ls {folder(host, 'alice')}").split())


def test_rsyslog_validates_and_runs(host):
    assert host.service("rsyslog").is_running
    assert host.run("rsyslogd -N1").rc == 0
    conf = host.file("/etc/rsyslog.d/30-logswap-netconsole.conf").content_string
    assert 'ruleset="logswap_netconsole"' in conf and "$ModLoad" not in conf


def test_firewall_admits_friends_only(host, name):
    if host.run("nft list table inet logswap_netconsole").rc != 0:
        pytest.skip("nftables cannot load in this container")
    ruleset = host.check_output("nft list table inet logswap_netconsole")
    assert "172.30.77.21" in ruleset and "172.30.77.66" not in ruleset


def only_on_recv12(name: str) -> None:
    if name != "recv12":
        pytest.skip("runs the playbook again; once, on recv12, is enough")


def converge(*extra: str) -> subprocess.CompletedProcess:
    """Run this scenario's converge playbook again, on recv12 only, with extra arguments."""
    return playbook(os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml"), *extra)


CONF = "/etc/rsyslog.d/30-logswap-netconsole.conf"


def test_a_broken_rsyslog_option_is_refused_and_nothing_changes(host, name):
    only_on_recv12(name)
    before = host.check_output(f"sha256sum {CONF}")
    pid = host.check_output("systemctl show -p MainPID --value rsyslog")
    result = converge("-e", '{"receiver_input_options": {"nosuchparameter": "1"}}')
    assert result.returncode != 0
    assert "nosuchparameter" in result.stdout, result.stdout[-3000:]
    assert host.check_output(f"sha256sum {CONF}") == before
    assert host.check_output("systemctl show -p MainPID --value rsyslog") == pid
    tag = uuid.uuid4().hex[:8]
    send("alice", "recv12", f"still receiving {tag}\n".encode())
    wait_for_text(host, console(host, "alice"), tag)


def test_a_config_that_stops_escaping_control_characters_is_refused(host, name):
    only_on_recv12(name)
    before = host.check_output(f"sha256sum {CONF}")
    unescaping = "/etc/rsyslog.d/10-unescaped.conf"
    host.run(f"echo 'global(parser.escapeControlCharactersOnReceive=\"off\")' > {unescaping}")
    try:
        result = converge()
    finally:
        host.run(f"rm -f {unescaping}")
    assert result.returncode != 0
    assert f"{unescaping} turns off escapeControlCharactersOnReceive" in result.stdout, result.stdout[-2000:]
    assert host.check_output(f"sha256sum {CONF}") == before


def test_a_conflict_with_another_drop_in_is_found_before_anything_changes(host, name):
    """The whole configuration with the new drop-in is checked in a scratch copy before any directory or file."""
    only_on_recv12(name)
    before = host.check_output(f"sha256sum {CONF}")
    pid = host.check_output("systemctl show -p MainPID --value rsyslog")
    other = "/etc/rsyslog.d/10-syslog-server.conf"
    host.run(f'echo \'module(load="imudp" threads="2")\' > {other}')
    carol = (
        '{"receiver_friends": [{"name": "alice", "addresses": ["172.30.77.21"], "readers": ["alice"]},'
        ' {"name": "carol", "addresses": ["172.30.77.23"]}]}'
    )
    try:
        result = converge("-e", carol)
    finally:
        host.run(f"rm -f {other}")
    assert result.returncode != 0
    assert "rsyslogd -N1 refused rsyslog's configuration with the role's new drop-in" in result.stdout
    assert "module 'imudp' already in this config" in result.stdout, result.stdout[-3000:]
    assert "changed=0" in result.stdout, result.stdout[-1000:]
    assert host.check_output(f"sha256sum {CONF}") == before
    assert host.check_output("systemctl show -p MainPID --value rsyslog") == pid
    assert not host.file(f"{state_of(host)['log_root']}/carol").exists
    assert host.run("ls -d /tmp/*.logswap-check").rc != 0  # the scratch directory is gone


def test_check_mode_reports_a_new_friend_and_changes_nothing(host, name):
    only_on_recv12(name)
    before = host.check_output(f"sha256sum {CONF}")
    friends = (
        '{"receiver_friends": [{"name": "alice", "addresses": ["172.30.77.21"], "readers": ["alice"]},'
        ' {"name": "bob", "addresses": ["172.30.77.22"], "readers": ["bob"]},'
        ' {"name": "carol", "addresses": ["172.30.77.23"], "readers": ["mallory"]}]}'
    )
    result = converge("--check", "--diff", "-e", friends)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "172.30.77.23" in result.stdout and "changed=0" not in result.stdout
    assert host.check_output(f"sha256sum {CONF}") == before
    assert not host.file(f"{state_of(host)['log_root']}/carol").exists


# Everything a receiver run could change: files and modes under the role's paths and /tmp (a crafted value's
# program would write there; Ansible's own module payloads there are left out), ACLs, fstab, the nftables
# ruleset (-s: without counters, which Docker's DNS rules move), and whether rsyslog was restarted.
SNAPSHOT = (
    "find /var/log/remote /etc/rsyslog.d /etc/rsyslog.conf /etc/logrotate.d /etc/nftables.d /etc/nftables.conf "
    "/etc/fstab /tmp -xdev -path '/tmp/ansible_*' -prune -o -type d -printf '%p %m %u %g\\n' "
    "-o -printf '%p %m %u %g %s %T@\\n' "
    "2>/dev/null | sort; getfacl -Rp /var/log/remote 2>/dev/null; nft -s list ruleset 2>/dev/null; "
    "systemctl show -p MainPID -p ExecMainStartTimestampMonotonic -p NRestarts rsyslog"
)
BAD_VALUES = yaml.safe_load(
    (Path(__file__).resolve().parents[4] / "tests" / "lib" / "receiver_bad_values.yml").read_text()
)


def bad_values_playbook(results: Path) -> list[dict]:
    """One play per bad value: the role inside block/rescue, then the host's snapshot compared with the first."""
    snapshot = {"ansible.builtin.command": {"argv": ["sh", "-c", SNAPSHOT]}, "changed_when": False}
    plays = [
        {
            "name": "Take the snapshot of the converged host",
            "hosts": "recv12",
            "gather_facts": False,
            "tasks": [
                {"name": "Snapshot", **snapshot, "register": "__bad_first"},
                {"name": "Keep it", "ansible.builtin.set_fact": {"__bad_before": "{{ __bad_first.stdout }}"}},
                {"name": "No results yet", "ansible.builtin.set_fact": {"__bad_results": []}},
            ],
        }
    ]
    for case in BAD_VALUES:
        record = (
            "{{ __bad_results + [{'id': %r, 'msg': %s, 'unchanged': __bad_after.stdout == __bad_before, "
            "'after': __bad_after.stdout}] }}"
        )
        plays.append(
            {
                "name": f"Bad value {case['id']}",
                "hosts": "recv12",
                "gather_facts": False,
                "vars": case["vars"],
                "tasks": [
                    {
                        "name": "Run the role",
                        "block": [
                            {
                                "name": "The role",
                                "ansible.builtin.include_role": {"name": "logswap.netconsole.receiver"},
                            },
                            {"name": "Snapshot", **snapshot, "register": "__bad_after"},
                            {
                                "name": "Record",
                                "ansible.builtin.set_fact": {"__bad_results": record % (case["id"], "None")},
                            },
                        ],
                        "rescue": [
                            {"name": "Snapshot", **snapshot, "register": "__bad_after"},
                            {
                                "name": "Record",
                                "ansible.builtin.set_fact": {
                                    "__bad_results": record
                                    % (case["id"], "ansible_failed_result.msg | default('') | string")
                                },
                            },
                        ],
                    }
                ],
            }
        )
    plays.append(
        {
            "name": "Hand the results to the test",
            "hosts": "recv12",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Write them",
                    "ansible.builtin.copy": {
                        "content": "{{ {'before': __bad_before, 'results': __bad_results} | to_json }}",
                        "dest": str(results),
                        "mode": "0600",
                    },
                    "delegate_to": "localhost",
                }
            ],
        }
    )
    return plays


def test_about_sixty_bad_values_each_fail_naming_the_variable_and_change_nothing(host, name, tmp_path):
    """tests/lib/receiver_bad_values.yml through the role on the converged host, one play each, one run."""
    only_on_recv12(name)
    cases, results = tmp_path / "bad_values.yml", tmp_path / "results.json"
    cases.write_text(json.dumps(bad_values_playbook(results)))
    before = host.check_output(f"sha256sum {CONF}")
    proc = playbook(cases, limit=None)
    assert proc.returncode == 0, proc.stdout[-3000:]
    handed = json.loads(results.read_text())
    outcomes = {r["id"]: r for r in handed["results"]}
    assert list(outcomes) == [case["id"] for case in BAD_VALUES]
    problems = []
    for case in BAD_VALUES:
        outcome = outcomes[case["id"]]
        if outcome["msg"] is None:
            problems.append(f"{case['id']}: the role succeeded")
            continue
        missing = [needle for needle in case["needles"] if needle not in outcome["msg"]]
        if missing:
            problems.append(f"{case['id']}: {missing} not in {outcome['msg'][:600]!r}")
        if not outcome["unchanged"]:
            diff = difflib.unified_diff(handed["before"].splitlines(), outcome["after"].splitlines(), lineterm="", n=0)
            problems.append(f"{case['id']}: the host changed: " + "\n".join(list(diff)[2:40]))
    assert problems == [], "\n".join(problems)
    assert host.check_output(f"sha256sum {CONF}") == before
    assert host.run("test -e /tmp/pwned -o -e /tmp/world").rc != 0
