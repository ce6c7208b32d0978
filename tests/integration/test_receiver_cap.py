"""The per-friend cap on bytes kept, with the real rsyslogd running the role's rsyslog drop-in and cap command.

tx: eve 10.97.0.2 floods the receiver (10.97.0.1) well past a 1 MiB cap, then sends a panic trace.
The friend's directory must stay under the cap the whole time, keep one unbroken run of numbered lines up to the
newest (only the oldest dropped), end with the whole panic trace, and the friend's reader keeps read access to
every file. logrotate's daily rotation (the role's logrotate file) runs in between and must not fight the cap.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from logswap_testlib import (
    need_program,
    need_root,
    render_receiver,
    rsyslogd_in,
    run_module,
    sh,
    veth_namespaces,
)

PREFIX = "lsc" + uuid.uuid4().hex[:5]
TX, RX = f"{PREFIX}-tx", f"{PREFIX}-rx"
RX_IP, EVE = "10.97.0.1", "10.97.0.2"
CAP = 1024 * 1024
LIMIT = CAP // 8  # module_utils.logcap: the live file's share
FLOOD_LINE = re.compile(rb" flood (\d{8}) ")
PLAYBOOK = ["ansible-playbook", "-i", "localhost,", "-c", "local"]
PANIC = [f"[  99.{i:06d}] Kernel panic - not syncing: trace line {i:02d} " + "p" * 60 for i in range(40)]


def render(work: Path, log_root: Path) -> dict[str, Path]:
    out = {name: work / name for name in ("role.conf", "cap", "logrotate")}
    render_receiver(
        {
            "render_out": str(out["role.conf"]),
            "render_cap_out": str(out["cap"]),
            "render_logrotate_out": str(out["logrotate"]),
            "receiver_log_root": str(log_root),
            "receiver_friend_max_bytes": CAP,
            "render_friends": [{"name": "eve", "addresses": [EVE]}],
        }
    )
    return out


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    need_root()
    need_program("/usr/sbin/rsyslogd", "rsyslog")
    work = tmp_path_factory.mktemp("cap")
    log_root = work / "remote"
    friend = log_root / "eve"
    friend.mkdir(parents=True)
    os.chmod(friend, 0o750)
    # the role's own ACL step: the reader 'nobody' reads the directory and, by its default ACL, every new file
    result = run_module("reader_acl", {"path": str(friend), "readers": ["nobody"]})
    assert not result.get("failed"), result
    files = render(work, log_root)
    (work / "spool").mkdir()
    main = work / "main.conf"
    main.write_text(f'global(workDirectory="{work / "spool"}")\ninclude(file="{files["role.conf"]}")\n')
    with (
        veth_namespaces(PREFIX, [f"{EVE}/24"], [f"{RX_IP}/24"]),
        rsyslogd_in(RX, main) as proc,
    ):
        yield {"dir": friend, "files": files, "pid": proc.pid, "work": work}


SENDER = """
import socket, sys, time
first, count, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(({eve!r}, 6665))
start = time.monotonic()
for i in range(first, first + count):
    s.sendto(b"[  12.%06d] flood %08d " % (i % 1000000, i) + b"x" * 64 + b"\\n", ({rx!r}, 6666))
    if (i - first) % 500 == 499:
        ahead = (i - first + 1) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
for line in sys.stdin.read().splitlines():
    s.sendto(line.encode() + b"\\n", ({rx!r}, 6666))
"""


def flood(first: int, count: int, rate: int = 40_000, after: list[str] | None = None) -> None:
    """Numbered lines first .. first+count-1 from eve, paced below what rsyslog drains, then ``after``."""
    code = SENDER.format(eve=EVE, rx=RX_IP)
    subprocess.run(
        ["ip", "netns", "exec", TX, "python3", "-c", code, str(first), str(count), str(rate)],
        input="\n".join(after or []),
        text=True,
        check=True,
    )


def rcvbuf_errors() -> int:
    lines = [line.split() for line in sh("ip", "netns", "exec", RX, "cat", "/proc/net/snmp").stdout.splitlines()]
    udp = [line for line in lines if line[0] == "Udp:"]
    return int(udp[1][udp[0].index("RcvbufErrors")])


def dir_bytes(path: Path) -> int:
    total = 0
    for entry in os.scandir(path):
        with contextlib.suppress(FileNotFoundError):  # deleted by the cap command between listing and stat
            total += entry.stat(follow_symlinks=False).st_size
    return total


class Watch(threading.Thread):
    """The directory's total size every few milliseconds while a flood runs: the cap must hold throughout."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.peak, self.samples, self.done = path, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, dir_bytes(self.path))
            self.samples += 1
            time.sleep(0.002)

    def __enter__(self) -> Watch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()


def settle(path: Path, last: str, timeout: float = 15.0) -> None:
    """Wait until ``last`` is in the live file (everything before it has been written by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = path / "console.log"
        if live.exists() and last in live.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{last!r} did not reach {path / 'console.log'} within {timeout} s")


def kept_lines(path: Path) -> list[bytes]:
    """Every line the directory keeps, oldest file first (by last write, as the cap command orders them)."""
    files = sorted((p for p in path.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime_ns)
    assert files[-1].name == "console.log", [p.name for p in files]
    lines: list[bytes] = []
    for p in files:
        data = gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()
        lines += data.splitlines()
    return lines


def numbers(lines: list[bytes]) -> list[int]:
    return [int(m[1]) for m in map(FLOOD_LINE.search, lines) if m]


def check_kept(path: Path, last_sent: int) -> list[int]:
    lines = kept_lines(path)
    kept = numbers(lines)
    assert kept, "no numbered line kept"
    # lost, doubled and reordered lines are told apart: they have different causes (reordered: rsyslog's second
    # main-queue worker under overload, docs/receiver.md "Order of lines")
    missing = sorted(set(range(min(kept), last_sent + 1)) - set(kept))
    assert not missing, f"{len(missing)} numbered lines missing inside the kept run, the first {missing[:5]}"
    assert len(kept) == len(set(kept)), "a numbered line is kept twice"
    jumps = [(a, b) for a, b in itertools.pairwise(kept) if b != a + 1]
    assert not jumps, f"the numbered lines kept are out of order (line, the line after it): {jumps[:6]}"
    assert kept[0] > 0, "nothing was dropped: the flood did not pass the cap"
    return kept


def test_a_flood_keeps_the_directory_under_the_cap_and_the_panic_after_it(receiver):
    friend, errors = receiver["dir"], rcvbuf_errors()
    count = 10 * CAP // 100  # about 13 times the cap (lines of about 140 bytes)
    with Watch(friend) as watch:
        flood(0, count, after=PANIC)
        settle(friend, PANIC[-1])
    assert rcvbuf_errors() == errors, "the receiver's socket dropped datagrams; the run proves nothing about loss"
    assert watch.samples > 100
    assert watch.peak <= CAP, f"the directory held {watch.peak} bytes during the flood, over the cap {CAP}"
    assert dir_bytes(friend) <= CAP
    # most of the cap is used: only the oldest were dropped, not everything before the newest piece
    assert dir_bytes(friend) >= CAP - 2 * LIMIT - 64 * 1024
    lines = kept_lines(friend)
    check_kept(friend, count - 1)
    tail = [line.decode().split(" ", 2)[2] for line in lines[-len(PANIC) :]]
    assert tail == PANIC, "the panic trace is not the intact end of the friend's log"
    pieces = [p.name for p in friend.iterdir() if p.name.startswith("console.log-cap-")]
    assert len(pieces) >= 3, pieces


def test_every_file_stays_readable_by_the_friends_reader_only(receiver):
    friend = receiver["dir"]
    files = sorted(p for p in friend.iterdir())
    assert any(p.name == "console.log" for p in files) and len(files) > 1
    for p in files:
        acl = dict(entry.rsplit(":", 1) for entry in sh("getfacl", "-p", "-c", "-E", str(p)).stdout.split())
        # the reader's entry and the mask (what any named entry can give at most) both let it read
        assert acl.get("user:nobody", "").startswith("r") and acl.get("mask:", "").startswith("r"), (p.name, acl)
        assert acl["other:"] == "---", f"{p.name} is readable by others: {acl}"


def test_logrotate_and_the_cap_share_the_directory(receiver):
    """The role's logrotate file, forced twice between floods: its dated and compressed files and the cap's
    pieces together stay under the cap, with nothing lost between the oldest kept line and the newest."""
    friend, work = receiver["dir"], receiver["work"]
    # the test's rsyslogd is not the rsyslog service: tell it to reopen by its pid instead of through systemd
    conf = receiver["files"]["logrotate"].read_text()
    conf = re.sub(r"systemctl kill .*rsyslog\.service.*", f"kill -HUP {receiver['pid']}", conf)
    (work / "logrotate.conf").write_text(conf)
    sh("chmod", "0644", str(work / "logrotate.conf"))
    first = numbers(kept_lines(friend))[-1] + 1
    seen: list[list[str]] = []
    # round 2 floods past the cap before rotating: the cap has deleted the file logrotate compresses next
    for round_, (before, after) in enumerate([(3000, 1000), (3000, 1000), (12000, 1000)]):
        time.sleep(1.1)  # dateext names carry the second: one rotation per second
        with Watch(friend) as watch:
            flood(first, before, after=[f"[  13.000000] round {round_} before rotation"])
            settle(friend, f"round {round_} before rotation")
            run = sh("logrotate", "-f", "-s", str(work / "logrotate.state"), str(work / "logrotate.conf"), check=False)
            assert run.returncode == 0, run.stderr
            flood(first + before, after, after=[f"[  13.000001] round {round_} after rotation"])
            settle(friend, f"round {round_} after rotation")
        assert watch.peak <= CAP, f"the directory held {watch.peak} bytes, over the cap {CAP}"
        first += before + after
        seen.append(sorted(p.name for p in friend.iterdir()))
    assert any(re.fullmatch(r"console\.log-\d{8}-\d+\.gz", n) for n in seen[1]), seen[1]
    assert dir_bytes(friend) <= CAP
    check_kept(friend, first - 1)


def test_the_cap_command_touches_only_a_friends_directory_below_the_log_root(receiver, tmp_path):
    """Its one argument comes from rsyslog's configuration text: anything else is refused, nothing deleted."""
    cap = receiver["files"]["cap"]
    outside = tmp_path / "victim"
    outside.mkdir()
    (outside / "console.log-keep").write_bytes(b"x" * (2 * CAP))
    root = receiver["dir"].parent
    for argument in (str(outside), f"{root}/../{outside.name}", f"{root}/eve/sub", str(root), f"{root}/.hidden"):
        assert subprocess.run([str(cap), argument], check=False).returncode == 2, argument
    assert subprocess.run([str(cap)], check=False).returncode == 2
    assert (outside / "console.log-keep").exists()
