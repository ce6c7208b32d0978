"""The report reads the reliable channel's kernel.log beside console.log and counts, per boot, what each lost."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ansible_collections.logswap.netconsole.plugins.module_utils import kmsgview
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import (
    PLAIN_WHY,
    RELIABLE,
    SAMPLE_STRIDE,
    UNMATCHED_WHY,
    channels,
    log_files,
    main,
    read_lines,
    read_reliable,
    tell,
)

SRC = "172.30.77.21"
MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
START = datetime.datetime(2026, 11, 30, 5, 0, tzinfo=datetime.timezone.utc)  # noqa: UP017 (as kmsgview)

# Records of a 6.1 guest's boot (the kernel scenario's), as (level, text); debug (7) records are in kernel.log only:
# netconsole sends the levels below the sender's loglevel=7.
BOOT = [
    (5, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP"),
    (6, "Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=/dev/vda1 ro quiet loglevel=7 panic=10"),
    (6, "BIOS-provided physical RAM map:"),
    (7, "e820: update [mem 0x00000000-0x00000fff] usable ==> reserved"),
    (6, "DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014"),
    (6, "tsc: Detected 2399.998 MHz processor"),
    (4, "MDS CPU bug present and SMT on, data leak possible."),
    (6, "virtio_blk virtio2: [vda] 20971520 512-byte logical blocks (10.7 GB/10.0 GiB)"),
    (5, "netpoll: netconsole: local port 6666"),
    (6, "printk: console [netcon_ext0] enabled"),
    (3, "ata1.00: failed command: READ FPDMA QUEUED"),
    (7, "PM: genpd: Disabling unused power domains"),
]


def at(second: float) -> str:
    return (START + datetime.timedelta(seconds=second)).isoformat(timespec="microseconds")


def records(count: int, tag: str = "") -> list[tuple[int, int, str]]:
    """(seq, level, text) of a boot: the boot's records, then numbered ordinary lines (and a debug one in five)."""
    out = [(seq, level, text) for seq, (level, text) in enumerate(BOOT)]
    for seq in range(len(BOOT), count):
        out.append((seq, 7 if seq % 5 == 0 else 6, f"eth0: rx {tag}packet {seq} handled"))
    return out


def console(boot: list[tuple[int, int, str]], start: float, lost: set[int] = frozenset(), ts: int = 0) -> list[str]:
    """console.log lines of an extended netconsole target: the levels below 7, less the datagrams lost."""
    return [
        f"{at(start + seq / 100)} {SRC} {level},{seq},{1_000_000 + ts + seq * 10_000},-;{text}\n"
        for seq, level, text in boot
        if level < 7 and seq not in lost
    ]


def kernel(boot: list[tuple[int, int, str]], start: float, missing: set[int] = frozenset()) -> list[str]:
    """kernel.log lines as the receiver's relp template writes them: every level, the kernel time as a date."""
    return [
        f"{at(start + seq / 100 + 0.2)} {SRC} {level},{seq},{at(start + seq / 100)};{text}\n"
        for seq, level, text in boot
        if seq not in missing
    ]


def write(path, rows: list[str]) -> None:
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write("".join(rows))
    else:
        path.write_text("".join(rows))


def compare(tmp_path, console_rows: list[str], kernel_rows: list[str]) -> dict:
    """Both files read as the report reads them (the bulk reader for console.log), compared."""
    (tmp_path / "console.log").write_text("".join(console_rows))
    (tmp_path / RELIABLE).write_text("".join(kernel_rows))
    rboots = read_reliable(read_lines([str(tmp_path / RELIABLE)]))
    story = tell(read_lines([str(tmp_path / "console.log")]), track=True)
    return channels(story, rboots)


def test_both_channels_complete_lose_nothing_either_way(tmp_path):
    boot = records(300)
    result = compare(tmp_path, console(boot, 0), kernel(boot, 0))
    one = result["boots"][1]
    assert list(result["boots"]) == [1]
    assert one["compared"] and result["unmatched"] == []
    # the debug records are gaps in console.log's numbers, but netconsole never sends them: no loss
    assert one["netconsole_lost_kept_by_reliable"] == 0
    assert (one["reliable_missing"], one["reliable_behind"], one["reliable"]["missing"]) == (0, 0, 0)
    assert one["reliable"]["records"] == 300 and one["reliable_last_words"] == []


def test_a_burst_netconsole_lost_is_counted_and_kernel_log_kept_it(tmp_path):
    boot = records(300)
    burst = set(range(100, 140))  # 40 numbers, 8 of them debug records netconsole would not have sent
    one = compare(tmp_path, console(boot, 0, lost=burst), kernel(boot, 0))["boots"][1]
    assert one["netconsole_lost_kept_by_reliable"] == 32
    assert (one["reliable_missing"], one["reliable_behind"]) == (0, 0)


def test_kernel_log_missing_its_tail_is_behind_not_lost(tmp_path):
    boot = records(300)
    one = compare(tmp_path, console(boot, 0), kernel(boot, 0, missing=set(range(250, 300))))["boots"][1]
    assert one["reliable_behind"] == 40  # 50 numbers, less the 10 debug ones netconsole never had
    assert one["reliable_missing"] == 0 and one["netconsole_lost_kept_by_reliable"] == 0


def test_records_relp_lost_inside_its_range_are_missing(tmp_path):
    boot = records(300)
    one = compare(tmp_path, console(boot, 0), kernel(boot, 0, missing={21, 22, 23, 25}))["boots"][1]
    assert one["reliable_missing"] == 3 and one["reliable"]["missing"] == 4  # 25 is a debug record
    assert one["netconsole_lost_kept_by_reliable"] == 0


def test_two_boots_whose_numbers_repeat_are_matched_to_their_own(tmp_path):
    # the same kernel twice: the same first records under the same numbers; the first boot lost a burst over
    # netconsole, the second's kernel.log has not got its tail yet; the restart of rsyslog in the first boot
    # replayed its ring buffer into kernel.log (same numbers, text and kernel time: duplicates, not a boot)
    first, second = records(400, tag="a "), records(300, tag="b ")
    kernel_rows = kernel(first, 0)
    kernel_rows += [row.replace(at(seq / 100 + 0.2), at(10), 1) for seq, row in enumerate(kernel(first, 0)[:150])]
    kernel_rows += kernel(second, 600, missing=set(range(280, 300)))
    result = compare(tmp_path, console(first, 0, lost=set(range(300, 310))) + console(second, 600), kernel_rows)
    one, two = result["boots"][1], result["boots"][2]
    assert result["unmatched"] == []
    assert one["reliable"]["records"] == 400 and one["reliable"]["duplicates"] == 150
    assert two["reliable"]["records"] == 280 and two["reliable"]["first"] == at(600.2)
    assert (one["netconsole_lost_kept_by_reliable"], one["reliable_behind"]) == (8, 0)
    assert (two["netconsole_lost_kept_by_reliable"], two["reliable_behind"]) == (0, 16)


def test_boots_alike_in_text_are_told_apart_by_time(tmp_path):
    # a crash loop: three boots of the same kernel reading exactly alike (only the kernel times differ, which
    # kernel.log does not carry as such); kernel.log has the third only
    boot = records(100)
    console_rows = console(boot, 0) + console(boot, 300, ts=7) + console(boot, 600, lost={51, 52}, ts=3)
    result = compare(tmp_path, console_rows, kernel(boot, 600))
    assert [result["boots"][i]["compared"] for i in (1, 2, 3)] == [False, False, True]
    assert result["boots"][1]["why"] == UNMATCHED_WHY
    assert result["boots"][3]["netconsole_lost_kept_by_reliable"] == 2


def test_plain_console_lines_cannot_be_compared(tmp_path):
    boot = records(50)
    plain = [f"{at(seq / 100)} {SRC} [{1 + seq / 100:12.6f}] {text}\n" for seq, level, text in boot if level < 7]
    result = compare(tmp_path, plain, kernel(boot, 0))
    assert result["boots"][1] == {"compared": False, "why": PLAIN_WHY}
    (unmatched,) = result["unmatched"]
    assert (unmatched["records"], unmatched["first_seq"], unmatched["last_seq"]) == (50, 0, 49)


def test_a_late_datagram_filling_a_gap_is_not_lost(tmp_path):
    boot = records(100)
    rows = console(boot, 0)
    late = next(i for i, row in enumerate(rows) if f",{61}," in row)
    rows.insert(late + 5, rows.pop(late))  # 61 arrives after 62..66: a gap first, then filled
    one = compare(tmp_path, rows, kernel(boot, 0))["boots"][1]
    assert one["netconsole_lost_kept_by_reliable"] == 0 and one["reliable_missing"] == 0


def test_the_bulk_reader_keeps_every_jump_and_sample_as_the_line_reader(tmp_path):
    # more jumps than the gaps listed (MAX_GAPS), numbers across many sample strides
    boot = records(6000)
    lost = set(range(1000, 5000, 3))
    rows = console(boot, 0, lost=lost)
    (tmp_path / "console.log").write_text("".join(rows))
    (tmp_path / RELIABLE).write_text("".join(kernel(boot, 0)))
    rboots = read_reliable(read_lines([str(tmp_path / RELIABLE)]))
    bulk = tell(read_lines([str(tmp_path / "console.log")]), track=True)
    slow = tell(iter(rows), track=True)
    assert bulk.boots[0].holes == slow.boots[0].holes and bulk.boots[0].sample == slow.boots[0].sample
    sent = {seq for seq, level, _text in boot if level < 7 and seq not in lost}
    assert sorted(bulk.boots[0].sample) == [seq for seq in range(0, 6000, SAMPLE_STRIDE) if seq in sent]
    assert channels(bulk, rboots) == channels(slow, rboots)
    wanted = sum(1 for seq, level, _text in boot if seq in lost and level < 7)
    assert channels(bulk, rboots)["boots"][1]["netconsole_lost_kept_by_reliable"] == wanted


def test_chunks_taken_whole_keep_every_sample_as_the_line_reader(tmp_path, monkeypatch):
    # a sender at loglevel 8 (every level sent): its numbers go on, so most chunks are taken whole
    monkeypatch.setattr(kmsgview, "READ_SIZE", 8192)
    whole = []
    numbered_on = kmsgview._Bulk.numbered_on
    monkeypatch.setattr(kmsgview._Bulk, "numbered_on", lambda *args: numbered_on(*args) and not whole.append(1))
    boot = [(seq, min(level, 6), text) for seq, level, text in records(3000)]
    rows = console(boot, 0)
    (tmp_path / "console.log").write_text("".join(rows))
    (tmp_path / RELIABLE).write_text("".join(kernel(boot, 0)))
    rboots = read_reliable(read_lines([str(tmp_path / RELIABLE)]))
    bulk = tell(read_lines([str(tmp_path / "console.log")]), track=True)
    slow = tell(iter(rows), track=True)
    assert len(whole) > 20 and bulk.boots[0].sample == slow.boots[0].sample
    assert sorted(bulk.boots[0].sample) == list(range(0, 3000, SAMPLE_STRIDE))
    assert channels(bulk, rboots) == channels(slow, rboots)
    assert channels(bulk, rboots)["boots"][1]["netconsole_lost_kept_by_reliable"] == 0


def report(tmp_path, capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["alice", "--log-root", str(tmp_path), *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_rotated_and_compressed_kernel_log_in_the_report(tmp_path, capsys):
    friend = tmp_path / "alice"
    friend.mkdir()
    boot = records(300)
    rows = kernel(boot, 0, missing={201})
    write(friend / "kernel.log-20261130-1764478800.gz", rows[:100])
    write(friend / "kernel.log-cap-20261130T050100.000000000Z", rows[100:200])
    write(friend / "kernel.log", rows[200:])
    write(friend / "console.log", console(boot, 0, lost=set(range(100, 110))))
    names = [path.rsplit("/", 1)[1] for path in log_files(str(friend), RELIABLE)]
    assert names == ["kernel.log-20261130-1764478800.gz", "kernel.log-cap-20261130T050100.000000000Z", "kernel.log"]
    status, out, err = report(tmp_path, capsys, "--json")
    assert (status, err) == (0, "")
    data = json.loads(out)
    channel = data["boots"][0]["channels"]
    assert channel["reliable"]["records"] == 299 and channel["reliable"]["missing"] == 1
    assert channel["netconsole_lost_kept_by_reliable"] == 8 and channel["reliable_missing"] == 1
    assert data["reliable"]["records"] == 299 and len(data["reliable"]["files"]) == 3
    status, out, err = report(tmp_path, capsys)
    assert "  losses, netconsole: 8 records that kernel.log has never arrived (levels 0-6, from number 0)" in out
    assert "  losses, reliable channel (kernel.log): 1 records netconsole has are missing; 1 numbers" in out


def test_the_last_words_netconsole_lost_are_shown_from_kernel_log_and_terminal_safe(tmp_path, capsys):
    friend = tmp_path / "alice"
    friend.mkdir()
    boot = [*records(100), (100, 0, "Kernel panic - not syncing: \x1b[2J hostile#033[31m")]
    write(friend / "console.log", console(boot, 0, lost=set(range(95, 101))))
    write(friend / "kernel.log", kernel(boot, 0))
    status, out, err = report(tmp_path, capsys)
    assert status == 0 and "last words netconsole lost, from kernel.log:" in out
    assert "eth0: rx packet 96 handled" in out and "Kernel panic - not syncing: #033[2J hostile#033[31m" in out
    assert "\x1b" not in out and "eth0: rx packet 95 handled" not in out  # a debug record: not sent anyway
    status, out, err = report(tmp_path, capsys, "--console-loglevel", "1")
    assert "losses, netconsole: 1 records that kernel.log has never arrived (levels 0-0" in out
    status, out, err = report(tmp_path, capsys, "--console-loglevel", "9")
    assert status == 2 and "--console-loglevel 9: give 1 to 8" in err


def test_without_kernel_log_the_report_is_as_before(tmp_path, capsys):
    friend = tmp_path / "alice"
    friend.mkdir()
    write(friend / "console.log", console(records(50), 0))
    status, out, err = report(tmp_path, capsys, "--json")
    data = json.loads(out)
    assert "reliable" not in data and "channels" not in data["boots"][0]
    status, out, err = report(tmp_path, capsys)
    assert (status, err) == (0, "")
    assert "reliable" not in out and "channels" not in out and "losses, netconsole" not in out


def test_kernel_log_lines_without_a_number_and_garbage_are_skipped(tmp_path):
    boot = records(20)
    rows = kernel(boot, 0)
    rows[5:5] = [f"{at(1)} {SRC} 6,-,{at(1)};no sequence number\n", "garbage\n", f"{at(1)} {SRC} x;y\n"]
    rboots = read_reliable(iter(rows))
    assert len(rboots) == 1 and rboots[0].records == 20


def test_a_number_far_off_starts_another_reliable_boot_rather_than_a_huge_one():
    rows = [*kernel(records(20), 0), f"{at(1)} {SRC} 6,{10**15},{at(1)};damaged\n"]
    first, second = read_reliable(iter(rows))
    assert (first.records, len(first.levels), second.base, len(second.levels)) == (20, 20, 10**15, 1)


def test_a_kernel_log_the_friend_may_not_read_is_told_and_console_log_still_reported():
    # as an account that may read console.log and not kernel.log (the tests run as root: runuser to nobody)
    root = Path(tempfile.mkdtemp(prefix="channels-"))
    try:
        root.chmod(0o755)
        friend = root / "alice"
        friend.mkdir(mode=0o755)
        write(friend / "console.log", console(records(50), 0))
        write(friend / "kernel.log", kernel(records(50), 0))
        (friend / "console.log").chmod(0o644)
        (friend / "kernel.log").chmod(0o600)
        code = f"import sys; sys.path.insert(0, {str(MODULE_UTILS)!r}); import kmsgview; sys.exit(kmsgview.main())"
        argv = [sys.executable, "-I", "-c", code, "alice", "--log-root", str(root)]
        if os.geteuid() == 0:  # the system's python, as the installed netconsole-report runs (the venv is root's)
            argv = ["runuser", "-u", "nobody", "--", "/usr/bin/python3", *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(root)
    assert done.returncode == 0, done.stderr
    assert "boot 1" in done.stdout and "losses, netconsole" not in done.stdout
    assert "kernel.log not compared: cannot read" in done.stderr and "permission denied" in done.stderr


def test_a_replay_reaching_before_kernel_logs_first_record_extends_the_boot_back(tmp_path):
    # kernel.log's older pieces are gone (it starts at 100); a restart of the sender's rsyslog then replays the
    # ring buffer from 50: the same boot, now compared from 50
    boot = records(200)
    rows = kernel(boot, 0)
    rows = rows[100:] + [row.replace(at((50 + seq) / 100 + 0.2), at(9), 1) for seq, row in enumerate(rows[50:])]
    one = compare(tmp_path, console(boot, 0, lost={61, 62}), rows)["boots"][1]
    assert one["from_seq"] == 50 and one["reliable"]["first_seq"] == 50
    assert (one["reliable"]["records"], one["reliable"]["duplicates"]) == (150, 100)
    assert one["netconsole_lost_kept_by_reliable"] == 2 and one["reliable_missing"] == 0


def test_the_old_boots_rest_sent_again_after_a_crash_interleaved_with_the_new_boot_goes_to_the_old_boot():
    """As the kernel scenario saw it after a panic (2026-12-01): the sender's queue, its read position saved every
    100 records, sends the crashed boot's records 458-527 again, one by one between the new boot's 514-576, and
    the new boot's 2-513 only after them. Numbers overlap; the kernel times tell the boots apart."""
    old, new = kernel(records(600), 0), kernel(records(577, "b"), 700)
    rows = [*old, new[1]]  # the new boot's first to arrive (its number 1)
    resent, early = old[458:528], new[514:577]
    for i in range(max(len(resent), len(early))):
        rows += resent[i : i + 1] + early[i : i + 1]
    rows += new[2:514]
    first, second = read_reliable(iter(rows))
    assert (first.records, first.duplicates, first.missing()) == (600, 70, 0)
    assert (second.base, second.top, second.records, second.missing(), second.duplicates) == (1, 576, 576, 0, 0)
