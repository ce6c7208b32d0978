"""The reliable channel across a cut path: the records sent just after the cut arrive, even if rsyslog stops soon after.

Two namespaces, the real rsyslogd at both ends with the roles' own relp.conf.j2 (rendered through the roles'
checks by tests/lib/render_relp.yml, keys and certificates made by tls_identity, SHA512 pinned both ways):
  <p>-snd 10.94.0.2 --veth-- <p>-rcv 10.94.0.1
A file input on the sender is bound to the forwarding ruleset; each record's number is its sequence number.
Records flow at 100 a second; the veth pair is deleted for 28 s and made again with the same addresses (what
`docker network disconnect` and `connect` do to a container), and 10 s after the path is back the sender's
rsyslog is stopped and started. The records omrelp sent on the connection just after the cut (one RELP window,
128) wait in librelp's window, unacknowledged: with librelp's default timeout (90 s) the connection stayed open
until TCP's next retransmission, 23 s after the path came back (measured), and the stop lost the window. With
the role's timeout of 10 s the connection is given up during the cut and made again on omrelp's next retry after
the path is back, which sends the window again: every number must arrive.
"""

from __future__ import annotations

import re
import subprocess
import threading
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

PREFIX = "lsc" + uuid.uuid4().hex[:4]
SND, RCV = f"{PREFIX}-snd", f"{PREFIX}-rcv"
SND_IP, RCV_IP = "10.94.0.2", "10.94.0.1"
RELP_PORT = 2514
LINE = re.compile(r" \d+,(\S+),[^;]*;relp-number (\d+) ")
RATE = 100  # records a second, in one burst each second (as the reliable scenario's feed)
BEFORE, CUT, AFTER = 3, 28, 10  # seconds of records before the cut, of the cut, from the path's return to the stop
ARRIVAL = 45  # seconds after the sender's start for every number to be there


@pytest.fixture
def network():
    need_root()
    try:
        make_namespaces(SND, RCV)
        link()
        yield
    finally:
        remove_namespaces(SND, RCV)


def link() -> None:
    link_namespaces((SND, f"{PREFIX}s", [f"{SND_IP}/24"]), (RCV, f"{PREFIX}r", [f"{RCV_IP}/24"]))


def configure(work: Path, name: str, body: str) -> Path:
    spool = work / f"{name}-work"
    spool.mkdir()
    conf = work / f"{name}.conf"
    conf.write_text(f'global(workDirectory="{spool}")\n{body}')
    sh("rsyslogd", "-N1", "-f", str(conf))
    return conf


def start(netns: str, conf: Path) -> subprocess.Popen:
    with open(conf.with_suffix(".log"), "ab") as log:
        return subprocess.Popen(
            ["ip", "netns", "exec", netns, "rsyslogd", "-n", "-iNONE", "-f", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        proc.wait(90)


def arrived(kernel_log: Path) -> Counter[int]:
    """How often each number is in kernel.log (with its number as the sequence number)."""
    text = kernel_log.read_text() if kernel_log.exists() else ""
    found = [LINE.search(line) for line in text.splitlines()]
    assert all(m.group(1) == m.group(2) for m in found if m), "a record lost its sequence number"
    return Counter(int(m.group(2)) for m in found if m)


def feed(numbers: Path, count: int) -> None:
    """``count`` numbered records, ``RATE`` a second."""
    t0 = time.monotonic()
    with open(numbers, "a") as handle:
        for first in range(1, count + 1, RATE):
            last = min(first + RATE - 1, count)
            handle.writelines(f"relp-number {i} usb 1-1: new device {i}\n" for i in range(first, last + 1))
            handle.flush()
            time.sleep(max(0.0, t0 + last / RATE - time.monotonic()))


def test_records_sent_just_after_a_cut_arrive_although_the_sender_stops_soon_after_the_path_is_back(network, tmp_path):
    need_program("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so", "rsyslog-relp")
    render_relp(tmp_path, SND_IP, RCV_IP)
    numbers, kernel_log = tmp_path / "numbers", tmp_path / "log" / "sender" / "kernel.log"
    numbers.touch()
    receiver_conf = configure(tmp_path, "receiver", f'include(file="{tmp_path / "receiver-relp.conf"}")\n')
    sender_body = (tmp_path / "sender-relp.conf").read_text() + relp_test_input(str(numbers))
    sender_conf = configure(tmp_path, "sender", sender_body)
    count = (BEFORE + CUT + AFTER // 2) * RATE  # the last records written 5 s before the stop
    receiver = start(RCV, receiver_conf)
    sender = None
    try:
        deadline = time.monotonic() + 15
        while f":{RELP_PORT:04X} " not in sh("ip", "netns", "exec", RCV, "cat", "/proc/net/tcp").stdout:
            assert time.monotonic() < deadline, "the receiver's rsyslogd did not listen on the RELP port"
            time.sleep(0.1)
        sender = start(SND, sender_conf)
        time.sleep(1)
        feeder = threading.Thread(target=feed, args=(numbers, count))
        feeder.start()
        time.sleep(BEFORE + 0.5)
        sh("ip", "-n", SND, "link", "del", f"{PREFIX}s")  # takes the receiver's end with it
        time.sleep(CUT)
        link()
        time.sleep(AFTER)
        feeder.join()
        stop(sender)
        sender = start(SND, sender_conf)
        deadline = time.monotonic() + ARRIVAL
        while not all((got := arrived(kernel_log))[n] for n in range(1, count + 1)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        stop(sender)
        stop(receiver)
    missing = [n for n in range(1, count + 1) if not got[n]]
    duplicates = sum(c - 1 for c in got.values() if c > 1)
    print(f"{count} records, {len(missing)} missing, {duplicates} duplicates")
    assert not missing, (
        f"{len(missing)} of {count} missing {ARRIVAL} s after the sender's start: {missing[:5]} ... {missing[-5:]}; "
        "sender's rsyslog: " + sender_conf.with_suffix(".log").read_text()[-2000:]
    )
