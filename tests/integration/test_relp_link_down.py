"""The reliable channel across a link that goes down while the sender is quiet: every numbered record arrives.

Three namespaces, the real rsyslogd at both ends with the roles' own relp.conf.j2 (rendered through the roles'
checks by tests/lib/render_relp.yml, keys and certificates made by tls_identity, SHA512 pinned both ways):
  <p>-snd 10.96.0.2 --veth-- <p>-rcv 10.96.0.1       the link to the friend (RELP over TLS, port 2514)
  <p>-snd 10.96.1.2 --veth-- <p>-gw  10.96.1.1       the sender's default route, as a QEMU guest's user networking:
                                                     with the link down, the friend's address is reached through it
                                                     and answered with a TCP reset (the gateway holds that address)
A file input on the sender is bound to the forwarding ruleset (the kernel input would read the host's kernel log);
each record's number is its sequence number. With the link down, a record is sent on the connection, the reset
comes back, and the sender stays quiet: librelp notices the broken connection only when omrelp sends again, so
without the role's heartbeat that record waited in librelp's window until the next record (measured: not there
75 s after the link came back). The heartbeat (every 30 s) must bring it within one interval and a reconnect.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from logswap_testlib import (
    link_namespaces,
    make_namespaces,
    need_program,
    need_root,
    relp_test_input,
    remove_namespaces,
    render_relp,
    sh,
)

PREFIX = "lsf" + uuid.uuid4().hex[:4]
SND, RCV, GW = f"{PREFIX}-snd", f"{PREFIX}-rcv", f"{PREFIX}-gw"
SND_IP, RCV_IP, SND_GW_IP, GW_IP = "10.96.0.2", "10.96.0.1", "10.96.1.2", "10.96.1.1"
SND_DEV = f"{PREFIX}s"
RELP_PORT = 2514
LINE = re.compile(r" \d+,(\S+),[^;]*;relp-number (\d+) ")
HEARTBEAT = 30  # the sender role's immark interval
ARRIVAL = HEARTBEAT + 45  # one heartbeat, omrelp's retry (5 s) and a TLS reconnect, on a loaded machine


def ip(*args: str) -> None:
    sh("ip", *args)


@pytest.fixture
def network():
    need_root()
    try:
        make_namespaces(SND, RCV, GW)
        link_namespaces((SND, SND_DEV, [f"{SND_IP}/24"]), (RCV, f"{PREFIX}r", [f"{RCV_IP}/24"]))
        link_namespaces((SND, f"{PREFIX}g", [f"{SND_GW_IP}/24"]), (GW, f"{PREFIX}h", [f"{GW_IP}/24"]))
        ip("-n", SND, "route", "add", "default", "via", GW_IP)
        ip("-n", GW, "route", "add", "10.96.0.0/24", "via", SND_GW_IP)
        # nothing listens there: a segment of the sender's connection is answered with a reset
        ip("-n", GW, "addr", "add", f"{RCV_IP}/32", "dev", "lo")
        yield
    finally:
        remove_namespaces(SND, RCV, GW)


def start(netns: str, work: Path, name: str, body: str) -> subprocess.Popen:
    spool = work / f"{name}-work"
    spool.mkdir()
    conf = work / f"{name}.conf"
    conf.write_text(f'global(workDirectory="{spool}")\n{body}')
    sh("rsyslogd", "-N1", "-f", str(conf))
    return subprocess.Popen(
        ["ip", "netns", "exec", netns, "rsyslogd", "-n", "-iNONE", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(work / f"{name}-rsyslog.log", "ab"),  # the child owns it
    )


def arrived(kernel_log: Path) -> Counter[int]:
    """How often each number is in kernel.log (with its number as the sequence number)."""
    text = kernel_log.read_text() if kernel_log.exists() else ""
    found = [LINE.search(line) for line in text.splitlines()]
    assert all(m.group(1) == m.group(2) for m in found if m), "a record lost its sequence number"
    return Counter(int(m.group(2)) for m in found if m)


def wait_for(kernel_log: Path, last: int, seconds: float) -> Counter[int]:
    deadline = time.monotonic() + seconds
    while True:
        numbers = arrived(kernel_log)
        if all(numbers[n] for n in range(1, last + 1)) or time.monotonic() > deadline:
            return numbers
        time.sleep(0.2)


def write(numbers: Path, first: int, last: int) -> None:
    with open(numbers, "a") as handle:
        handle.writelines(
            f"relp-number {i} usb 1-1: new high-speed USB device number {i}\n" for i in range(first, last + 1)
        )


def test_a_record_written_while_the_link_is_down_arrives_although_the_sender_stays_quiet(network, tmp_path):
    need_program("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so", "rsyslog-relp")
    render_relp(tmp_path, SND_IP, RCV_IP)
    numbers, kernel_log = tmp_path / "numbers", tmp_path / "log" / "sender" / "kernel.log"
    numbers.touch()
    receiver = start(RCV, tmp_path, "receiver", f'include(file="{tmp_path / "receiver-relp.conf"}")\n')
    sender = None
    try:
        deadline = time.monotonic() + 15
        while f":{RELP_PORT:04X} " not in sh("ip", "netns", "exec", RCV, "cat", "/proc/net/tcp").stdout:
            assert time.monotonic() < deadline, "the receiver's rsyslogd did not listen on the RELP port"
            time.sleep(0.1)
        sender_body = (tmp_path / "sender-relp.conf").read_text() + relp_test_input(str(numbers))
        sender = start(SND, tmp_path, "sender", sender_body)
        write(numbers, 1, 200)
        before = wait_for(kernel_log, 200, 30)
        assert all(before[n] for n in range(1, 201)), "records 1-200 did not arrive over a working link"
        time.sleep(1.5)  # the connection is idle: every acknowledgement has been exchanged

        ip("-n", SND, "link", "set", SND_DEV, "down")
        write(numbers, 201, 201)
        time.sleep(3)
        ip("-n", SND, "link", "set", SND_DEV, "up")
        back = time.monotonic()
        after = wait_for(kernel_log, 201, ARRIVAL)
        took = time.monotonic() - back
    finally:
        for proc in (sender, receiver):
            if proc:
                proc.terminate()
                proc.wait(90)
    missing = [n for n in range(1, 202) if not after[n]]
    duplicates = sum(c - 1 for c in after.values() if c > 1)
    print(f"record 201 after {took:.1f} s; {duplicates} duplicates")
    assert not missing, (
        f"missing {missing} {ARRIVAL} s after the link came back; sender's rsyslog: "
        + (tmp_path / "sender-rsyslog.log").read_text()[-2000:]
    )
    assert "logswap-heartbeat" not in kernel_log.read_text(), "the friend wrote a heartbeat into kernel.log"
