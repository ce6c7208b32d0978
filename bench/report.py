"""netconsole-report's speed: lines per second on one core over a month of rotated files (docs/friend-view.md).

Writes --days files as the receiver keeps them (console.log-YYYYMMDD-<epoch>.gz, the newest rotated one
uncompressed as delaycompress leaves it, and console.log), with a mix of plain and extended lines, a warning with
its trace and a reboot per day, then times the report's own reading of them (the bulk reader), and on the same
files, in the same run, the line-by-line reader (what the report did before; a plain list of lines still takes
that way) and, with --compare, another kmsgview.py (say a released one: git show TAG:plugins/module_utils/...).
CPU seconds of this process, so other jobs on the machine change the figures less than wall time.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "module_utils"))
import kmsgview


def day_lines(day: int, count: int, plain_every: int = 5, dictionary: bool = False) -> list[str]:
    stamp = f"2026-11-{day + 1:02d}T"
    rows = []
    seq = 0  # the extended target's numbers: one per extended record, none lost (plain lines have none)
    # a 6.17+ sender's target: host= (userdata) and msgid= (sysdata, one per message sent) after every text
    sysdata = "#012 host=alice#012 msgid={}" if dictionary else ""
    for i in range(count):
        recv = f"{stamp}{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:06d}+00:00 172.30.77.21 "
        if i == 0:
            rows.append(recv + "5,0,0,-;Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP")
        elif plain_every and i % plain_every == 0:
            rows.append(recv + f"[{i / 1000:12.6f}] eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX")
            continue
        elif i % 50000 == 7:
            rows.append(recv + f"4,{seq},{i * 1000},-;WARNING: CPU: 1 PID: 42 at net/core/dev.c:1 f+0x1/0x2")
        elif i % 50000 == 8:
            rows.append(recv + f"4,{seq},{i * 1000 + 1},-;---[ end trace 0000000000000000 ]---")
        else:
            text = f"usb 1-1: new high-speed USB device number {i % 128} using xhci_hcd"
            rows.append(recv + f"6,{seq},{i * 1000},-;{text}")
        rows[-1] += sysdata.format(seq + 1000)
        seq += 1
    return rows


def write_month(root: Path, days: int, per_day: int, plain_every: int = 5, dictionary: bool = False) -> list[str]:
    friend = root / "alice"
    friend.mkdir()
    paths = []
    for day in range(days):
        if day == days - 1:
            name = "console.log"
        else:
            name = f"console.log-202611{day + 2:02d}-{1764547200 + day * 86400}" + (".gz" if day < days - 2 else "")
        path = friend / name
        text = "\n".join(day_lines(day, per_day, plain_every, dictionary)) + "\n"
        if name.endswith(".gz"):
            with gzip.open(path, "wt", compresslevel=1) as handle:
                handle.write(text)
        else:
            path.write_text(text)
        paths.append(str(path))
    return paths


def timed(label: str, read: object, files: list[str]) -> dict:
    """One reading of the files: lines per CPU second and per wall second, and the report it gave."""
    start_cpu, start = time.process_time(), time.perf_counter()
    story = read(files)
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    events = sum(len(boot.events) for boot in story.boots)
    print(
        f"{label}: {len(files)} files, {story.records} lines ({len(story.boots)} boots, {events} events):"
        f" {story.records / cpu:,.0f} lines per CPU second ({cpu:.2f} CPU s), {story.records / wall:,.0f} lines/s"
        " wall, one core",
        flush=True,
    )
    return story.as_dict()


def load(path: str) -> object:
    spec = importlib.util.spec_from_file_location("kmsgview_compared", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--lines-per-day", type=int, default=100_000)
    parser.add_argument(
        "--plain-every",
        type=int,
        default=5,
        help="every Nth line plain, the rest extended (0: extended only, as one sender's target sends)",
    )
    parser.add_argument(
        "--dictionary",
        action="store_true",
        help="host= and msgid= on every extended line (what the sender role's target sends on Linux 6.17+)",
    )
    parser.add_argument("--no-line-reader", action="store_true", help="time only the report's own (bulk) reading")
    parser.add_argument("--compare", metavar="KMSGVIEW_PY", help="also time this kmsgview.py on the same files")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        write_month(Path(tmp), args.days, args.lines_per_day, args.plain_every, args.dictionary)
        files = kmsgview.log_files(os.path.join(tmp, "alice"))
        report = timed("netconsole-report", lambda f: kmsgview.tell(kmsgview.read_lines(f)), files)
        if not args.no_line_reader:
            # a plain generator of lines (not read_lines' own object) takes the line-by-line way, as before
            same = timed("line by line    ", lambda f: kmsgview.tell(kmsgview.read_lines(f).lines()), files)
            if json.dumps(same, sort_keys=True) != json.dumps(report, sort_keys=True):
                raise SystemExit("the line-by-line reader told another story")
        if args.compare:
            other = load(args.compare)
            timed(f"{args.compare}", lambda f: other.tell(other.read_lines(f)), files)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
