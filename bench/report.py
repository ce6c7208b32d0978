"""netconsole-report's speed: lines per second on one core over a month of rotated files (docs/friend-view.md).

Writes --days files as the receiver keeps them (console.log-YYYYMMDD-<epoch>.gz, the newest rotated one
uncompressed as delaycompress leaves it, and console.log), with a mix of plain and extended lines, a fragmented
record, a warning with its trace and a reboot per day, then times the report's own reading of them.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "module_utils"))
import kmsgview


def day_lines(day: int, count: int) -> list[str]:
    stamp = f"2026-11-{day + 1:02d}T"
    rows = []
    for i in range(count):
        recv = f"{stamp}{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:06d}+00:00 172.30.77.21 "
        if i == 0:
            rows.append(recv + "5,0,0,-;Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP")
        elif i % 5 == 0:
            rows.append(recv + f"[{i / 1000:12.6f}] eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX/TX")
        elif i % 50000 == 7:
            rows.append(recv + f"4,{i},{i * 1000},-;WARNING: CPU: 1 PID: 42 at net/core/dev.c:1 f+0x1/0x2")
        elif i % 50000 == 8:
            rows.append(recv + f"4,{i},{i * 1000 + 1},-;---[ end trace 0000000000000000 ]---")
        else:
            rows.append(recv + f"6,{i},{i * 1000},-;usb 1-1: new high-speed USB device number {i % 128} using xhci_hcd")
    return rows


def write_month(root: Path, days: int, per_day: int) -> list[str]:
    friend = root / "alice"
    friend.mkdir()
    paths = []
    for day in range(days):
        if day == days - 1:
            name = "console.log"
        else:
            name = f"console.log-202611{day + 2:02d}-{1764547200 + day * 86400}" + (".gz" if day < days - 2 else "")
        path = friend / name
        text = "\n".join(day_lines(day, per_day)) + "\n"
        if name.endswith(".gz"):
            with gzip.open(path, "wt", compresslevel=1) as handle:
                handle.write(text)
        else:
            path.write_text(text)
        paths.append(str(path))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--lines-per-day", type=int, default=100_000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        write_month(Path(tmp), args.days, args.lines_per_day)
        files = kmsgview.log_files(os.path.join(tmp, "alice"))
        start_cpu, start = time.process_time(), time.perf_counter()
        story = kmsgview.tell(kmsgview.read_lines(files))
        cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    events = sum(len(boot.events) for boot in story.boots)
    print(
        f"netconsole-report over {len(files)} files, {story.records} lines ({len(story.boots)} boots, {events} events):"
        f" {story.records / cpu:,.0f} lines per CPU second, {story.records / wall:,.0f} lines/s wall, one core"
    )


if __name__ == "__main__":
    main()
