"""pstore records over the reliable channel: the sender's shipper hands a record to rsyslog, the friend files it.

Two namespaces, the real rsyslogd at both ends with the roles' own relp.conf.j2 (rendered through the roles'
checks by tests/lib/render_relp.yml, as tests/integration/test_relp_link_down.py does):
  <p>-snd 10.97.0.2 --veth-- <p>-rcv 10.97.0.1   RELP over TLS, port 2514
The shipper is the collection's pstoreship.py run as the sender role installs it (python3 -I, a file), on a
pstore directory laid out as systemd-pstore leaves it after a ramoops panic (docs/pstore.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from logswap_testlib import COLLECTIONS, MODULE_UTILS, ROOT, need_program, need_root, sh

from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import pstore_lines

PREFIX = "lsp" + uuid.uuid4().hex[:4]
SND, RCV = f"{PREFIX}-snd", f"{PREFIX}-rcv"
SND_IP, RCV_IP = "10.97.0.2", "10.97.0.1"
RELP_PORT = 2514
PLAYBOOK = ROOT / "tests" / "lib" / "render_relp.yml"
# as the sender role's logswap-pstore-ship runs it: the file alone, standard library only
SHIPPER_MAIN = f"import sys; sys.path.insert(0, {str(MODULE_UTILS)!r}); import pstoreship; sys.exit(pstoreship.main())"
# as the 6.1 guest's record started and ended (docs/pstore.md), with a blank line and a tab; 1,500 lines between,
# more than the sender's queue keeps in memory (500): such a record arrived out of order (the 7.3 guest's, 618 lines)
RECORD = (
    "Panic#1 Part1\n"
    "<5>[    0.000000] Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org)\n"
    + "".join(f"<6>[{n / 10:12.6f}] eth0: line {n} of the boot\n" for n in range(1, 1501))
    + "<6>[  251.709631] sysrq: Trigger a crash\n"
    "<0>[  251.716289] Kernel panic - not syncing: sysrq triggered crash\n"
    "<4>[  251.717304] Call Trace:\n"
    "<4>[  251.717305]  <TASK>\n"
    "<4>[  251.726130]  sysrq_handle_crash+0x16/0x20\n"
    "\n"
    "<4>[  251.726293]  __handle_sysrq.cold+0x44/0x11c\twith a tab\n"
    "<0>[  251.734017] Kernel Offset: 0x1b400000 from 0xffffffff81000000\n"
)


@pytest.fixture
def network():
    need_root()
    try:
        for ns in (SND, RCV):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{PREFIX}s", "netns", SND, "type", "veth", "peer", "name", f"{PREFIX}r", "netns", RCV)
        for ns, dev, address in ((SND, f"{PREFIX}s", SND_IP), (RCV, f"{PREFIX}r", RCV_IP)):
            sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        yield
    finally:
        for ns in (SND, RCV):
            sh("ip", "netns", "del", ns, check=False)


def render(work: Path) -> None:
    values = {
        "render_dir": str(work),
        "render_sender_address": SND_IP,
        "render_receiver_address": RCV_IP,
        "receiver_log_root": str(work / "log"),
        "__sender_pstore_spool": str(work / "spool"),
    }
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(values)],
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS)),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def start(netns: str, work: Path, name: str, body: str) -> subprocess.Popen:
    state = work / f"{name}-work"
    state.mkdir(exist_ok=True)  # (kept when it starts again)
    conf = work / f"{name}.conf"
    conf.write_text(f'global(workDirectory="{state}")\n{body}')
    checked = sh("rsyslogd", "-N1", "-f", str(conf), check=False)
    assert checked.returncode == 0, checked.stderr
    return subprocess.Popen(
        ["ip", "netns", "exec", netns, "rsyslogd", "-n", "-iNONE", "-f", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(work / f"{name}-rsyslog.log", "ab"),  # the child owns it
    )


def ship(work: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", "-c", SHIPPER_MAIN, "--pstore-dir", str(work / "pstore"),
         "--state-dir", str(work / "shipped"), "--spool-dir", str(work / "spool")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def wait_for(path: Path, text: str, seconds: float) -> str:
    """The record as filed, once it holds every line of text (in any order: netconsole-report orders them)."""
    deadline = time.monotonic() + seconds
    while True:
        found = path.read_text() if path.exists() else ""
        if pstore_lines(found) == (text.splitlines(), 0) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_panic_record_arrives_whole_once_and_a_forged_id_names_no_file(network, tmp_path):
    need_program("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so", "rsyslog-relp")
    render(tmp_path)
    (tmp_path / "spool").mkdir(mode=0o700)
    record = tmp_path / "pstore" / "dmesg-ramoops-0"
    record.parent.mkdir()
    record.write_text(RECORD)
    os.utime(record, (1796048699, 1796048699))  # the panic's time: 2026-11-30 14:24:59 UTC
    (tmp_path / "pstore" / "dmesg.txt").write_text("dmesg-ramoops-0:\n" + RECORD)  # systemd-pstore's joined copy
    receiver = start(RCV, tmp_path, "receiver", f'include(file="{tmp_path / "receiver-relp.conf"}")\n')
    sender = None
    friend = tmp_path / "log" / "sender"
    try:
        deadline = time.monotonic() + 15
        while f":{RELP_PORT:04X} " not in sh("ip", "netns", "exec", RCV, "cat", "/proc/net/tcp").stdout:
            assert time.monotonic() < deadline, "the receiver's rsyslogd did not listen on the RELP port"
            time.sleep(0.1)
        sender = start(SND, tmp_path, "sender", (tmp_path / "sender-relp.conf").read_text())
        first = ship(tmp_path)
        assert first.returncode == 0, first.stderr
        (rid,) = os.listdir(tmp_path / "shipped")
        assert rid.startswith("20261130T142459Z-")
        filed = friend / "pstore" / f"{rid}.txt"
        got = wait_for(filed, RECORD.replace("\t", "#011"), 60)
        assert pstore_lines(got) == (RECORD.replace("\t", "#011").splitlines(), 0), (
            f"{filed} holds {got[-3000:]!r}; receiver's rsyslog: "
            + (tmp_path / "receiver-rsyslog.log").read_text()[-2000:]
        )
        # a second run (the timer, the next boot) ships nothing again
        again = ship(tmp_path)
        assert again.returncode == 0 and again.stderr == ""
        # a line whose id is not the shipper's form (here a path) is dropped by the friend, not filed
        (tmp_path / "spool" / "forged.lines").write_text("../../../escape 1/1 Kernel panic - forged\n")
        (tmp_path / "spool" / "marker.lines").write_text("20261130T150000Z-00000000000a 1/1 after the forged\n")
        marker = friend / "pstore" / "20261130T150000Z-00000000000a.txt"
        assert wait_for(marker, "after the forged\n", 30) == "1/1 after the forged\n"
        # the sender crashes (the next panic): what imfile had read goes not again at its next start (its read
        # position is written after each batch, not only at a clean stop; found in the kernel scenario)
        sender.kill()
        sender.wait(30)
        sender = start(SND, tmp_path, "sender", (tmp_path / "sender-relp.conf").read_text())
        (tmp_path / "spool" / "later.lines").write_text("20261130T160000Z-00000000000b 1/1 after the crash\n")
        later = friend / "pstore" / "20261130T160000Z-00000000000b.txt"
        assert wait_for(later, "after the crash\n", 60) == "1/1 after the crash\n"
        time.sleep(2)  # (anything sent again would come before the later record, or with it)
    finally:
        for proc in (sender, receiver):
            if proc:
                proc.terminate()
                proc.wait(90)
    # every line once (nothing was sent again: no reconnect), numbered as the shipper numbered it (the order they
    # arrived in varies: out of order in one of three runs here, hence the numbers)
    filed_lines = filed.read_text().splitlines()
    total = len(RECORD.splitlines())
    assert sorted(filed_lines, key=lambda line: int(line.split("/", 1)[0])) == [
        f"{n}/{total} {line}" for n, line in enumerate(RECORD.replace("\t", "#011").splitlines(), 1)
    ], "a line arrived twice or was changed"
    assert marker.read_text() == "1/1 after the forged\n", "a record read before the crash was sent again"
    assert sorted(p.name for p in (friend / "pstore").iterdir()) == sorted([filed.name, marker.name, later.name])
    assert not list(tmp_path.rglob("escape*")), "a forged id named a file"
    kernel_log = friend / "kernel.log"
    assert "forged" not in (kernel_log.read_text() if kernel_log.exists() else ""), "a pstore line went to kernel.log"
