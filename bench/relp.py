"""The reliable channel's benchmark: sustained rate, and the drain of a 10-minute backlog, with zero loss.

Two network namespaces joined by a veth pair: lsb-snd (10.97.0.2) runs the sender's rsyslogd, lsb-rcv (10.97.0.1)
the receiver's. Both run the roles' own relp.conf.j2, rendered by Ansible through the roles' checks
(tests/lib/render_relp.yml), with keys and self-signed certificates made by the collection's tls_identity module:
omrelp over TLS with fingerprint pinning through the disk-assisted action queue, into imrelp and kernel.log.
The kernel input cannot be used here (it would read the host's kernel log), so a file input on the sender is bound
to the same forwarding ruleset, as in the reliable molecule scenario; its records carry a number as their sequence
number.

  sustained  both ends up: --count records written at once; the rate from the first written to the last in
             kernel.log (each one acknowledged by RELP before it leaves the sender's queue)
  backlog    the receiver stopped, --backlog records (10 minutes at 1,000/s) written into the sender: memory, then
             the queue files on disk; then the receiver started and the time until the last arrives

Every number is checked in kernel.log (missing ones fail the run; duplicates are counted and printed). The timed
runs hold the lock file $LOGSWAP_HEAVY_LOCK (default /tmp/logswap-heavy.lock; empty: none) so that other heavy
jobs on the machine neither disturb the figures nor are disturbed. Root only; traffic stays in the namespaces.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lock import heavy_lock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
from logswap_testlib import link_namespaces, make_namespaces, omrelp_variant, relp_test_input, remove_namespaces

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "relp"
RESULTS = ROOT / "build" / "bench" / "relp.json"
PLAYBOOK = ROOT / "tests" / "lib" / "render_relp.yml"
SND, RCV = "lsb-snd", "lsb-rcv"
SND_IP, RCV_IP = "10.97.0.2", "10.97.0.1"
RELP_PORT = 2514  # the role's default receiver_relp_port
QUEUE = "logswap_relp_receiver"  # the sender role's queue file name for the friend named "receiver"
FILLER = "usb 1-1: new high-speed USB device number 5 using xhci_hcd, link up 1000Mbps full-duplex"
LINE = re.compile(rb" \d+,(\d+),[^;]*;relp-number (\d+) ")

# Queue statistics every second (records enqueued, moved to disk, discarded), per end. rsyslogd -n writes its
# own messages to its stderr, kept in <end>-rsyslog.log.
COMMON = """global(workDirectory="{work}")
module(load="impstats" interval="1" format="json" resetCounters="off" log.syslog="off" log.file="{stats}")
"""


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def record(i: int) -> str:
    """One numbered record: about 150 bytes on the wire as the sender's RFC 5424 template frames it."""
    return f"relp-number {i} {FILLER}\n"


# -- the two ends ----------------------------------------------------------------------------------------------


def netns_setup() -> None:
    make_namespaces(SND, RCV)
    link_namespaces((SND, "lsbs0", [f"{SND_IP}/24"]), (RCV, "lsbr0", [f"{RCV_IP}/24"]))


def netns_teardown() -> None:
    remove_namespaces(SND, RCV)


def render(extra: dict) -> None:
    """Keys, certificates and both relp.conf.j2 through the roles' own checks (tests/lib/render_relp.yml)."""
    values = {
        "render_dir": str(WORK),
        "render_sender_address": SND_IP,
        "render_receiver_address": RCV_IP,
        "receiver_log_root": str(WORK / "log"),
        # the cap's switch (an eighth of it) stays out of the count: kernel.log is one file
        "receiver_friend_max_bytes": 8 * 1024**3,
        **extra,
    }
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(values)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError("rendering the reliable channel failed:\n" + proc.stdout + proc.stderr)


class End:
    """One rsyslogd (sender or receiver) in its namespace, with its own work directory and main config."""

    def __init__(self, name: str, netns: str, body: str) -> None:
        self.name, self.netns, self.body = name, netns, body
        self.work = WORK / f"{name}-work"
        self.stats = WORK / f"{name}-stats.json"
        self.own = WORK / f"{name}-rsyslog.log"
        self.conf = WORK / f"{name}.conf"
        self.proc: subprocess.Popen | None = None

    def reset(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        for path in (self.stats, self.own):
            path.unlink(missing_ok=True)
        self.conf.write_text(COMMON.format(work=self.work, stats=self.stats) + self.body)
        sh("rsyslogd", "-N1", "-f", str(self.conf))

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "rsyslogd", "-n", "-iNONE", "-f", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.own, "ab"),  # noqa: SIM115 - the child owns it
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cpu_seconds(self) -> float:
        """User + system time of rsyslogd (the child of ip netns exec, which execs it: the same process)."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def queue_stats(self) -> dict:
        """The newest impstats line of each queue object: {"<name> queue": {...}, "<name> queue[DA]": {...}}."""
        latest: dict = {}
        if self.stats.exists():
            for line in self.stats.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    obj = json.loads(line[line.index("{") :])
                    if obj.get("origin") == "core.queue":
                        latest[obj["name"]] = obj
        return latest


def wait_relp_listening(deadline_s: float = 15) -> None:
    needle = f":{RELP_PORT:04X} "
    deadline = time.monotonic() + deadline_s
    while needle not in sh("ip", "netns", "exec", RCV, "cat", "/proc/net/tcp").stdout:
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver's rsyslogd did not listen on the RELP port")
        time.sleep(0.05)


# -- counting what arrived -------------------------------------------------------------------------------------


class Arrivals:
    """The numbers in a growing kernel.log, reading only what was appended since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.rest = path, 0, b""
        self.numbers: Counter[int] = Counter()
        self.bad_sequence = 0
        self.last_change = time.monotonic()

    def poll(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        if chunk:
            self.offset += len(chunk)
            self.last_change = time.monotonic()
            lines = (self.rest + chunk).split(b"\n")
            self.rest = lines.pop()
            for line in lines:
                match = LINE.search(line)
                if match:
                    self.numbers[int(match.group(2))] += 1
                    self.bad_sequence += match.group(1) != match.group(2)
        return sum(self.numbers.values())

    def distinct(self, first: int, last: int) -> int:
        return sum(1 for n in self.numbers if first <= n <= last)

    def wait_for(self, first: int, last: int, what: str, quiet: float) -> float:
        """Wait until every number first..last arrived (or nothing new for `quiet` s); progress every 5 s.
        Returns when the last new line appeared."""
        want, shown, start = last - first + 1, time.monotonic(), time.monotonic()
        while True:
            self.poll()
            have = self.distinct(first, last)
            if have >= want or time.monotonic() - self.last_change > quiet:
                return self.last_change
            if time.monotonic() - shown >= 5:
                shown = time.monotonic()
                print(f"  {what}: {have:,} of {want:,} in kernel.log after {shown - start:.0f} s", flush=True)
            time.sleep(0.02)

    def check(self, first: int, last: int) -> dict:
        """Zero loss: every number arrived; duplicates counted (and the first few printed by the caller)."""
        self.poll()
        expected = range(first, last + 1)
        missing = [n for n in expected if n not in self.numbers]
        duplicates = {n: c for n, c in self.numbers.items() if c > 1 and first <= n <= last}
        return {
            "missing": len(missing),
            "missing_first": missing[:20],
            "duplicates": sum(c - 1 for c in duplicates.values()),
            "duplicated_numbers": sorted(duplicates)[:50],
            "sequence_not_kept": self.bad_sequence,
        }


# -- the two measurements --------------------------------------------------------------------------------------


def write_records(path: Path, first: int, last: int) -> None:
    with open(path, "a") as handle:
        for start in range(first, last + 1, 10_000):
            handle.write("".join(record(i) for i in range(start, min(start + 10_000, last + 1))))


def queue_files(work: Path) -> tuple[int, int]:
    files = [p for p in work.iterdir() if p.name.startswith(QUEUE)]
    return len(files), sum(p.stat().st_size for p in files)


def queue_summary(stats: dict) -> dict:
    """What the sender's action queue reports: the most it held, and what it discarded (a record lost)."""
    out = {}
    for name, obj in stats.items():
        if name.startswith(f"{QUEUE} queue"):
            key = "disk" if "[DA]" in name else "memory"
            out[key] = {k: obj.get(k) for k in ("enqueued", "maxqsize", "full", "discarded.full", "discarded.nf")}
    return out


def warm_up(sender: End, arrivals: Arrivals, numbers: Path) -> None:
    """Record 0: the TLS connection is up and pinned both ways before anything is timed."""
    write_records(numbers, 0, 0)
    arrivals.wait_for(0, 0, "record 0", quiet=30)
    if arrivals.distinct(0, 0) != 1:
        raise RuntimeError(f"record 0 never arrived; see {sender.own} and {WORK / 'receiver-rsyslog.log'}")


@contextlib.contextmanager
def connected(sender: End, receiver: End) -> Iterator[tuple[Path, Arrivals]]:
    """Both ends started afresh and record 0 through (the connection up and pinned both ways); both stopped after."""
    numbers, arrivals = fresh_run(sender, receiver)
    try:
        receiver.start()
        wait_relp_listening()
        sender.start()
        warm_up(sender, arrivals, numbers)
        yield numbers, arrivals
    finally:
        sender.stop()
        receiver.stop()


def sustained(sender: End, receiver: End, count: int) -> dict:
    with connected(sender, receiver) as (numbers, arrivals):
        cpu = sender.cpu_seconds(), receiver.cpu_seconds()
        start = time.monotonic()
        write_records(numbers, 1, count)
        written = time.monotonic()
        last = arrivals.wait_for(1, count, "sustained", quiet=30)
        cpu = sender.cpu_seconds() - cpu[0], receiver.cpu_seconds() - cpu[1]
        stats = queue_summary(sender.queue_stats())
    seconds = last - start
    return {
        "records": count,
        "write_seconds": written - start,
        "seconds": seconds,
        "rate": count / seconds,
        "sender_cpu_pct": 100 * cpu[0] / seconds,
        "receiver_cpu_pct": 100 * cpu[1] / seconds,
        "queue": stats,
        **arrivals.check(1, count),
    }


def wait_queued(sender: End, total: int, timeout: float) -> tuple[float, dict]:
    """Until the sender's action queue has taken or discarded `total` records (impstats), at most `timeout` s;
    progress every 5 s. Returns the seconds it took and the queue's last figures."""
    start = shown = time.monotonic()
    while True:
        stats = queue_summary(sender.queue_stats())
        memory = stats.get("memory", {})
        taken = (memory.get("enqueued") or 0) + (memory.get("discarded.full") or 0)
        if taken >= total or time.monotonic() - start > timeout:
            return time.monotonic() - start, stats
        if time.monotonic() - shown >= 5:
            shown = time.monotonic()
            disk = stats.get("disk", {}).get("enqueued") or 0
            print(
                f"  backlog: {memory.get('enqueued') or 0:,} of {total:,} records queued by the sender "
                f"({disk:,} of them moved to disk, {memory.get('discarded.full') or 0:,} discarded)",
                flush=True,
            )
        time.sleep(0.2)


def backlog(sender: End, receiver: End, count: int, queue_wait: float) -> dict:
    with connected(sender, receiver) as (numbers, arrivals):
        receiver.stop()  # the friend is down: nothing is in flight (record 0 was acknowledged)
        write_records(numbers, 1, count)
        queued_seconds, queued = wait_queued(sender, count + 1, timeout=queue_wait)
        files, disk_bytes = queue_files(sender.work)
        print(
            f"  backlog: after {queued_seconds:.1f} s the sender's queue: {json.dumps(queued)}; "
            f"{files} queue files, {disk_bytes:,} bytes",
            flush=True,
        )
        if not files:
            raise RuntimeError("the backlog is not on disk: no queue file in the sender's work directory")
        cpu = sender.cpu_seconds()
        restart = time.monotonic()
        receiver.start()
        wait_relp_listening()
        first = arrivals.wait_for(1, 1, "first of the backlog", quiet=60)
        last = arrivals.wait_for(1, count, "backlog", quiet=60)
        sender_cpu = sender.cpu_seconds() - cpu
        stats = queue_summary(sender.queue_stats())
        left = queue_files(sender.work)
    return {
        "records": count,
        "queue_seconds": queued_seconds,
        "queued": queued,
        "queue_files": files,
        "queue_bytes": disk_bytes,
        "queue_files_after": left[0],
        "reconnect_seconds": first - restart,
        "drain_seconds": last - restart,
        "rate": count / (last - first) if last > first else 0.0,
        "sender_cpu_pct": 100 * sender_cpu / (last - restart),
        "queue": stats,
        **arrivals.check(1, count),
    }


def fresh_run(sender: End, receiver: End) -> tuple[Path, Arrivals]:
    """Empty work directories, kernel.log and input file for one run."""
    shutil.rmtree(WORK / "log", ignore_errors=True)
    sender.reset()
    receiver.reset()
    numbers = WORK / "numbers"
    numbers.unlink(missing_ok=True)
    numbers.touch()
    return numbers, Arrivals(WORK / "log" / "sender" / "kernel.log")


# -- around the runs -------------------------------------------------------------------------------------------


def machine() -> dict:
    versions = sh("dpkg-query", "-W", "-f", "${Package} ${Version}\n", "rsyslog", "rsyslog-relp", "librelp0").stdout
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "packages": dict(line.split(" ", 1) for line in versions.splitlines()),
    }


def check_loss(label: str, result: dict) -> bool:
    print(
        f"{label}: {result['records']:,} numbered, {result['missing']:,} missing, {result['duplicates']:,} duplicates"
        + (f" (numbers {result['duplicated_numbers']})" if result["duplicates"] else "")
        + (f"; missing {result['missing_first']}..." if result["missing"] else "")
        + (
            f"; {result['sequence_not_kept']} lines without their sequence number"
            if result["sequence_not_kept"]
            else ""
        )
    )
    return not result["missing"] and not result["sequence_not_kept"]


def print_table(results: dict) -> None:
    m = results["machine"]
    print(
        f"{m['cpu']}, {m['cores']} cores, kernel {m['kernel']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    )
    print(f"load average before / after: {results['load_before']} / {results['load_after']}")
    print()
    print(
        "| variant | sustained: records | records/s | sender / receiver CPU % | backlog: records | queued in (s) "
        "| queue files (MB) | reconnect (s) | drained after start (s) | drain records/s | missing | duplicates |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, run in results["runs"].items():
        if "sustained" not in run or "backlog" not in run:
            continue
        s, b = run["sustained"], run["backlog"]
        print(
            f"| {label} | {s['records']:,} | {s['rate']:,.0f} "
            f"| {s['sender_cpu_pct']:.0f} / {s['receiver_cpu_pct']:.0f} "
            f"| {b['records']:,} | {b['queue_seconds']:.1f} | {b['queue_files']} ({b['queue_bytes'] / 1e6:.0f}) "
            f"| {b['reconnect_seconds']:.1f} | {b['drain_seconds']:.1f} | {b['rate']:,.0f} "
            f"| {s['missing'] + b['missing']} | {s['duplicates']} + {b['duplicates']} |"
        )


def variant_config(params: str) -> str:
    """The rendered sender drop-in with its omrelp action's parameters changed (name="value", name=-)."""
    return omrelp_variant((WORK / "sender-relp.conf").read_text(), params)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200_000, help="records for the sustained rate")
    parser.add_argument("--backlog", type=int, default=600_000, help="records queued while the receiver is down")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=PARAMS",
        help='also measure the sender with its omrelp action\'s parameters changed (name="value" sets, name=- '
        "removes), e.g. 'batch 1024=queue.dequeueBatchSize=\"1024\"' (the role's own is always measured first)",
    )
    parser.add_argument(
        "--queue-wait", type=float, default=90, help="at most this long for the sender to queue the backlog (s)"
    )
    parser.add_argument("--only", choices=["sustained", "backlog"], help="one of the two measurements")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("make bench-relp needs root (network namespaces, rsyslogd)", file=sys.stderr)
        return 1
    variants = {"role": ""} | dict(v.split("=", 1) for v in args.variant)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    print("rendering both ends (keys and certificates by tls_identity, the roles' relp.conf.j2)...", flush=True)
    render({})
    receiver_body = f'include(file="{WORK / "receiver-relp.conf"}")\n'
    results: dict = {"machine": machine(), "load_before": os.getloadavg(), "runs": {}}
    ok = True
    netns_setup()
    try:
        with heavy_lock():
            results["load_before"] = [round(x, 2) for x in os.getloadavg()]
            for label, params in variants.items():
                sender_body = variant_config(params) + relp_test_input(str(WORK / "numbers"), "logswap_relp_bench")
                sender, receiver = End("sender", SND, sender_body), End("receiver", RCV, receiver_body)
                run = {}
                if args.only != "backlog":
                    print(f"[{label}] sustained rate: {args.count:,} records...", flush=True)
                    run["sustained"] = sustained(sender, receiver, args.count)
                    print(f"[{label}] sustained: {run['sustained']['rate']:,.0f} records/s", flush=True)
                    ok &= check_loss(f"[{label}] sustained", run["sustained"])
                if args.only == "sustained":
                    results["runs"][label] = run
                    continue
                print(f"[{label}] backlog: {args.backlog:,} records while the receiver is down...", flush=True)
                run["backlog"] = backlog(sender, receiver, args.backlog, args.queue_wait)
                b = run["backlog"]
                print(f"[{label}] backlog drained {b['drain_seconds']:.1f} s after the receiver started", flush=True)
                ok &= check_loss(f"[{label}] backlog", b)
                print(f"[{label}] sender's queue: {json.dumps(b['queue'])}", flush=True)
                results["runs"][label] = run
            results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        netns_teardown()
    RESULTS.write_text(json.dumps(results, indent=2))
    print()
    print_table(results)
    print(f"\nresults: {RESULTS}")
    if not ok:
        print("LOSS: some numbers did not arrive (see above)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
