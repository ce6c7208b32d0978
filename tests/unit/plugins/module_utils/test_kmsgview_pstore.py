"""The report lists the friend's pstore records (the panics netconsole could not send) in the boot they ended."""

from __future__ import annotations

import json
import random

from ansible_collections.logswap.netconsole.plugins.module_utils import kmsgview
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import main, pstore_record

SRC = "172.30.77.21"

# A 6.1 guest's ramoops record of `echo c > /proc/sysrq-trigger` (shortened): "<level>[time] text" per line.
RECORD = """Panic#1 Part1
<6>[   35.101000] sysrq: Trigger a crash
<0>[   35.101900] Kernel panic - not syncing: sysrq triggered crash
<4>[   35.102000] CPU: 0 PID: 412 Comm: sh Not tainted 6.1.0-27-amd64 #1  Debian 6.1.115-1
<4>[   35.102100] Call Trace:
<4>[   35.102200]  <TASK>
<4>[   35.102300]  sysrq_handle_crash+0x16/0x20
<4>[   35.102400]  </TASK>
<0>[   35.102600] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---
"""


def ext(minute: int, second: int, seq: int, text: str, level: int = 6) -> str:
    return f"2026-11-30T05:{minute:02d}:{second:02d}.000000+00:00 {SRC} {level},{seq},{1000 + seq * 10},-;{text}\n"


def friend_dir(tmp_path, panic_in_second_boot: bool = True):
    directory = tmp_path / "zkj"
    (directory / "pstore").mkdir(parents=True)
    rows = [ext(0, 0, 0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)", 5)]
    rows += [ext(0, 10 + n, n, f"boot one line {n}") for n in range(1, 5)]
    # the second boot: its banner, then (where asked) a panic that netconsole did send
    rows += [ext(1, 20, 0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)", 5)]
    rows += [ext(1, 21, n, f"boot two line {n}") for n in range(1, 4)]
    if panic_in_second_boot:
        rows += [ext(1, 40, 4, "Kernel panic - not syncing: sysrq triggered crash", 0)]
    (directory / "console.log").write_text("".join(rows))
    return directory


def report(tmp_path, *args: str, capsys=None) -> str:
    assert main(["zkj", "--log-root", str(tmp_path), *args]) == 0
    return capsys.readouterr().out


def test_a_record_goes_into_the_boot_it_ended_and_says_console_log_has_none_of_it(tmp_path, capsys):
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text(RECORD)
    data = json.loads(report(tmp_path, "--json", capsys=capsys))
    first, second = data["boots"]
    assert [record["id"] for record in first["pstore"]] == ["20261130T050045Z-0123456789ab"]
    assert second["pstore"] == []
    record = first["pstore"][0]
    assert record["kinds"] == ["panic"]
    assert record["in_console_log"] is False
    assert record["first_event"] == "[   35.101900] Kernel panic - not syncing: sysrq triggered crash"
    assert record["tail"][-1].startswith("[   35.102600] ---[ end Kernel panic")
    assert data["pstore"] == [record]


def test_the_text_report_shows_the_record_after_the_boots_last_words(tmp_path, capsys):
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text(RECORD)
    text = report(tmp_path, capsys=capsys)
    boot_one = text.split("\nboot 1 ")[1].split("\nboot 2 ")[0]
    assert "PSTORE record 20261130T050045Z-0123456789ab (panic; not in console.log)" in boot_one
    assert "pstore/20261130T050045Z-0123456789ab.txt" in boot_one
    assert "      [   35.102300]  sysrq_handle_crash+0x16/0x20" in boot_one
    assert "PSTORE" not in text.split("\nboot 2 ")[1]


def test_a_panic_that_also_arrived_by_netconsole_is_marked_so(tmp_path, capsys):
    directory = friend_dir(tmp_path)
    (directory / "pstore" / "20261130T050145Z-0123456789ab.txt").write_text(RECORD)
    data = json.loads(report(tmp_path, "--json", capsys=capsys))
    assert data["boots"][1]["pstore"][0]["in_console_log"] is True
    assert data["boots"][0]["pstore"] == []


def test_since_kind_other_files_and_a_record_before_every_boot(tmp_path, capsys):
    directory = friend_dir(tmp_path)
    (directory / "pstore" / "20261130T045000Z-aaaaaaaaaaaa.txt").write_text(RECORD)
    (directory / "pstore" / "20261130T050045Z-bbbbbbbbbbbb.txt").write_text("<4>[ 1.0] WARNING: CPU: 0 at x\n")
    (directory / "pstore" / "notes.txt").write_text("Kernel panic - not syncing: not a record\n")
    data = json.loads(report(tmp_path, "--json", capsys=capsys))
    assert [(record["id"][:16], record["boot"]) for record in data["pstore"]] == [
        ("20261130T045000Z", None),
        ("20261130T050045Z", 1),
    ]
    assert "pstore records from before the first boot shown: 1" in report(tmp_path, capsys=capsys)
    only_panics = json.loads(report(tmp_path, "--json", "--kind", "panic", capsys=capsys))
    assert [record["id"][:16] for record in only_panics["pstore"]] == ["20261130T045000Z"]
    recent = json.loads(report(tmp_path, "--json", "--since", "2026-11-30T05:00:30", capsys=capsys))
    assert [record["id"][:16] for record in recent["pstore"]] == ["20261130T050045Z"]


def test_nothing_a_record_holds_reaches_a_terminal(tmp_path, capsys):
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    evil = RECORD.replace("sysrq: Trigger a crash", "sysrq: \x1b]0;owned\x07\x1b[2J")
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text(evil)
    text = report(tmp_path, capsys=capsys)
    assert "\x1b" not in text and "\x07" not in text
    assert "PSTORE record" in text


def test_no_pstore_directory_is_no_record_and_no_complaint(tmp_path, capsys):
    directory = friend_dir(tmp_path)
    (directory / "pstore").rmdir()
    data = json.loads(report(tmp_path, "--json", capsys=capsys))
    assert data["pstore"] == []
    assert capsys.readouterr().err == ""


def test_a_record_without_an_event_says_so():
    record = pstore_record("20261130T050045Z-0123456789ab.txt", "Oops#1 Part1\n<6>[ 1.0] plain line\n")
    assert record["kinds"] == [] and record["first_event"] is None and record["lines"] == 2


def numbered(text: str) -> list[str]:
    """The record's lines as the friend's receiver files them: "<n>/<total> <line>"."""
    lines = text.splitlines()
    return [f"{n}/{len(lines)} {line}" for n, line in enumerate(lines, 1)]


def test_a_record_that_arrived_out_of_order_and_partly_twice_is_read_in_order_once(tmp_path, capsys):
    # a record longer than the sender's queue keeps in memory arrives out of order (measured with the real
    # rsyslog at both ends: tests/integration/test_pstore_ship.py); a window sent again arrives twice
    filed = numbered(RECORD)
    filed += filed[2:5]
    random.Random(7).shuffle(filed)
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text("\n".join(filed) + "\n")
    (record,) = json.loads(report(tmp_path, "--json", capsys=capsys))["pstore"]
    assert record["tail"] == [kmsgview._PSTORE_LEVEL_RE.sub("", line) for line in RECORD.splitlines()]
    assert (record["lines"], record["missing"], record["first_event"]) == (
        9,
        0,
        "[   35.101900] Kernel panic - not syncing: sysrq triggered crash",
    )


def test_lines_that_never_arrived_are_counted_and_said(tmp_path, capsys):
    filed = numbered(RECORD)
    del filed[5]
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text("\n".join(filed[::-1]) + "\n")
    (record,) = json.loads(report(tmp_path, "--json", capsys=capsys))["pstore"]
    assert (record["lines"], record["missing"]) == (8, 1)
    assert record["tail"][-1].startswith("[   35.102600] ---[ end Kernel panic")
    assert "its last 8 of 8 lines (1 more never arrived):" in report(tmp_path, capsys=capsys)


def test_a_record_read_only_so_far_ends_at_its_last_whole_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(kmsgview, "PSTORE_MAX_BYTES", 200)
    directory = friend_dir(tmp_path, panic_in_second_boot=False)
    (directory / "pstore" / "20261130T050045Z-0123456789ab.txt").write_text("\n".join(numbered(RECORD)) + "\n")
    (record,) = json.loads(report(tmp_path, "--json", capsys=capsys))["pstore"]
    assert record["missing"] > 0 and record["tail"][0] == "Panic#1 Part1"
