"""Receiver benchmark: loss under bursts and sustained rates, and ingest capacity.

Two network namespaces joined by a veth pair: bench-tx (10.99.0.2, the friend) runs the blaster,
bench-rx (10.99.0.1) runs the receiver under test:
  role     rsyslogd with the receiver role's own template output (one file per friend)
  role+events  the same, plus the role's events service (netconsole-events, the collection's kmsgfollow.py with
           the role's rendered events.json) following the friend's console.log on the receiver's CPU, at the
           unit's Nice=10 and idle I/O class; ingest also records how far behind it is when rsyslog is done.
           Variants (only with --only): role+events-anycpu (the service not pinned: the scheduler's choice, as
           on a host with more cores), role+events-idle (on the receiver's CPU under SCHED_IDLE, what the unit's
           CPUSchedulingPolicy=idle would give)
  classic  rsyslogd with the classic blog configuration (legacy directives, default file format)
  reader   a minimal C recvmmsg reader writing one line per datagram
  flood    (the cap) the role at the sender's maximum rate for --flood-seconds (600 in make bench) with
           --flood-cap bytes per friend, then a panic trace: the friend's bytes against the cap, the panic intact,
           the numbered lines kept one unbroken run up to the newest
  rawmsg   (ingest only) the minimal rsyslog configuration measured at 0.80M lines/s on the reference machine
           (docs/receiver-performance.md; called "issue" in results before): plain RainerScript, imudp defaults,
           no ruleset queue, synchronous omfile, a %rawmsg% template, one file
Everything runs as root, stops by itself, and sends only inside its own namespaces. The timed part holds
$LOGSWAP_HEAVY_LOCK (default /tmp/logswap-heavy.lock; empty: none).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gzip
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml
from lock import heavy_lock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
from logswap_testlib import (  # the integration tests' way of running the events service and the link
    EventsService,
    link_namespaces,
    make_namespaces,
    remove_namespaces,
)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench"
TX, RX = "logswap-bench-tx", "logswap-bench-rx"
TX_IP, RX_IP, PORT = "10.99.0.2", "10.99.0.1", 6666
BURSTS = [1_000, 10_000, 100_000]
RATES = [50_000, 100_000, 200_000, 0]  # 0: the sender's maximum
DURATION = 5.0
INGEST_COUNT = 300_000
INGEST_RCVBUF = 512 * 1024 * 1024
INGEST_REPETITIONS = 7  # rsyslog's drain rate varies by a third from run to run on one core; runs are interleaved
INGEST_KINDS = ["role", "role+events", "classic", "rawmsg", "reader"]
# How each events kind runs the service: pinned to the receiver's CPU or not, and its scheduling.
UNIT_PRIORITY = ("nice", "-n", "10", "ionice", "-c", "3")  # the unit's Nice=10, IOSchedulingClass=idle
EVENTS_KINDS = {
    "role+events": (True, UNIT_PRIORITY),
    "role+events-anycpu": (False, UNIT_PRIORITY),
    "role+events-idle": (True, ("chrt", "--idle", "0", *UNIT_PRIORITY)),
}
EVENTS_CATCHUP_TIMEOUT = 300.0  # seconds the events service may take to read what rsyslog wrote (0.12M lines/s)
# The reference figures (docs/receiver-performance.md), from a machine where the minimal C reader drained 1.65M/s.
# This machine's C reader is the yardstick that carries them over: target = 0.80/1.65 of it, netconsd 0.58/1.65.
REFERENCE_READER, REFERENCE_TARGET, REFERENCE_NETCONSD = 1_650_000, 800_000, 580_000

CLASSIC = """\
$ModLoad imudp
$RuleSet remote
if $fromhost-ip=='{tx}' then {log}
& stop
$InputUDPServerBindRuleset remote
$UDPServerRun {port}
$RuleSet RSYSLOG_DefaultRuleset
"""

# The rawmsg receiver: the 0.80M/s reference configuration, run here on the same traffic: the same-machine
# yardstick for the target.
RAWMSG_REFERENCE = """\
module(load="imudp")
template(name="rawmsg" type="string" string="%rawmsg%\\n")
ruleset(name="remote") {{
    action(type="omfile" file="{log}" template="rawmsg")
}}
input(type="imudp" port="{port}" ruleset="remote" rcvbufSize="{rcvbuf}")
"""


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def netns_setup() -> None:
    make_namespaces(TX, RX)
    link_namespaces((TX, "lsbench0", [f"{TX_IP}/24"]), (RX, "lsbench1", [f"{RX_IP}/24"]))


def netns_teardown() -> None:
    remove_namespaces(TX, RX)


def compile_tools() -> None:
    for tool in ("blaster", "reader"):
        sh("gcc", "-O2", "-Wall", "-o", str(WORK / tool), str(ROOT / "bench" / f"{tool}.c"))


RENDERED: dict[tuple[int | None, int], Path] = {}
# The events service's configuration (rendered with the role's drop-in) and its checkpoints (fresh for each run).
EVENTS_CONFIG, EVENTS_STATE = WORK / "events.json", WORK / "events-state"
# The loss and ingest cases count lines in console.log: the largest cap keeps the cap's switch (at an eighth of it,
# 1 GiB) out of their way. The flood case measures the cap itself.
NO_SWITCH_CAP = 8 * 1024**3


def render_role_config(rcvbuf: int | None = None, cap: int = NO_SWITCH_CAP) -> Path:
    """The receiver role's templates (rsyslog drop-in and cap command), rendered by Ansible with the role's
    defaults and one friend (once per buffer size and cap)."""
    if (rcvbuf, cap) in RENDERED:
        return RENDERED[rcvbuf, cap]
    out = WORK / f"role-{rcvbuf or 'default'}-{cap}.conf"
    extra = {
        "render_out": str(out),
        "render_cap_out": str(WORK / f"cap-{cap}"),
        "render_events_out": str(EVENTS_CONFIG),
        "__receiver_events_state": str(EVENTS_STATE),
        "receiver_log_root": str(WORK / "log"),
        "receiver_friend_max_bytes": cap,
        "render_friends": [{"name": "friend", "addresses": [TX_IP]}],
    }
    if rcvbuf is not None:
        extra["receiver_rcvbuf"] = rcvbuf
    sh(
        "ansible-playbook",
        "-i",
        "localhost,",
        "-c",
        "local",
        str(ROOT / "tests" / "lib" / "render_receiver.yml"),
        "-e",
        json.dumps(extra),
    )
    RENDERED[rcvbuf, cap] = out
    return out


class Receiver:
    def __init__(self, kind: str, cpu: int, rcvbuf: int | None = None, cap: int = NO_SWITCH_CAP) -> None:
        self.kind, self.cpu, self.rcvbuf, self.cap = kind, cpu, rcvbuf, cap
        self.log = WORK / "log" / "friend" / "console.log"
        self.proc: subprocess.Popen | None = None
        self.events: EventsService | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        for old in self.log.parent.iterdir():  # console.log and the cap's and logrotate's older files
            old.unlink()
        self.log.touch()
        prefix = ["ip", "netns", "exec", RX, "taskset", "-c", str(self.cpu)]
        if self.kind == "reader":
            # the same buffer request as the role's, so the two differ only in what reads it
            cmd = [str(WORK / "reader"), RX_IP, str(PORT), str(self.rcvbuf or role_rcvbuf()), str(self.log)]
        else:
            conf = self.rsyslog_config()
            cmd = ["rsyslogd", "-n", "-iNONE", "-f", str(conf)]
        self.proc = subprocess.Popen(prefix + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if f":{PORT:04X}" in sh("ip", "netns", "exec", RX, "cat", "/proc/net/udp").stdout:
                if self.kind in EVENTS_KINDS:
                    self.start_events()
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not start listening")

    def start_events(self) -> None:
        """The events service as its unit runs it (Nice=10, IOSchedulingClass=idle); role+events puts it on the
        receiver's CPU: the worst case for rsyslog, which it then competes with for the one core. It reads
        console.log from the start, with no checkpoint."""
        shutil.rmtree(EVENTS_STATE, ignore_errors=True)
        pinned, priority = EVENTS_KINDS[self.kind]
        cpus = str(self.cpu) if pinned else f"0-{os.cpu_count() - 1}"  # not the bench's own CPU 0 it inherits
        prefix = ("taskset", "-c", cpus, *priority)
        self.events = EventsService(WORK / "events-lib", EVENTS_CONFIG, WORK / "events-service.log", prefix)
        self.events.start()
        deadline = time.monotonic() + 10
        while not (self.log.parent / "events.json").exists():  # written once it has read the (empty) file
            if self.events.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"netconsole-events did not start: {self.events.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def events_offset(self) -> int:
        """The offset in console.log the events service's events.json says it has read (written after each pass)."""
        try:
            state = json.loads((self.log.parent / "events.json").read_text())
        except (OSError, ValueError):  # replaced between the listing and the read
            return -1
        return state["files"]["console.log"]["offset"]

    def rsyslog_config(self) -> Path:
        main = WORK / f"{self.kind}-main.conf"
        workdir = WORK / f"{self.kind}-work"
        workdir.mkdir(exist_ok=True)
        if self.kind.startswith("role"):
            body = f'include(file="{render_role_config(self.rcvbuf or RCVBUF_OVERRIDE, self.cap)}")\n'
        elif self.kind == "rawmsg":
            body = RAWMSG_REFERENCE.format(log=self.log, port=PORT, rcvbuf=self.rcvbuf or role_rcvbuf())
        else:
            body = CLASSIC.format(tx=TX_IP, log=self.log, port=PORT)
            if self.rcvbuf:
                # Ingest only: the classic rules and file format, with an input whose buffer holds the backlog.
                body = body.replace(
                    f"$UDPServerRun {PORT}",
                    f'input(type="imudp" port="{PORT}" ruleset="remote" rcvbufSize="{self.rcvbuf}")',
                ).replace("$InputUDPServerBindRuleset remote\n", "")
        main.write_text(f'global(workDirectory="{workdir}")\n{body}')
        return main

    def cpu_seconds(self, proc: subprocess.Popen | None = None) -> float:
        total = 0
        for task in Path(f"/proc/{(proc or self.proc).pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def signal(self, sig: int) -> None:
        """The process and each of its threads (rsyslog's imudp and queue workers stop and resume together)."""
        os.kill(self.proc.pid, sig)
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            os.kill(int(task.name), sig)

    def stop(self) -> None:
        if self.events and self.events.proc.poll() is None:
            self.events.stop(signal.SIGKILL)  # still reading a long backlog maybe; what it wrote is not measured
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


RCVBUF_OVERRIDE: int | None = None
INGEST_COUNT_OVERRIDE: int | None = None


def role_rcvbuf() -> int:
    if RCVBUF_OVERRIDE:
        return RCVBUF_OVERRIDE
    return int(role_default("receiver_rcvbuf"))


def role_default(name: str) -> object:
    return yaml.safe_load((ROOT / "roles" / "receiver" / "defaults" / "main.yml").read_text())[name]


def rcvbuf_errors() -> int:
    lines = sh("ip", "netns", "exec", RX, "cat", "/proc/net/snmp").stdout.splitlines()
    udp = [line.split() for line in lines if line.startswith("Udp:")]
    return int(udp[1][udp[0].index("RcvbufErrors")])


class LineCounter:
    """Newlines in a growing file, reading only what was appended since the last call (cheap to poll)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def count(self) -> int:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                self.lines += chunk.count(b"\n")
                self.offset += len(chunk)
        return self.lines


def wait_drained(path: Path, expected: int, quiet: float = 2.0) -> tuple[int, float]:
    """Lines on disk and when the last one appeared (stops at `expected` or after `quiet` s without growth)."""
    counter = LineCounter(path)
    last_count, last_change = -1, time.monotonic()
    while True:
        count = counter.count()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if count >= expected or time.monotonic() - last_change > quiet:
            return count, last_change
        time.sleep(0.01)


def blast(count: int, rate: int, duration: float, cpu: int) -> tuple[int, float]:
    out = sh(
        "ip",
        "netns",
        "exec",
        TX,
        "taskset",
        "-c",
        str(cpu),
        str(WORK / "blaster"),
        TX_IP,
        "6665",
        RX_IP,
        str(PORT),
        str(count),
        str(rate),
        str(duration),
    ).stdout.split()
    return int(out[1]), time.monotonic()


def expected_payload(i: int) -> str:
    """Python twin of blaster.c's line(), without the trailing newline."""
    ts, kind = 1000000 + i * 37, i % 50
    if kind in (48, 49):
        msg = i - (kind - 48)
        if kind == 48:
            return f"6,{msg},{ts},-,ncfrag=0/1200;long{msg:07d}:" + "0" * (1000 - 48)
        return f"6,{msg},{ts},-,ncfrag=1000/1200;" + "0" * 190 + f"END{msg:07d}"
    if kind % 3 == 0:
        return f"[{ts // 1000000:5d}.{ts % 1000000:06d}] bench plain line {i:09d}: eth0: link up, 1000Mbps, full-duplex"
    return f"6,{i},{ts},-;bench extended line {i:09d}: usb 1-1: new high-speed USB device"


def verbatim_mismatches(path: Path, sent: int) -> int:
    """Lines of the role's file whose kernel text differs from what was sent (after time and source)."""
    got = [line.split(" ", 2)[2] for line in path.read_text(errors="replace").splitlines()]
    return len(set(got) ^ {expected_payload(i) for i in range(sent)})


def run_case(kind: str, count: int, rate: int, duration: float, rx_cpu: int, tx_cpu: int) -> dict:
    receiver = Receiver(kind, rx_cpu)
    receiver.start()
    try:
        errors, cpu = rcvbuf_errors(), receiver.cpu_seconds()
        started = time.monotonic()
        sent, sent_end = blast(count, rate, duration, tx_cpu)
        written, last_line = wait_drained(receiver.log, sent)
        wall = max(last_line, sent_end) - started
        result = {
            "sent": sent,
            "written": written,
            "lost": sent - written,
            "rcvbuf_errors": rcvbuf_errors() - errors,
            "cpu_pct": round(100 * (receiver.cpu_seconds() - cpu) / wall, 1),
            "drain_ms": round(max(0.0, last_line - sent_end) * 1000, 1),
        }
        if kind.startswith("role"):
            result["not_verbatim"] = verbatim_mismatches(receiver.log, sent) if written == sent else None
        return result
    finally:
        receiver.stop()


PANIC = [f"[ 9999.{n:06d}] Kernel panic - not syncing: bench panic trace line {n:02d}" for n in range(40)]
PANIC_SENDER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(({tx!r}, 6665))
for line in sys.stdin.read().splitlines():
    s.sendto(line.encode() + b"\\n", ({rx!r}, {port}))
"""
# The message number in each of the blaster's lines (a fragment pair is messages i and i+1, see blaster.c).
NUMBERED = re.compile(rb" line (\d{9}): |ncfrag=0/1200;long(\d{7,}):|ncfrag=1000/1200;0+END(\d{7,})$")


def dir_bytes(path: Path) -> int:
    total = 0
    for entry in os.scandir(path):
        with contextlib.suppress(FileNotFoundError):  # the cap command deleted it between listing and stat
            total += entry.stat(follow_symlinks=False).st_size
    return total


class PeakBytes(threading.Thread):
    """The friend directory's total size, sampled every 20 ms while the flood runs."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.peak, self.samples, self.stop = path, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, dir_bytes(self.path))
            self.samples += 1


def kept_numbers(path: Path) -> tuple[list[int], list[bytes], int]:
    """Message numbers of the blaster's lines the friend's files keep (oldest file first), the last lines, and
    the lines whose text is not byte for byte what was sent."""
    files = sorted((p for p in path.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime_ns)
    numbers: list[int] = []
    tail: collections.deque[bytes] = collections.deque(maxlen=len(PANIC))
    not_verbatim = 0
    for p in files:
        data = gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()
        for line in data.splitlines():
            m = NUMBERED.search(line)
            if m:
                i = int(m[1] or m[2]) if not m[3] else int(m[3]) + 1
                numbers.append(i)
                not_verbatim += line.split(b" ", 2)[2].decode() != expected_payload(i)
            tail.append(line)
    return numbers, list(tail), not_verbatim


def flood(duration: float, cap: int, rate: int = 0) -> dict:
    """``rate`` datagrams/s (0: the sender's maximum) for ``duration`` s into the role with a cap of ``cap`` bytes,
    then a panic."""
    receiver = Receiver("role", cpu=1, cap=cap)
    receiver.start()
    watch = PeakBytes(receiver.log.parent)
    try:
        errors = rcvbuf_errors()
        watch.start()
        sent, _sent_at = blast(0, rate, duration, 0)
        # the panic right after the flood, as a kernel would send it
        code = PANIC_SENDER.format(tx=TX_IP, rx=RX_IP, port=PORT)
        panic = "\n".join(PANIC)
        subprocess.run(["ip", "netns", "exec", TX, "python3", "-c", code], input=panic, text=True, check=True)
        deadline = time.monotonic() + 60
        while PANIC[-1].encode() not in receiver.log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        watch.stop.set()
        watch.join()
        dropped = rcvbuf_errors() - errors
    finally:
        watch.stop.set()
        receiver.stop()
    numbers, tail, not_verbatim = kept_numbers(receiver.log.parent)
    first, last = (numbers[0], numbers[-1]) if numbers else (None, None)
    span = last - first + 1 if numbers else 0
    return {
        "seconds": duration,
        "rate": rate or "max",
        "sent": sent,
        "cap": cap,
        "peak_bytes": watch.peak,
        "final_bytes": dir_bytes(receiver.log.parent),
        "samples": watch.samples,
        "files": len(list(receiver.log.parent.iterdir())),
        "kept_lines": len(numbers),
        "oldest_kept": first,
        "newest_kept": last,
        "missing_inside_kept": span - len(set(numbers)),
        "out_of_order": sum(b <= a for a, b in itertools.pairwise(numbers)),
        "not_verbatim": not_verbatim,
        "rcvbuf_errors": dropped,
        "panic_intact": [line.split(b" ", 2)[2].decode(errors="replace") for line in tail] == PANIC,
    }


def lines_before(path: Path, offset: int) -> int:
    with open(path, "rb") as handle:
        return handle.read(offset).count(b"\n")


def events_lag(receiver: Receiver, sent: int, drained_at: float) -> dict:
    """How far behind the events service is when rsyslog has written the last line (what its events.json says
    it has read), and how long until it says it has read everything."""
    size = receiver.log.stat().st_size
    at_drain = receiver.events_offset()
    deadline = drained_at + EVENTS_CATCHUP_TIMEOUT
    while (offset := receiver.events_offset()) < size and time.monotonic() < deadline:
        time.sleep(0.01)
    caught_up = time.monotonic()
    return {
        "events_behind_at_drain": sent - lines_before(receiver.log, max(at_drain, 0)),
        # None: not all read within EVENTS_CATCHUP_TIMEOUT (the run goes on; the figure says so)
        "events_catchup_s": max(0.0, caught_up - drained_at) if offset >= size else None,
    }


def ingest(kind: str) -> dict:
    """Lines per second drained to disk on one core from a full socket buffer (receiver paused while filled),
    and lines per second of the receiver's own CPU time (user + system) over the drain. With the events service:
    how far behind it was when the last line was on disk, and when it had read them all."""
    receiver = Receiver(kind, cpu=1, rcvbuf=INGEST_RCVBUF)
    receiver.start()
    try:
        receiver.signal(signal.SIGSTOP)
        errors = rcvbuf_errors()
        sent, _sent_at = blast(INGEST_COUNT_OVERRIDE or INGEST_COUNT, 0, 0, 0)
        if rcvbuf_errors() != errors:
            raise RuntimeError("the paused receiver's buffer overflowed; the ingest figure would be wrong")
        cpu = receiver.cpu_seconds()
        events_cpu = receiver.cpu_seconds(receiver.events.proc) if receiver.events else 0.0
        start = time.monotonic()
        receiver.signal(signal.SIGCONT)
        written, last_line = wait_drained(receiver.log, sent, quiet=5)
        if written != sent:
            raise RuntimeError(f"{kind}: {written} of {sent} lines after the drain")
        cpu = receiver.cpu_seconds() - cpu
        result = {"rate": sent / (last_line - start), "per_cpu_second": sent / cpu if cpu else 0.0}
        if receiver.events:
            # how much the service ran while rsyslog drained (it polls every second; a short drain may not see it)
            result["events_cpu_in_drain_s"] = receiver.cpu_seconds(receiver.events.proc) - events_cpu
            result.update(events_lag(receiver, sent, last_line))
            result["events_cpu_s"] = receiver.cpu_seconds(receiver.events.proc) - events_cpu
        return result
    finally:
        receiver.stop()


def measure_ingest(kinds: list[str], repetitions: int) -> dict:
    """Ingest runs interleaved (role, classic, rawmsg, reader, role, ...) so that drift hits every receiver alike."""
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for rep in range(repetitions):
        for kind in kinds:
            run = ingest(kind)
            runs[kind].append(run)
            lag = ""
            if "events_catchup_s" in run:
                catchup = (
                    f"not all read within {EVENTS_CATCHUP_TIMEOUT:g} s"
                    if run["events_catchup_s"] is None
                    else f"all read {run['events_catchup_s']:.2f} s later"
                )
                lag = (
                    f"; events service {run['events_behind_at_drain']:,} lines behind at the drain's end, "
                    f"{catchup}, {run['events_cpu_s']:.2f} CPU s "
                    f"({run['events_cpu_in_drain_s']:.2f} during the drain)"
                )
            print(f"ingest run {rep + 1}/{repetitions} {kind:>8}: {run['rate']:,.0f} lines/s{lag}", flush=True)
    return {kind: ingest_figures(kind_runs) for kind, kind_runs in runs.items()}


def ingest_figures(kind_runs: list[dict]) -> dict:
    figures = {
        "rate": round(statistics.median(r["rate"] for r in kind_runs)),
        "per_cpu_second": round(statistics.median(r["per_cpu_second"] for r in kind_runs)),
        "runs": [round(r["rate"]) for r in kind_runs],
    }
    if "events_catchup_s" in kind_runs[0]:
        figures["events"] = {
            "behind_at_drain": [r["events_behind_at_drain"] for r in kind_runs],
            "catchup_s": [
                None if r["events_catchup_s"] is None else round(r["events_catchup_s"], 2) for r in kind_runs
            ],
            "cpu_s": [round(r["events_cpu_s"], 2) for r in kind_runs],
            "cpu_in_drain_s": [round(r["events_cpu_in_drain_s"], 2) for r in kind_runs],
        }
    return figures


SKB_DEFER_MAX = Path("/proc/sys/net/core/skb_defer_max")


def skb_defer_max() -> int | None:
    return int(SKB_DEFER_MAX.read_text()) if SKB_DEFER_MAX.exists() else None


def set_skb_defer_max(value: int | None) -> int | None:
    """Set net.core.skb_defer_max for an experiment; returns the previous value (None: left alone)."""
    if value is None:
        return None
    previous = skb_defer_max()
    SKB_DEFER_MAX.write_text(str(value))
    return previous


def scaled_reference(reader_rate: int) -> dict:
    """The reference figures carried over to this machine by its C reader's rate."""
    scale = reader_rate / REFERENCE_READER
    return {"target": round(REFERENCE_TARGET * scale), "netconsd": round(REFERENCE_NETCONSD * scale)}


def print_ingest_summary(ing: dict, ref: dict | None) -> None:
    for kind, figures in ing.items():
        print(
            f"ingest {kind:>8}: {figures['rate']:,} lines/s, {figures['per_cpu_second']:,} per CPU second "
            f"(runs: {figures['runs']})"
        )
        if "events" in figures:
            ev = figures["events"]
            print(
                f"  the events service, lines behind when rsyslog had written the last: {ev['behind_at_drain']}; "
                f"seconds until it had read them all: {ev['catchup_s']}; its CPU seconds: {ev['cpu_s']}, "
                f"of which during rsyslog's drain: {ev['cpu_in_drain_s']}"
            )
    if "role" in ing:
        ratios = [f"{ing['role']['rate'] / ing[k]['rate']:.2f}x {k}" for k in ing if k != "role"]
        print("role ingest: " + ", ".join(ratios))
    if ref:
        scale = ing["reader"]["rate"] / REFERENCE_READER
        print(
            f"this machine's C reader drains {ing['reader']['rate']:,}/s ({scale:.2f}x the reference machine): "
            f"scaled by it, the 0.8M/s target is {ref['target']:,}/s here and netconsd's 0.58M/s {ref['netconsd']:,}/s"
        )
    if "role" in ing:
        role = ing["role"]["rate"]
        absolute = "meets" if role >= REFERENCE_TARGET else "misses"
        print(f"role: {role:,}/s {absolute} the absolute 0.8M/s target", end="")
        if "rawmsg" in ing:
            print(f"; the 0.80M/s rawmsg configuration drains {ing['rawmsg']['rate']:,}/s on this machine", end="")
        print()


def print_flood_summary(f: dict) -> None:
    print(
        f"flood {f['seconds']:g} s at {f['rate']} datagrams/s: {f['sent']:,} sent; the friend's directory peaked at "
        f"{f['peak_bytes']:,} bytes ({100 * f['peak_bytes'] / f['cap']:.1f}% of the cap {f['cap']:,}; "
        f"{f['samples']:,} samples), ends at {f['final_bytes']:,} in {f['files']} files; kept lines "
        f"{f['oldest_kept']:,}..{f['newest_kept']:,} ({f['kept_lines']:,}), {f['missing_inside_kept']:,} missing "
        f"inside that run ({f['rcvbuf_errors']:,} dropped by the socket), panic trace intact: {f['panic_intact']}"
    )


def median_of(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if all(r[k] is not None for r in runs)]  # not_verbatim: None in a run that lost
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["lost_max"] = max(r["lost"] for r in runs)
    if "not_verbatim" in runs[0]:
        out["not_verbatim_max"] = max((r["not_verbatim"] or 0) for r in runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repetition, bursts only (a smoke run)")
    parser.add_argument("--rcvbuf", type=int, help="override receiver_rcvbuf for the role and the reader")
    parser.add_argument("--ingest-only", action="store_true", help="skip the loss cases, measure ingest capacity")
    parser.add_argument(
        "--only", choices=INGEST_KINDS + list(EVENTS_KINDS)[1:], action="append", help="receivers to run (repeatable)"
    )
    parser.add_argument(
        "--flood-seconds",
        type=float,
        default=600.0,
        help="how long the flood case sends at the sender's maximum rate (0 skips it; make bench: 600)",
    )
    parser.add_argument("--flood-cap", type=int, help="receiver_friend_max_bytes for the flood (the role's default)")
    parser.add_argument("--flood-rate", type=int, default=0, help="datagrams/s for the flood (0: the sender's maximum)")
    parser.add_argument("--flood-only", action="store_true", help="run only the flood case")
    parser.add_argument(
        "--ingest-count",
        type=int,
        help=f"datagrams queued for each ingest run (default {INGEST_COUNT:,}; the paused buffer must hold them)",
    )
    parser.add_argument(
        "--ingest-repetitions",
        type=int,
        help=f"rounds of the interleaved ingest runs (default: --repetitions, at least {INGEST_REPETITIONS}; 0: none)",
    )
    parser.add_argument(
        "--skb-defer-max",
        type=int,
        help="set net.core.skb_defer_max for the run (restored after); 0 frees every skb on the reading CPU",
    )
    args = parser.parse_args()
    global RCVBUF_OVERRIDE, INGEST_COUNT_OVERRIDE  # command line settings for the whole run
    RCVBUF_OVERRIDE, INGEST_COUNT_OVERRIDE = args.rcvbuf, args.ingest_count
    kinds = args.only or INGEST_KINDS
    loss_kinds = [kind for kind in kinds if kind != "rawmsg"]
    if os.geteuid() != 0:
        print("make bench needs root (network namespaces, rsyslogd)", file=sys.stderr)
        return 1
    WORK.mkdir(parents=True, exist_ok=True)
    # The bench itself (polling the file) stays off the receiver's CPU.
    os.sched_setaffinity(0, {0})
    compile_tools()
    netns_setup()
    defer_before = set_skb_defer_max(args.skb_defer_max)
    reps = 1 if args.quick else args.repetitions
    cases = [] if args.ingest_only or args.flood_only else [(f"burst {n:,}", n, 0, 0.0) for n in BURSTS]
    if not (args.quick or args.ingest_only or args.flood_only):
        cases += [
            (f"{r // 1000}k/s for {DURATION:g} s" if r else f"max for {DURATION:g} s", 0, r, DURATION) for r in RATES
        ]
    results: dict = {"cases": {}, "ingest": {}, "skb_defer_max": skb_defer_max()}
    if any(kind.startswith("role") for kind in kinds):  # Ansible's runs before the lock and the timing
        if cases:
            render_role_config(RCVBUF_OVERRIDE)
        if not args.flood_only and args.ingest_repetitions != 0:
            render_role_config(INGEST_RCVBUF)
    try:
        with heavy_lock():
            results["load_before"] = [round(x, 2) for x in os.getloadavg()]
            run_all(args, kinds, loss_kinds, cases, reps, results)
            results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        set_skb_defer_max(defer_before)
        netns_teardown()
    if "reader" in results["ingest"]:
        results["reference_on_this_machine"] = scaled_reference(results["ingest"]["reader"]["rate"])
    if "flood" in results:
        print_flood_summary(results["flood"])
    print()
    print_ingest_summary(results["ingest"], results.get("reference_on_this_machine"))
    print(f"load average (1, 5, 15 min) before: {results['load_before']}, after: {results['load_after']}")
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results: {WORK / 'results.json'}")
    return 0


def run_all(
    args: argparse.Namespace, kinds: list[str], loss_kinds: list[str], cases: list, reps: int, results: dict
) -> None:
    """The timed part: the loss cases, the flood, the interleaved ingest runs."""
    for label, count, rate, duration in cases:
        runs: dict[str, list[dict]] = {kind: [] for kind in loss_kinds}
        for _rep in range(reps):  # interleaved, as the ingest runs
            for kind in loss_kinds:
                runs[kind].append(run_case(kind, count, rate, duration, rx_cpu=1, tx_cpu=0))
        for kind in loss_kinds:
            results["cases"].setdefault(label, {})[kind] = median_of(runs[kind])
            print(f"{label:>20} {kind:>8}: {results['cases'][label][kind]}", flush=True)
    if "role" in kinds and not (args.ingest_only or args.flood_only):
        label = "burst 100,000, receiver on the receive path's CPU"
        path_runs = [run_case("role", 100_000, 0, 0.0, rx_cpu=0, tx_cpu=0) for _rep in range(reps)]
        results["cases"][label] = {"role": median_of(path_runs)}
        print(f"{label}: {results['cases'][label]['role']}", flush=True)
    if "role" in kinds and args.flood_seconds > 0 and not (args.quick or args.ingest_only):
        cap = args.flood_cap or int(role_default("receiver_friend_max_bytes"))
        results["flood"] = flood(args.flood_seconds, cap, args.flood_rate)
        print(f"flood for {args.flood_seconds:g} s: {results['flood']}", flush=True)
    rounds = max(reps, INGEST_REPETITIONS) if args.ingest_repetitions is None else args.ingest_repetitions
    if rounds and not args.flood_only:
        results["ingest"] = measure_ingest(kinds, rounds)


if __name__ == "__main__":
    sys.exit(main())
