"""The reliable channel's cut path between namespaces: numbered records at a steady rate, outages, the count.

Reproduces the reliable molecule scenario's outages with the real rsyslogd at both ends (the roles' own
relp.conf.j2 rendered by tests/lib/render_relp.yml) in two namespaces joined by a veth pair, and counts the numbers
missing and duplicated in the receiver's kernel.log. Run as root, holding /tmp/logswap-heavy.lock
(``flock /tmp/logswap-heavy.lock python3 scripts/relp_cut_experiment.py --third 5``); docs/reliable.md,
"A path cut", has what it measured.

  --pre-stop S      the receiver's rsyslogd stopped for S seconds at 5 s (as the scenario's first outage)
  --cut HOW         veth: the pair deleted and made again (docker network disconnect), down: the sender's end set
                    down, rdown: the receiver's end set down, drop: nft drops everything in the receiver's
                    namespace, none
  --third S         S s after the path is back the receiver stops, 10 s later the sender; both start 20 s later
  --set 'name="v"'  the sender's omrelp action parameters changed (name=- removes), as bench/relp.py --variant
  --debug           the sender's rsyslogd with -d (RSYSLOG_DEBUGLOG sender-debug.log: librelp's sessions too)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
from logswap_testlib import (
    link_namespaces,
    make_namespaces,
    omrelp_variant,
    relp_test_input,
    remove_namespaces,
    render_relp,
    sh,
)

SND, RCV = "lsx-snd", "lsx-rcv"
SND_IP, RCV_IP = "10.95.0.2", "10.95.0.1"
LINE = re.compile(r" \d+,(\S+),[^;]*;relp-number (\d+) ")


class Rsyslogd:
    def __init__(self, netns: str, work: Path, name: str, body: str, debug: bool = False) -> None:
        self.netns, self.name = netns, name
        spool = work / f"{name}-work"
        spool.mkdir(exist_ok=True)
        self.conf = work / f"{name}.conf"
        stats = work / f"{name}-stats.json"
        self.conf.write_text(
            f'global(workDirectory="{spool}")\n'
            f'module(load="impstats" interval="1" format="json" log.syslog="off" log.file="{stats}")\n{body}'
        )
        sh("rsyslogd", "-N1", "-f", str(self.conf))
        self.log = work / f"{name}-rsyslog.log"
        self.debug = work / f"{name}-debug.log" if debug else None
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(__import__("os").environ)
        if self.debug:
            env.update(RSYSLOG_DEBUG="NoStdOut", RSYSLOG_DEBUGLOG=str(self.debug))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "rsyslogd", "-n", "-iNONE", "-f", str(self.conf)]
                + (["-d"] if self.debug else []),
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=env,
            )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(120)


def arrived(kernel_log: Path) -> Counter[int]:
    text = kernel_log.read_text() if kernel_log.exists() else ""
    return Counter(int(m.group(2)) for m in map(LINE.search, text.splitlines()) if m)


def link() -> None:
    link_namespaces((SND, "lsxs", [f"{SND_IP}/24"]), (RCV, "lsxr", [f"{RCV_IP}/24"]))


def cut(how: str) -> None:
    if how == "veth":
        sh("ip", "-n", SND, "link", "del", "lsxs")
    elif how == "down":
        sh("ip", "-n", SND, "link", "set", "lsxs", "down")
    elif how == "drop":
        rules = "table inet lsxcut { chain in { type filter hook input priority 0; policy drop; }\n"
        rules += "chain out { type filter hook output priority 0; policy drop; }\n}\n"
        subprocess.run(["ip", "netns", "exec", RCV, "nft", "-f", "-"], input=rules, text=True, check=True)
    elif how == "rdown":
        sh("ip", "-n", RCV, "link", "set", "lsxr", "down")


def restore(how: str) -> None:
    if how == "veth":
        link()
    elif how == "down":
        sh("ip", "-n", SND, "link", "set", "lsxs", "up")
    elif how == "drop":
        sh("ip", "netns", "exec", RCV, "nft", "delete", "table", "inet", "lsxcut")
    elif how == "rdown":
        sh("ip", "-n", RCV, "link", "set", "lsxr", "up")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--work", type=Path, default=Path("/tmp/relpcut-exp"))
    p.add_argument("--set", default="", help="omrelp action parameters")
    p.add_argument("--count", type=int, default=8000)
    p.add_argument("--rate", type=int, default=100)
    p.add_argument("--pre-stop", type=float, default=30)
    p.add_argument("--gap", type=float, default=5, help="seconds between the receiver's start and the cut")
    p.add_argument("--cut", default="veth")
    p.add_argument("--outage", type=float, default=30)
    p.add_argument("--sender-stop", type=float, default=0, help="stop the sender for S s during the cut")
    p.add_argument(
        "--third",
        type=float,
        default=-1,
        help="S s after the cut ends, the receiver stops; 10 s later "
        "the sender stops; both start 20 s later (the scenario's third outage; -1: none)",
    )
    p.add_argument("--debug", action="store_true")
    p.add_argument("--settle", type=float, default=45, help="stop waiting this long after the last arrival")
    p.add_argument("--results", type=Path, default=Path("/tmp/relpcut-results.jsonl"), help="appended, one run a line")
    a = p.parse_args()
    subprocess.run(["rm", "-rf", str(a.work)], check=True)
    a.work.mkdir(parents=True)
    render_relp(a.work, SND_IP, RCV_IP)
    numbers, kernel_log = a.work / "numbers", a.work / "log" / "sender" / "kernel.log"
    numbers.touch()
    make_namespaces(SND, RCV)
    link()
    receiver = Rsyslogd(RCV, a.work, "receiver", f'include(file="{a.work / "receiver-relp.conf"}")\n')
    body = omrelp_variant((a.work / "sender-relp.conf").read_text(), a.set) + relp_test_input(str(numbers))
    sender = Rsyslogd(SND, a.work, "sender", body, a.debug)
    events: list[str] = []
    restored_at = 0.0
    written = [0]

    def feed() -> None:
        t0 = time.monotonic()
        i = 0
        with open(numbers, "a") as out:
            while i < a.count:
                n = min(a.rate, a.count - i)
                out.writelines(f"relp-number {j} usb 1-1: new device {j}\n" for j in range(i + 1, i + n + 1))
                out.flush()
                i += n
                written[0] = i
                time.sleep(max(0, t0 + i / a.rate - time.monotonic()))

    def mark(what: str) -> None:
        events.append(f"{time.monotonic() - t0:6.1f}s written {written[0]:6d}: {what}")
        print(events[-1], flush=True)

    try:
        receiver.start()
        time.sleep(1.5)
        sender.start()
        time.sleep(1)
        t0 = time.monotonic()
        feeder = threading.Thread(target=feed)
        feeder.start()
        if a.pre_stop:
            time.sleep(5)
            mark("receiver stopped")
            receiver.stop()
            time.sleep(a.pre_stop)
            receiver.start()
            mark("receiver started")
            time.sleep(a.gap)
        else:
            time.sleep(a.gap)
        at_cut = written[0]
        if a.cut != "none":
            mark(f"cut {a.cut}")
            cut(a.cut)
            if a.sender_stop:
                time.sleep(a.outage / 3)
                mark("sender stopped")
                sender.stop()
                time.sleep(a.sender_stop)
                sender.start()
                mark("sender started")
                time.sleep(max(0, a.outage * 2 / 3 - a.sender_stop))
            else:
                time.sleep(a.outage)
            restore(a.cut)
            mark("restored")
            restored_at = time.time()
        if a.third >= 0:
            time.sleep(a.third)
            got = arrived(kernel_log)
            mark(
                f"receiver stopped; cut window {at_cut + 1}-{at_cut + 300}: "
                f"{sum(1 for n in range(at_cut + 1, at_cut + 301) if not got[n])} not arrived yet"
            )
            receiver.stop()
            time.sleep(10)
            mark("sender stopped")
            sender.stop()
            time.sleep(20)
            receiver.start()
            sender.start()
            mark("both started")
        feeder.join()
        mark("all written")
        last, still = -1, time.monotonic()
        while time.monotonic() - still < a.settle:
            got = arrived(kernel_log)
            if all(got[n] for n in range(1, a.count + 1)):
                break
            if sum(got.values()) != last:
                last, still = sum(got.values()), time.monotonic()
            time.sleep(1)
        mark("settled")
    finally:
        sender.stop()
        receiver.stop()
        remove_namespaces(SND, RCV)
    got = arrived(kernel_log)
    missing = [n for n in range(1, a.count + 1) if not got[n]]
    dups = sum(c - 1 for c in got.values() if c > 1)
    ranges: list[list[int]] = []
    for n in missing:
        if ranges and ranges[-1][1] == n - 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    result = {"set": a.set, "cut": a.cut, "pre_stop": a.pre_stop, "at_cut": at_cut, "missing": len(missing)}
    result |= {"ranges": ranges[:20], "duplicates": dups, "events": events}
    # when the records written just after the cut arrived, in seconds after the path came back
    if a.cut != "none" and kernel_log.exists():
        stamps = {}
        for line in kernel_log.read_text().splitlines():
            m = LINE.search(line)
            if m and at_cut < int(m.group(2)) <= at_cut + 300 and int(m.group(2)) not in stamps:
                from datetime import datetime

                stamps[int(m.group(2))] = datetime.fromisoformat(line.split()[0]).timestamp() - restored_at
        if stamps:
            span = [round(min(stamps.values()), 1), round(max(stamps.values()), 1)]
            result["cut_window_arrival_after_restore"] = span
    print(json.dumps(result))
    with open(a.results, "a") as out:
        out.write(json.dumps(result | {"label": sys.argv[1:]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
