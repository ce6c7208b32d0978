"""Every friend quiet at once: the receiver's own network, not each friend's silence (kmsgevents.quiet_together).

tx holds two friends' addresses, alice 10.97.0.2 and bob 10.97.0.3, each sending a numbered heartbeat line every
second (real UDP) to the receiver's real rsyslogd (rx, 10.97.0.1, the role's drop-in), which files them under
<log root>/<friend>/console.log; netconsole-events follows both. The path is then cut beyond the receiver's
first hop (a blackhole route on the senders' side: the receiver's link and routes stay up, its datagrams stop),
for longer than the friends' silence time: neither is told silent, and the service says why once the quiet has
lasted a minute. Then bob is heard again and alice is not: her quiet time, paused while all were quiet, goes on,
and her silence is told once it makes her whole silence time (half of it before, half after bob was heard).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from logswap_testlib import EventsService, need_program, need_root, render_receiver, rsyslogd_in, sh, veth_namespaces

PREFIX = "lsq" + uuid.uuid4().hex[:5]
TX, RX = f"{PREFIX}-tx", f"{PREFIX}-rx"
RX_IP, ALICE, BOB = "10.97.0.1", "10.97.0.2", "10.97.0.3"
SILENCE = 30  # seconds; the role allows 60 at least, set in the rendered file (half of it: 15 s to all quiet)

HEARTBEATS = """
import socket, sys, time
senders = []
for address in sys.argv[2:]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 6665))
    senders.append(sock)
number = 0
while True:
    number += 1
    for sock in senders:
        try:
            sock.sendto(f"6,{number},{number * 1000000},-;logswap-heartbeat {number}\\n".encode(), (sys.argv[1], 6666))
        except OSError:
            pass  # the blackhole refuses it, as a cut path would drop it
    time.sleep(1)
"""


def heartbeats(*addresses: str) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", TX, sys.executable, "-c", HEARTBEATS, RX_IP, *addresses])


def kinds(friend: Path) -> list[str]:
    path = friend / "events.log"
    return [line.split(" ", 2)[1] for line in path.read_text().splitlines()] if path.exists() else []


def lines_read(friend: Path) -> int:
    path = friend / "events.json"  # (written at most every 10 s while only lines were read)
    return json.loads(path.read_text())["lines"] if path.exists() else 0


def lines_filed(friend: Path) -> int:
    path = friend / "console.log"
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def wait_for(what: str, check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture
def receiver(tmp_path):
    need_root()
    need_program("/usr/sbin/rsyslogd", "rsyslog")
    log_root = Path(tempfile.mkdtemp(prefix="logswap-together-"))
    for name in ("alice", "bob"):
        (log_root / name).mkdir(mode=0o750)
    files = {name: tmp_path / name for name in ("role.conf", "cap", "events.json")}
    render_receiver(
        {
            "render_out": str(files["role.conf"]),
            "render_cap_out": str(files["cap"]),
            "render_events_out": str(files["events.json"]),
            "receiver_log_root": str(log_root),
            "render_friends": [{"name": "alice", "addresses": [ALICE]}, {"name": "bob", "addresses": [BOB]}],
            "__receiver_events_state": str(tmp_path / "state"),
        }
    )
    config = json.loads(files["events.json"].read_text())
    for friend in config["friends"]:
        friend["silence"] = SILENCE
    files["events.json"].write_text(json.dumps(config))
    (tmp_path / "spool").mkdir()
    main = tmp_path / "main.conf"
    main.write_text(f'global(workDirectory="{tmp_path / "spool"}")\ninclude(file="{files["role.conf"]}")\n')
    service = EventsService(tmp_path / "lib", files["events.json"], tmp_path / "service.log")
    # the service (this namespace) can hear both: their addresses routed to lo, as in test_receiver_events
    with veth_namespaces(PREFIX, [f"{ALICE}/24", f"{BOB}/24"], [f"{RX_IP}/24"]), rsyslogd_in(RX, main):
        for address in (ALICE, BOB):
            sh("ip", "route", "replace", f"{address}/32", "dev", "lo")
        service.start()
        try:
            yield {"root": log_root, "service": service}
        finally:
            service.stop()
            for address in (ALICE, BOB):
                sh("ip", "route", "del", f"{address}/32", check=False)
            shutil.rmtree(log_root)


def test_every_friend_quiet_at_once_is_not_told_as_their_silence(receiver):
    alice, bob, log = receiver["root"] / "alice", receiver["root"] / "bob", receiver["service"].log
    both = heartbeats(ALICE, BOB)
    try:
        wait_for("both friends' heartbeats", lambda: lines_read(alice) >= 3 and lines_read(bob) >= 3)
        sh("ip", "netns", "exec", TX, "ip", "route", "replace", "blackhole", f"{RX_IP}/32")
        cut = time.monotonic()
        # all quiet after SILENCE / 2, said after a minute of it (kmsgfollow.TOGETHER_SAID)
        wait_for("the service saying so", lambda: "went quiet at once" in log.read_text(), timeout=SILENCE / 2 + 80)
        assert time.monotonic() - cut > SILENCE, "the test must outlast the friends' silence time"
        assert "silence" not in kinds(alice) + kinds(bob), "the receiver's own outage told as the friends' silence"
    finally:
        both.kill()
        both.wait()
    sh("ip", "netns", "exec", TX, "ip", "route", "del", "blackhole", f"{RX_IP}/32")
    bob_only = heartbeats(BOB)  # alice's server is really dead now
    try:
        heard = lines_filed(bob)
        wait_for("bob heard again", lambda: lines_filed(bob) > heard)
        back = time.monotonic()
        wait_for("alice's silence", lambda: "silence" in kinds(alice), timeout=SILENCE + 20)
        # half her silence time was counted before all went quiet (unknown then), the rest after bob's return
        assert time.monotonic() - back >= SILENCE / 2 - 2, "her quiet time counted while none was heard"
        assert kinds(alice).count("silence") == 1 and "silence" not in kinds(bob)
    finally:
        bob_only.kill()
        bob_only.wait()
    said = log.read_text()
    assert "netconsole-events: all 2 friends that were talking went quiet at once" in said
    assert "s of all quiet at once, a friend is heard again" in said
