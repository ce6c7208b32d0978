"""The friend's view: console.log lines as the receiver writes them, read back as boots, events and losses."""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
import random
import re
import time
from pathlib import Path

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils import kmsgview
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import (
    LineSource,
    Reassembler,
    log_files,
    main,
    parse_line,
    parse_time,
    read_lines,
    tell,
    terminal_safe,
)

SRC = "172.30.77.21"
BENCH = Path(__file__).resolve().parents[4] / "bench" / "report.py"


def at(second: float) -> str:
    whole = int(second)
    return f"2026-11-30T05:{whole // 60:02d}:{whole % 60:02d}.{int((second - whole) * 1e6):06d}+00:00"


def line(second: float, datagram: str, source: str = SRC) -> str:
    return f"{at(second)} {source} {datagram}\n"


def ext(second: float, seq: int, text: str, level: int = 6, ts: int | None = None, extra: str = "") -> str:
    return line(second, f"{level},{seq},{ts if ts is not None else 1000 + seq * 10},-{extra};{text}")


# The panic the kernel scenario's 6.1 guest sends after `echo c > /proc/sysrq-trigger` (shortened).
PANIC = [
    "6,526,143100001,-;sysrq: Trigger a crash",
    "0,527,143100900,-;Kernel panic - not syncing: sysrq triggered crash",
    "4,528,143101100,-;CPU: 1 PID: 412 Comm: sh Not tainted 6.1.0-27-amd64 #1  Debian 6.1.115-1",
    "4,529,143101200,-;Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
    "4,530,143101300,-;Call Trace:",
    "4,531,143101400,-; <TASK>",
    "4,532,143101500,-; dump_stack_lvl+0x44/0x5c",
    "4,533,143101600,-; panic+0x118/0x2f0",
    "4,534,143101700,-; sysrq_handle_crash+0x16/0x20",
    "4,535,143101800,-; </TASK>",
    "0,536,143102000,-;Kernel Offset: 0x2a000000 from 0xffffffff81000000",
    "0,537,143102100,-;---[ end Kernel panic - not syncing: sysrq triggered crash ]---",
]


def test_plain_extended_and_release_lines_parse():
    plain = parse_line(line(1, "[   37.873413] hello"))
    assert (plain.ts, plain.text, plain.seq) == (37_873_413, "hello", None)
    extended = parse_line(line(1, "12,522,38521367,-;hello"))
    assert (extended.level, extended.seq, extended.ts, extended.text) == (4, 522, 38_521_367, "hello")
    release = parse_line(line(1, "6.12.95+deb12-amd64,12,525,21782645,-;hello-6.12"))
    assert (release.release, release.seq, release.text) == ("6.12.95+deb12-amd64", 525, "hello-6.12")
    assert release.shown() == "[   21.782645] hello-6.12"


def test_dictionary_and_userdata_lines_are_decoded():
    record = parse_line(line(1, "6,1240,5679000,-;usb 1-1: dict#012 SUBSYSTEM=usb#012 DEVICE=c189:1#012 msgid=17"))
    assert record.text == "usb 1-1: dict"
    assert record.fields == {"SUBSYSTEM": "usb", "DEVICE": "c189:1", "msgid": "17"}


def test_text_with_a_semicolon_or_comma_stays_plain():
    record = parse_line(line(1, "[    1.000000] a, b; c"))
    assert (record.seq, record.text) == (None, "a, b; c")
    assert parse_line("garbage") is None


def fragments(seq: int, body: str, size: int, ts: int = 57850325) -> list[str]:
    """The kernel's split of one record: the header repeated, ncfrag=offset/total on each piece."""
    total = len(body.encode()) + 1  # the final newline, which rsyslog drops
    pieces = []
    for off in range(0, len(body), size):
        pieces.append(f"4,{seq},{ts},-,ncfrag={off}/{total};{body[off : off + size]}")
    return pieces


def test_fragments_out_of_order_and_duplicated_make_one_whole_message():
    body = "long975:" + "x" * 1960 + "END"
    parts = fragments(525, body, 969)
    order = [parts[2], parts[0], parts[0], parts[1], parts[1]]
    story = tell([line(1, p) for p in order])
    (boot,) = story.boots
    assert boot.records == 1 and boot.incomplete == 0
    assert boot.tail[-1].shown().endswith(body)


def test_the_next_boot_reusing_a_fragmented_records_number_and_time_is_joined_again():
    first = fragments(11, "BUG: first boot " + "a" * 1500, 969, ts=20_000_000)
    second = fragments(11, "BUG: second boot " + "b" * 1500, 969, ts=20_000_000)
    rows = [ext(1, 0, "Linux version 6.1.0 (a)", 5, 0)] + [line(1, p) for p in first]
    rows += [ext(9, 0, "Linux version 6.1.0 (b)", 5, 0)] + [line(9, p) for p in second]
    one, two = tell(rows).boots
    assert [e.trace[0][15:31] for e in one.events + two.events] == ["BUG: first boot ", "BUG: second boot"]
    assert one.incomplete == two.incomplete == 0


def test_fragment_with_escaped_newlines_counts_bytes_as_the_kernel_sent_them():
    body = "modules: a b c#012 SUBSYSTEM=x"
    total = len("modules: a b c\n SUBSYSTEM=x") + 1
    first, rest = body[:10], body[10:]
    story = tell([line(1, f"4,9,100,-,ncfrag=0/{total};{first}"), line(1, f"4,9,100,-,ncfrag=10/{total};{rest}")])
    assert story.boots[0].incomplete == 0
    assert story.boots[0].tail[-1].shown().endswith("modules: a b c")


def test_a_lost_fragment_is_emitted_incomplete_after_a_bounded_wait_not_held():
    parts = fragments(600, "y" * 2000, 969)
    joiner = Reassembler(wait=5.0)
    assert joiner.feed(parse_line(line(10, parts[0]))) == []
    assert joiner.feed(parse_line(line(10, parts[2]))) == []
    assert joiner.feed(parse_line(ext(12, 601, "next"))) != []  # only "next": the wait is not over
    out = joiner.feed(parse_line(ext(16, 602, "later")))
    assert [r.incomplete for r in out] == [True, False]
    assert "[... 969 bytes lost ...]" in out[0].text
    # a dead server sends nothing more: a follower's clock releases it
    assert joiner.feed(parse_line(line(20, fragments(603, "w" * 2000, 969)[0]))) == []
    assert [r.incomplete for r in joiner.expire_at(parse_time(at(26)))] == [True]


def test_a_lost_fragment_at_the_end_of_the_file_is_reported_incomplete():
    parts = fragments(700, "z" * 1500, 969)
    story = tell([line(1, parts[0])])
    assert story.boots[0].incomplete == 1


def test_a_panic_split_over_fragments_is_one_panic_event_with_its_trace():
    text = "Kernel panic - not syncing: Fatal exception in interrupt " + "p" * 1200
    lines = [line(1, ext_line) for ext_line in PANIC[:1]]
    lines += [line(1, p.replace("4,", "0,", 1)) for p in fragments(527, text, 969, 143100900)]
    lines += [line(1, p) for p in PANIC[2:]]
    story = tell(lines)
    (event,) = story.boots[0].events
    assert event.kind == "panic" and not event.incomplete
    assert event.trace[0].endswith("p" * 50)
    assert event.trace[-1].endswith("---[ end Kernel panic - not syncing: sysrq triggered crash ]---")
    assert len(event.trace) == 11


def test_sequence_gap_is_counted_and_a_duplicate_is_not():
    story = tell([ext(1, 10, "a"), ext(1, 11, "b"), ext(1, 11, "b"), ext(2, 15, "c"), ext(2, 16, "d")])
    (boot,) = story.boots
    assert (boot.seq_lost, boot.duplicates, boot.records) == (3, 1, 4)
    assert boot.gaps == [{"time": at(2), "kind": "seq", "after": 11, "missing": 3}]


def test_a_late_datagram_is_not_a_reboot_and_not_a_loss():
    story = tell([ext(1, 10, "a"), ext(1, 12, "c"), ext(1, 11, "b"), ext(1, 13, "d")])
    (boot,) = story.boots
    assert (boot.seq_lost, boot.late) == (0, 1)


def test_msgid_gaps_are_losses():
    rows = [ext(1, s, f"m{s}#012 msgid={m}") for s, m in ((1, 100), (2, 101), (5, 104), (9, 105))]
    (boot,) = tell(rows).boots
    assert boot.msgid_lost == 2
    assert [g["kind"] for g in boot.gaps] == ["seq", "msgid", "seq"]


def test_msgid_counts_per_source_across_the_wrap_and_through_the_replay():
    v6 = "2001:db8::21"
    rows = [ext(1, 1, "a#012 msgid=4294967294"), ext(1, 2, "b#012 msgid=4294967295"), ext(1, 3, "c#012 msgid=0")]
    rows += [line(1, "6,3,1030,-;c#012 msgid=7", v6)]  # the same record through a second target
    rows += [ext(1, 4, "d#012 msgid=1"), line(1, "6,5,1050,-;e#012 msgid=8", v6)]
    rows += [ext(2, 1, "a#012 msgid=2"), ext(2, 2, "b#012 msgid=3")]  # the replay when a target is enabled
    rows += [ext(2, 6, "new#012 msgid=4"), ext(2, 7, "late#012 msgid=6"), ext(2, 8, "x#012 msgid=5")]
    (boot,) = tell(rows).boots
    # 4294967295 -> 0 -> 1 is no loss; the replay's ids 2, 3 are no loss; 4 -> 6 lost one, then 5 came late
    assert boot.msgid_lost == 0
    assert [g for g in boot.gaps if g["kind"] == "msgid"] == [
        {"time": at(2), "kind": "msgid", "after": 4, "missing": 1}
    ]


def test_a_sequence_reset_is_a_reboot_with_the_last_words_before_it():
    rows = [ext(1, 0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)", 5, 0)]
    rows += [ext(2, s, f"line {s}") for s in range(1, 526)]
    rows += [line(3, p) for p in PANIC]
    rows += [ext(60, 0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)", 5, 0), ext(60, 1, "x")]
    story = tell(rows)
    first, second = story.boots
    assert (first.ended_by, second.reason, second.release) == ("reboot", "sequence reset", "6.1.0-27-amd64")
    assert first.tail[-1].shown().endswith("---[ end Kernel panic - not syncing: sysrq triggered crash ]---")
    assert [e.kind for e in first.events] == ["panic"] and second.events == []
    assert (first.seq_lost, first.duplicates, second.records) == (0, 0, 2)


@pytest.mark.parametrize(
    "crashed_rows",
    [
        [(0, "Linux version 6.1.0 (a)", 0), (1, "Kernel panic - not syncing: early", 900)],
        [(3, "first seen late", 500), (4, "Kernel panic - not syncing: early", 900)],
    ],
    ids=["from-the-banner", "first-seen-mid-boot"],
)
@pytest.mark.parametrize("banner", [True, False], ids=["banner-arrives", "banner-lost"])
def test_a_reboot_right_after_a_short_boot_is_a_reboot_not_a_late_datagram(crashed_rows, banner):
    rows = [ext(1, seq, text, 5, ts) for seq, text, ts in crashed_rows]
    rows += [ext(9, 0, "Linux version 6.1.0 (b)", 5, 0)] if banner else []
    rows += [ext(9, 1, "ordinary", 6, 800), ext(9, 2, "more", 6, 1200)]
    crashed, rebooted = tell(rows).boots
    assert (crashed.records, crashed.late, rebooted.reason) == (2, 0, "sequence reset")
    assert rebooted.records == (3 if banner else 2)


def test_the_replay_when_an_extended_target_is_enabled_is_not_a_reboot():
    rows = [ext(1, s, f"boot line {s}") for s in range(0, 20)]
    rows += [ext(9, s, f"boot line {s}") for s in range(0, 20)]  # the same records, same timestamps
    rows += [ext(9, 20, "new")]
    (boot,) = tell(rows).boots
    assert (boot.duplicates, boot.records, boot.seq_lost) == (20, 21, 0)


def test_plain_lines_reboot_on_the_banner_or_a_timestamp_reset():
    rows = [
        line(1, "[   10.000000] up"),
        line(2, "[   11.000000] still up"),
        line(9, "[    0.000000] Linux version 6.1"),
    ]
    story = tell(rows)
    assert [b.reason for b in story.boots] == ["first seen", "timestamp reset"]
    assert story.boots[1].banner == "Linux version 6.1"
    untimed = tell([line(1, "up"), line(2, "Linux version 6.1.0"), line(3, "after")])
    assert [b.reason for b in untimed.boots] == ["first seen", "boot banner"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Kernel panic - not syncing: Fatal exception", "panic"),
        ("Oops: 0002 [#1] PREEMPT SMP NOPTI", "oops"),
        ("general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP", "oops"),
        ("BUG: kernel NULL pointer dereference, address: 0000000000000000", "bug"),
        ("kernel BUG at mm/slub.c:4299!", "bug"),
        ("WARNING: CPU: 2 PID: 1613668 at lib/refcount.c:22 refcount_warn_saturate+0x5e/0xe0", "warning"),
        ("watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:1:42]", "soft lockup"),
        ("Watchdog detected hard LOCKUP on cpu 3", "hard lockup"),
        ("INFO: task jbd2/sda1-8:123 blocked for more than 120 seconds.", "hung task"),
        ("stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0", "oom kill"),
        ("Out of memory: Killed process 4242 (stress) total-vm:2000kB", "oom kill"),
        ("mce: [Hardware Error]: Machine check events logged", "machine check"),
        ("rcu: INFO: rcu_sched self-detected stall on CPU", "rcu stall"),
    ],
)
def test_each_kind_of_event_is_named(text, kind):
    (event,) = tell([ext(1, 1, text)]).boots[0].events
    assert event.kind == kind


def test_ordinary_lines_are_no_event():
    rows = [ext(1, 1, "usb 1-1: new high-speed USB device"), ext(1, 2, "the BUG: word inside a line")]
    assert tell(rows).boots[0].events == []


def test_an_oops_keeps_its_whole_trace_until_the_end_marker_then_the_panic_is_its_own_event():
    rows = [
        ext(1, 1, "BUG: kernel NULL pointer dereference, address: 0000000000000000", 1, 5_000_000),
        ext(1, 2, "#PF: supervisor write access in kernel mode", 1, 5_000_100),
        ext(1, 3, "Oops: 0002 [#1] PREEMPT SMP NOPTI", 4, 5_000_200),
        ext(1, 4, "Call Trace:", 4, 5_000_300),
        ext(1, 5, " sysrq_handle_crash+0x16/0x20", 4, 5_000_400),
        ext(1, 6, "---[ end trace 0000000000000000 ]---", 4, 5_000_500),
        ext(1, 7, "Kernel panic - not syncing: Fatal exception", 0, 5_000_600),
        ext(1, 8, "---[ end Kernel panic - not syncing: Fatal exception ]---", 0, 5_000_700),
        ext(1, 9, "after the trace", 6, 5_000_800),
    ]
    oops, panic = tell(rows).boots[0].events
    assert (oops.kind, oops.also, len(oops.trace)) == ("bug", ["oops"], 6)
    assert (panic.kind, len(panic.trace)) == ("panic", 2)


def test_a_trace_ends_where_the_burst_ends():
    rows = [ext(1, 1, "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2", 4, 1_000_000), ext(1, 2, " f+0x1/0x2", 4, 1_000_100)]
    rows += [ext(9, 3, "much later", 6, 9_000_000)]
    (event,) = tell(rows).boots[0].events
    assert len(event.trace) == 2


def test_rotated_and_compressed_files_are_read_in_order(tmp_path):
    old = tmp_path / "console.log-20261129-1764400000.gz"
    with gzip.open(old, "wt") as handle:
        handle.write(ext(1, 1, "from the compressed file") + ext(1, 2, "Oops: 0000 [#1] SMP"))
    new = tmp_path / "console.log"
    new.write_text(ext(2, 3, "---[ end trace 0 ]---") + ext(3, 4, "today"))
    story = tell(read_lines([str(old), str(new)]))
    (boot,) = story.boots
    assert boot.records == 4 and boot.seq_lost == 0
    assert boot.events[0].trace[-1].endswith("---[ end trace 0 ]---")


def test_nothing_a_datagram_holds_reaches_a_terminal():
    hostile = "#033]0;x#007 raw\x1b[2J del\x7f c1\x9b31m bidi\u202e bad\udcff"
    shown = terminal_safe(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert "\u202e" not in shown and "\udcff" not in shown
    assert "#033[2J" in shown and "#177" in shown and "#233" in shown and "\\u202e" in shown and "\\xff" in shown


def write(path, rows: list[str]) -> None:
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write("".join(rows))
    else:
        path.write_text("".join(rows))


def test_rotated_files_of_logrotate_and_the_size_cap_are_read_oldest_first(tmp_path):
    friend = tmp_path / "alice"
    friend.mkdir()
    # names do not sort in time order across the two schemes; each file's first receive time does
    write(friend / "console.log-cap-20261129T230000.123456789Z", [ext(10, 2, "second")])
    write(friend / "console.log-20261130-1764478800.gz", [ext(20, 3, "third")])
    write(friend / "console.log-20261129-1764392400", [ext(1, 1, "first")])
    write(friend / "console.log", [ext(30, 4, "live")])
    write(friend / "kernel.log", [ext(40, 9, "another channel")])
    files = log_files(str(friend))
    assert [f.rsplit("/", 1)[1] for f in files] == [
        "console.log-20261129-1764392400",
        "console.log-cap-20261129T230000.123456789Z",
        "console.log-20261130-1764478800.gz",
        "console.log",
    ]


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_report_as_json_and_text(tmp_path, capsys):
    friend = tmp_path / "alice"
    friend.mkdir()
    rows = [ext(1, 0, "Linux version 6.1.0-27-amd64 (x)", 5, 0), ext(1, 1, "WARNING: CPU: 0 PID: 1 at a.c:1 f")]
    rows += [ext(1, 2, "---[ end trace 0 ]---"), ext(2, 5, "Oops: 0000 [#1] SMP"), ext(2, 6, "\x1b[31mred")]
    write(friend / "console.log", rows)
    status, out, err = run_main(capsys, "alice", "--log-root", str(tmp_path), "--json", "--kind", "oops")
    assert (status, err) == (0, "")
    data = json.loads(out)
    (boot,) = data["boots"]
    assert [e["kind"] for e in boot["events"]] == ["oops"] and boot["seq_gaps"] == 2
    status, out, err = run_main(capsys, "alice", "--log-root", str(tmp_path))
    assert "WARNING at" in out and "OOPS at" in out and "2 missing sequence numbers" in out
    assert "\x1b" not in out and "#033[31mred" in out
    assert re.search(r"last lines \(nothing since, [0-9]+ (min|h|days) ago\):", out), out
    status, out, err = run_main(capsys, "alice", "--log-root", str(tmp_path), "--since", "2099-01-01")
    assert status == 0 and "nothing received in the time asked for" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["../etc"], "'../etc' is not a friend's name"),
        (["carol"], "no friend's directory"),
        (["alice", "--kind", "panic,meltdown"], "--kind: unknown meltdown"),
        (["alice", "--since", "yesterday"], "--since 'yesterday': give 30m, 6h, 2d"),
    ],
)
def test_the_report_says_what_is_wrong(tmp_path, capsys, argv, message):
    (tmp_path / "alice").mkdir()
    status, out, err = run_main(capsys, *argv, "--log-root", str(tmp_path))
    assert status == 2 and out == "" and message in err


def test_a_file_cut_short_or_removed_meanwhile_is_read_in_part_and_named(tmp_path):
    whole = tmp_path / "console.log-20261129-1764400000.gz"
    write(whole, [ext(1, 1, "kept") + ext(1, 2, "also kept")])
    cut = tmp_path / "console.log-20261130-1764480000.gz"
    cut.write_bytes(whole.read_bytes()[:-12])  # logrotate is still writing it
    live = tmp_path / "console.log"
    write(live, [ext(3, 3, "live")])
    skipped: list[str] = []
    story = tell(read_lines([str(whole), str(cut), str(tmp_path / "gone"), str(live)], skipped))
    assert story.boots[0].records >= 3
    assert [reason.split(":", 1)[0] for reason in skipped] == [str(cut), str(tmp_path / "gone")]


def test_a_file_being_compressed_is_read_once_from_its_uncompressed_twin(tmp_path):
    write(tmp_path / "console.log-20261129-1764400000", [ext(1, 1, "once")])
    write(tmp_path / "console.log-20261129-1764400000.gz", [ext(1, 1, "once")])
    write(tmp_path / "console.log", [ext(2, 2, "live")])
    assert [f.rsplit("/", 1)[1] for f in log_files(str(tmp_path))] == ["console.log-20261129-1764400000", "console.log"]


def test_more_characters_that_reorder_or_break_lines_are_escaped():
    shown = terminal_safe("a\u061cb\u2028c\u2029d")
    assert "\u061c" not in shown and "\u2028" not in shown and "\u2029" not in shown


# The bulk reader (read_lines' files read in chunks, ordinary lines taken a run at a time) must tell exactly the
# story the line-by-line reader tells: every test below compares the two reports whole.

EVENT_TEXTS = [
    "Kernel panic - not syncing: Fatal exception",
    "Oops: 0002 [#1] PREEMPT SMP NOPTI",
    "general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP",
    "Unable to handle kernel paging request at ffff",
    "BUG: kernel NULL pointer dereference, address: 0000000000000000",
    "kernel BUG at mm/slub.c:4299!",
    "WARNING: CPU: 2 PID: 1613668 at lib/refcount.c:22 refcount_warn_saturate+0x5e/0xe0",
    "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:1:42]",
    "BUG: soft lockup - CPU#0 stuck for 22s!",
    "NMI watchdog: Watchdog detected hard LOCKUP on cpu 3",
    "Watchdog detected hard LOCKUP on cpu 3",
    "INFO: task jbd2/sda1-8:123 blocked for more than 120 seconds.",
    "stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0",
    "Out of memory: Killed process 4242 (stress) total-vm:2000kB",
    "mce: [Hardware Error]: Machine check events logged",
    "[Hardware Error]: Machine check: Processor context corrupt",
    "Machine check events logged",
    "rcu: INFO: rcu_sched self-detected stall on CPU",
    "INFO: rcu_preempt detected stall on CPU",
    "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)",
]


def stamp(second: float) -> str:
    whole = int(second)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_764_460_800 + whole)) + f".{whole % 1000:06d}+00:00"


def write_files(directory, files: list[list[str]], compress_from: int = 0) -> list[str]:
    """Rotated files as the receiver keeps them, oldest first; the first ones from compress_from on gzip'd."""
    directory.mkdir(exist_ok=True)
    paths = []
    for index, rows in enumerate(files):
        last = index == len(files) - 1
        name = "console.log" if last else f"console.log-202611{index + 1:02d}-{1764460800 + index}"
        data = "".join(rows).encode("utf-8", "surrogateescape")
        if not last and index >= compress_from:
            name += ".gz"
            data = gzip.compress(data[: len(data) // 2]) + gzip.compress(data[len(data) // 2 :])  # two members
        (directory / name).write_bytes(data)
        paths.append(str(directory / name))
    return paths


def both(paths: list[str]) -> dict:
    """The bulk reader's report, checked equal to the line-by-line reader's."""
    bulk = tell(read_lines(paths)).as_dict()
    assert isinstance(read_lines(paths), LineSource)
    lines = tell(list(read_lines(paths))).as_dict()
    assert json.dumps(bulk, sort_keys=True) == json.dumps(lines, sort_keys=True)
    return bulk


def one_file(tmp_path, rows: list[str]) -> dict:
    return both(write_files(tmp_path / "alice", [rows]))


def varied_month(rng: random.Random, days: int, per_day: int) -> list[list[str]]:
    """A month of a friend's lines with every kind of trouble the report knows, at random places."""
    files, sent = [], []
    seq, kernel_us, clock = 0, 0, 0.0
    for _day in range(days):
        rows: list[str] = []
        while len(rows) < per_day:
            clock += rng.random() * 3
            kernel_us += rng.randint(1, 3_000_000)
            roll = rng.random()
            src = SRC if rng.random() > 0.05 else "2001:db8::21"
            words = rng.choice(
                [
                    "usb 1-1: new device",
                    "eth0: link up",
                    "Kernel command line: quiet",
                    "BUG-free",
                    "INFO about",
                    "Linux versionless",
                    "a; b, c",
                    "x#011y",
                    "#033[31mred",
                    "ünïcode",
                ]
            )
            if roll < 0.60:
                seq += 1
                new = [f"6,{seq},{kernel_us},-;{words} {seq}"]
            elif roll < 0.68:
                new = [f"[{kernel_us // 1_000_000:5d}.{kernel_us % 1_000_000:06d}] {words}"]
            elif roll < 0.71:
                new = [f"[{max(0, kernel_us - rng.randint(0, 3_000_000)) / 1e6:12.6f}] plain behind"]
            elif roll < 0.75:
                seq += rng.randint(2, 40)
                new = [f"4,{seq},{kernel_us},-;after a gap"]
            elif roll < 0.77 and sent:
                new = [rng.choice(sent[-40:])]  # a duplicate datagram
            elif roll < 0.78:
                seq += 2
                new = [f"6,{seq},{kernel_us},-;early", f"6,{seq - 1},{kernel_us - 1},-;late"]
            elif roll < 0.80:
                start = seq + 1
                seq += 4
                new = [f"4,{start},{kernel_us},-;{rng.choice(EVENT_TEXTS)}"]
                new += [f"4,{s},{kernel_us + s - start},-; trace+0x{s:x}/0x40" for s in range(start + 1, seq)]
                new += [f"4,{seq},{kernel_us + 9},-;---[ end trace 0 ]---"] if rng.random() < 0.7 else []
            elif roll < 0.81:
                new = [f"[{kernel_us // 1_000_000:5d}.{kernel_us % 1_000_000:06d}] {rng.choice(EVENT_TEXTS)}"]
            elif roll < 0.83:
                seq += 1
                parts = fragments(seq, "long " + "f" * rng.randint(900, 2500), 969, kernel_us)
                rng.shuffle(parts)
                new = parts[: len(parts) - (rng.random() < 0.3)]
            elif roll < 0.86:
                seq += 1
                new = [f"6,{seq},{kernel_us},-;dev{seq}#012 SUBSYSTEM=usb#012 msgid={seq + rng.randint(0, 2)}"]
            elif roll < 0.87:
                seq, kernel_us = 0, 0
                new = ["5,0,0,-;Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP"]
            elif roll < 0.88:
                seq += 1
                new = [f"6.12.95+deb12-amd64,12,{seq},{kernel_us},-;with release"]
            elif roll < 0.885:
                # a reboot whose first records were lost: the numbers go on, the kernel time starts again
                seq += rng.randint(2, 40)
                kernel_us = rng.randint(1_000_000, 4_000_000)
                new = [f"6,{seq},{kernel_us},-;after a lost boot start"]
            elif roll < 0.89 and len(sent) > 12:
                new = sent[-12:]  # the replay when a target is enabled
            elif roll < 0.90:
                new = rng.choice(
                    [
                        [""],
                        ["garbage"],
                        [f"{words} no time"],
                        ["[   1.5] short"],
                        ["text#012"],
                        ["6,x,1,-;bad number"],
                        [f"[    1.000000] x,6,{seq},{kernel_us},-;plain-looking"],
                        ["\udcff\udcfe bytes"],
                        ["1,2,3,4,5;odd header"],
                    ]
                )
            else:
                seq += 1
                new = [f"6,{seq},{kernel_us},c;{words}"]
            for datagram in new:
                row = datagram if datagram in ("", "garbage") else f"{stamp(clock)} {src} {datagram}"
                rows.append(row + "\n")
                sent.append(datagram)
        files.append(rows)
    files[-1][-1] = files[-1][-1].rstrip("\n")  # the live file's last line is still being written
    return files


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bulk_reader_tells_a_varied_month_exactly_as_the_line_reader(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(kmsgview, "READ_SIZE", 4096)  # many chunks, lines cut between reads
    paths = write_files(tmp_path / "alice", varied_month(random.Random(seed), 6, 2500), compress_from=1)
    report = both(paths)
    boots = report["boots"]
    assert report["records"] > 14000 and len(boots) > 5
    assert all(sum(boot[key] for boot in boots) for key in ("seq_gaps", "duplicates", "incomplete", "late"))
    assert {event["kind"] for boot in boots for event in boot["events"]} == set(kmsgview.EVENT_KINDS)


def test_the_bench_month_reads_the_same_both_ways(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_report", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    paths = bench.write_month(tmp_path, 3, 2000)
    report = both(paths)
    assert report["records"] == 6000 and len(report["boots"]) == 3


def ordinary(first: int, last: int, second: float = 1) -> list[str]:
    return [ext(second, s, f"usb 1-1: line {s}") for s in range(first, last + 1)]


def test_a_gap_right_after_a_run_is_counted_where_it_is(tmp_path):
    rows = [*ordinary(1, 50), ext(2, 53, "after the gap"), *ordinary(54, 60, 3), ext(4, 70, "x")]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert (boot["seq_gaps"], boot["records"]) == (11, 59)
    assert boot["gaps"] == [
        {"time": at(2), "kind": "seq", "after": 50, "missing": 2},
        {"time": at(4), "kind": "seq", "after": 60, "missing": 9},
    ]


def test_a_reboot_whose_first_records_were_lost_is_seen_though_the_numbers_go_on(tmp_path):
    # boot 1 up to number 60 at about 90 s; the next boot's first 80 records lost (netconsole came up late), its
    # first to arrive numbered 141 at 4 s: numbers past a gap, the kernel time back to the start
    rows = [ext(1, s, f"usb 1-1: line {s}", 6, s * 1_500_000) for s in range(1, 61)]
    rows += [line(1.5, "[  200.000000] a stale plain copy")]  # a plain line's time is not compared
    rows += [ext(2, s, f"eth0: line {s}", 6, 4_000_000 + s) for s in range(141, 171)]
    first, second = one_file(tmp_path, rows)["boots"]
    assert (first["records"], first["seq_gaps"], first["ended_by"]) == (61, 0, "reboot")
    assert (second["started_by"], second["records"], second["seq_gaps"]) == ("timestamp reset", 30, 0)


# guest1 in the kernel scenario, its link down, a panic, the reboot while guest2 (its friend) rebooted too: the new
# boot's first record to arrive is number 579 at 152 s, past the last boot's 575 at 144 s (copied from console.log)
LOST_BOOT = [
    ("19:01:03.736114", 574, 123163978, 19),
    ("19:01:24.926097", 575, 144356891, 20),
    ("19:04:44.959577", 579, 152319265, 26),
    ("19:05:05.993000", 580, 173353925, 27),
]


def test_a_reboot_whose_numbers_and_kernel_time_go_on_past_a_gap_is_seen_by_the_kernels_clock(tmp_path):
    # receive time less kernel time: 18:59:00 for the first boot, 19:02:12 for the next (the kernel's clock began
    # again), so the gap of three numbers is a reboot, not three lost records
    rows = [
        f"2026-12-01T{clock}+00:00 192.168.77.1 13,{seq},{ts},-;logswap-heartbeat seq={n} host=guest1 interval=20s\n"
        for clock, seq, ts, n in LOST_BOOT
    ]
    first, second = one_file(tmp_path, rows)["boots"]
    assert (first["records"], first["seq_gaps"], first["ended_by"]) == (2, 0, "reboot")
    assert (second["started_by"], second["records"], second["seq_gaps"]) == ("timestamp reset", 2, 0)


def test_a_gap_of_lost_records_keeps_the_boot_however_long_it_lasted(tmp_path):
    # the link down for ten minutes: records lost, the kernel's clock and the receiver's went on together (30 s of
    # drift between them is still one boot)
    rows = [ext(s, s, "before", ts=s * 1_000_000) for s in range(1, 11)]
    rows += [ext(610 + s, 600 + s, "after", ts=(640 + s) * 1_000_000) for s in range(1, 11)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert (boot["records"], boot["seq_gaps"]) == (20, 590)


def test_numbers_that_go_on_without_a_gap_stay_one_boot(tmp_path):
    # the same time step without a gap is not told apart (only jumps are looked at): one boot, as before
    rows = [ext(1, s, f"usb 1-1: line {s}", 6, s * 1_500_000) for s in range(1, 61)]
    rows += [ext(2, s, f"eth0: line {s}", 6, 4_000_000 + s) for s in range(61, 91)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert boot["records"] == 90


def test_an_event_inside_a_run_keeps_its_trace(tmp_path):
    rows = [*ordinary(1, 20), ext(1, 21, "WARNING: CPU: 0 PID: 1 at a.c:1 f", 4, 1000000)]
    rows += [ext(1, s, f" f+0x{s}/0x10", 4, 1_000_000 + s) for s in range(22, 26)]
    rows += [ext(1, 26, "---[ end trace 0 ]---", 4, 1000100), *ordinary(27, 40)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    (event,) = boot["events"]
    assert event["kind"] == "warning" and len(event["trace"]) == 6 and boot["records"] == 40


def test_a_fragment_and_a_dictionary_line_inside_a_run(tmp_path):
    parts = fragments(21, "Oops: long " + "o" * 1500, 969, 1210)  # completed after 22: late, not lost
    rows = [*ordinary(1, 20), line(1, parts[1]), ext(1, 22, "between the pieces"), line(1, parts[0])]
    rows += [ext(1, 23, "usb 1-1: dict#012 SUBSYSTEM=usb#012 msgid=9"), *ordinary(24, 30)]
    rows += [ext(1, 31, "d#012 msgid=12"), *ordinary(32, 33)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert (boot["records"], boot["incomplete"], boot["msgid_lost"], boot["seq_gaps"], boot["late"]) == (33, 0, 2, 0, 1)
    assert [event["kind"] for event in boot["events"]] == ["oops"]


def test_a_reboot_a_replay_and_a_late_datagram_after_runs(tmp_path):
    rows = ordinary(0, 30) + ordinary(0, 30, 2) + ordinary(31, 40, 3)  # the replay: duplicates, not a reboot
    rows += [ext(4, 42, "early"), ext(4, 41, "late", ts=1405), *ordinary(43, 50, 4)]
    rows += [ext(9, 0, "Linux version 6.1.0 (b)", 5, 0), *ordinary(1, 10, 9)]
    first, second = one_file(tmp_path, rows)["boots"]
    assert (first["duplicates"], first["late"], first["seq_gaps"], first["records"]) == (31, 1, 0, 51)
    assert (second["started_by"], second["records"]) == ("sequence reset", 11)
    assert first["last_words"][-1].endswith("usb 1-1: line 50")


def test_plain_lines_among_extended_ones_and_a_timestamp_reset(tmp_path):
    rows = []
    for s in range(1, 40):
        rows += [ext(1, s, f"e{s}", ts=5_000_000 + s * 1000), line(1, f"[    5.{s * 1000:06d}] p{s}")]
    rows += [line(2, "[    0.000001] rebooted")] + [line(2, f"[    0.{s:06d}] q") for s in range(2, 30)]
    first, second = one_file(tmp_path, rows)["boots"]
    assert (first["records"], second["started_by"], second["records"]) == (78, "timestamp reset", 29)


def test_plain_lines_only_a_small_step_back_and_a_reset(tmp_path):
    # a plain-only target: half a second back (two CPUs) is the same boot, more than a second back a new one
    stamps = ["1.000000", "2.000000", "1.500000", "3.000000", "3.000001", "0.200000", "0.300000", "0.400000"]
    rows = [line(1, f"[{stamp:>12}] p{i}") for i, stamp in enumerate(stamps)]
    first, second = one_file(tmp_path, rows)["boots"]
    assert (first["records"], second["started_by"], second["records"]) == (5, "timestamp reset", 3)


def test_a_plain_looking_line_that_parse_line_reads_as_extended_is_left_to_it(tmp_path):
    rows = [line(1, f"[    0.{s:06d}] plain {s}") for s in range(1, 30)]
    rows += [line(1, "[    0.000030] x,6,500,30,-;read as extended"), line(1, "[    0.000031] a; b")]
    rows += [line(1, f"[    0.{s:06d}] plain {s}") for s in range(32, 40)] + [ext(2, 503, "next", ts=40)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert boot["records"] == 40 and "[    0.000030] read as extended" in boot["last_words"]
    assert boot["gaps"] == [{"time": at(2), "kind": "seq", "after": 500, "missing": 2}]


def test_a_run_longer_than_the_ring_still_knows_a_duplicate_of_its_last_records(tmp_path):
    rows = ordinary(1, kmsgview.RING + 100) + ordinary(kmsgview.RING + 90, kmsgview.RING + 100, 2)
    rows += [*ordinary(kmsgview.RING + 101, kmsgview.RING + 102, 3), ext(3, 3, "usb 1-1: line 3")]
    boots = one_file(tmp_path, rows)["boots"]
    assert [(b["records"], b["duplicates"]) for b in boots] == [(kmsgview.RING + 102, 11), (1, 0)]


def taken_whole(monkeypatch) -> list[int]:
    """Counts the lines of each chunk taken without a string per line (_Bulk.numbered_on, numbered_on_with_ids)."""
    taken = []

    def counting(method):
        def counted(self, text, *args):
            done = method(self, text, *args)
            taken.extend([text.count("\n")] if done else [])
            return done

        return counted

    for name in ("numbered_on", "numbered_on_with_ids"):
        monkeypatch.setattr(kmsgview._Bulk, name, counting(getattr(kmsgview._Bulk, name)))
    return taken


def test_duplicates_and_a_late_record_of_chunks_taken_whole_are_known(tmp_path, monkeypatch):
    monkeypatch.setattr(kmsgview, "READ_SIZE", 4096)
    taken = taken_whole(monkeypatch)
    rows = ordinary(1, 3000) + ordinary(2900, 2920, 2) + [ext(3, 2990, "usb 1-1: line 2990")]
    rows += [ext(3, 3001, "after", ts=40000)]
    (boot,) = both(write_files(tmp_path / "alice", [rows]))["boots"]
    assert (boot["records"], boot["duplicates"], boot["seq_gaps"], boot["late"]) == (3001, 22, 0, 0)
    assert len(taken) > 50


def test_a_chunk_taken_whole_that_is_longer_than_the_ring(tmp_path, monkeypatch):
    monkeypatch.setattr(kmsgview, "RING", 64)
    taken = taken_whole(monkeypatch)
    files = [ordinary(1, 10), ordinary(11, 500), [*ordinary(460, 500, 2), *ordinary(501, 510, 3)]]
    files[-1] += [ext(3, 400, "usb 1-1: line 400")]  # further back than the ring: a new boot
    first, second = both(write_files(tmp_path / "alice", files, compress_from=3))["boots"]
    assert [(b["records"], b["duplicates"]) for b in (first, second)] == [(510, 41), (1, 0)]
    assert taken == [490]


def modern(first: int, last: int, msgid: int, source: str = SRC, text: str = "usb 1-1: line") -> list[str]:
    """A 6.17+ sender's lines: host= (userdata) and msgid= (sysdata) on every one."""
    return [
        line(1, f"6,{s},{1000 + s * 10},-;{text} {s}#012 host=alice#012 msgid={msgid + s - first}", source)
        for s in range(first, last + 1)
    ]


def test_a_modern_senders_dictionaries_are_taken_whole_and_its_message_ids_counted(tmp_path, monkeypatch):
    # one file, one chunk: taken whole where both numbers go on from the last; a msgid gap at the chunk's start,
    # two sources in a chunk, an id that does not end the dictionary are left to the line reader
    taken = taken_whole(monkeypatch)
    files = [modern(1, 50, 100), modern(51, 100, 153)]  # three message ids lost, no sequence number
    files += [modern(101, 120, 203, "2001:db8::21") + modern(121, 150, 223)]  # 20 lost from SRC's counter
    files += [modern(151, 152, 253, text="mentions msgid") + modern(153, 200, 255)]
    files += [[ext(1, 201, "id first#012 msgid=303#012 host=alice"), *modern(202, 250, 304)], modern(251, 300, 353)]
    (boot,) = both(write_files(tmp_path / "alice", files, compress_from=len(files)))["boots"]
    assert (boot["records"], boot["seq_gaps"], boot["msgid_lost"]) == (300, 0, 23)
    assert [(gap["after"], gap["missing"]) for gap in boot["gaps"]] == [(149, 3), (202, 20)]
    assert taken == [49, 50, 50]  # the first file once its first line made the boot


def test_a_chunk_of_message_ids_with_a_plain_line_or_a_strangers_line_is_read_line_by_line(tmp_path, monkeypatch):
    # a plain line's head is its time, not a number; a line from another address does not count on SRC's ids
    taken = taken_whole(monkeypatch)
    plain = line(1, "[   12.000345] plain copy#012 msgid=151")
    files = [modern(1, 50, 100), [*modern(51, 60, 150), plain, *modern(61, 70, 160)]]
    files += [[*modern(71, 80, 170), *modern(81, 81, 7, "2001:db8::21"), *modern(82, 90, 180)]]
    (boot,) = both(write_files(tmp_path / "alice", files, compress_from=len(files)))["boots"]
    assert (boot["records"], boot["seq_gaps"], boot["msgid_lost"]) == (91, 0, 0)
    assert taken == [49]


def test_message_ids_among_plain_lines_are_counted_without_reading_each_line(tmp_path, monkeypatch):
    # a plain target beside the extended one: the run is taken in steps, the source's last id set after each;
    # a gap in the ids (or a second source's id) sends the run's dictionary lines one by one, counted exactly
    slow = []
    monkeypatch.setattr(
        kmsgview._Bulk, "line", lambda self, row, line=kmsgview._Bulk.line: slow.append(row) or line(self, row)
    )
    rows = [
        row
        for pair in zip(modern(1, 400, 100), [line(1, f"[   12.{s:06d}] plain {s}") for s in range(400)], strict=True)
        for row in pair
    ]
    later = [*modern(401, 410, 500), *modern(411, 411, 9, "2001:db8::21"), *modern(412, 420, 510)]
    (boot,) = both(write_files(tmp_path / "alice", [rows, later]))["boots"]
    assert (boot["records"], boot["seq_gaps"], boot["msgid_lost"]) == (820, 0, 0)
    assert len([row for row in slow if "msgid" in row]) < 40  # (both() reads every line once more, not counted here)


@pytest.mark.parametrize("tail", ["", "#012 msgid=1"])
def test_a_record_numbered_0_taken_in_a_step_forgets_the_last_boots_fragments(tmp_path, tail):
    # (found by a review's fuzzing) a boot begun by a plain line's time going back: its record 0 goes in a step;
    # the line reader's Reassembler.whole forgets the finished fragments then, so a later fragment that reads like
    # one of them starts a new message in both readers
    rows = [line(1, "6,5,5000000,-,ncfrag=0/11;abcde"), line(1, "6,5,5000000,-,ncfrag=5/11;fghij")]
    rows += [line(2, "[    0.000100] plain"), line(2, f"6,0,200,-;first{tail}"), line(2, "6,1,300,-;next")]
    rows += [line(3, "6,5,5000000,-,ncfrag=0/11;abcde")]
    report = one_file(tmp_path, rows)
    assert report["records"] == 5


def test_dictionaries_without_message_ids_are_ordinary_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(kmsgview, "READ_SIZE", 4096)
    taken = taken_whole(monkeypatch)
    rows = [ext(1, s, f"usb 1-1: line {s}#012 host=alice") for s in range(1, 2000)]
    (boot,) = both(write_files(tmp_path / "alice", [rows]))["boots"]
    assert (boot["records"], boot["seq_gaps"], boot["msgid_lost"]) == (1999, 0, 0)
    assert sum(taken) > 1900


def test_a_message_id_after_a_hash_in_the_text_is_counted_by_both_readers(tmp_path):
    # "CPU#1" before the dictionary: the look-ahead for "#012" must not stop at the first "#" (found in review)
    rows = [ext(1, 1, "a#012 host=alice#012 msgid=100"), ext(1, 2, "CPU#1 up#011x#012 host=alice#012 msgid=102")]
    rows += [ext(1, 3, "c#012 host=alice#012 msgid=103")]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert (boot["msgid_lost"], boot["gaps"][0]["missing"]) == (1, 1)


@pytest.mark.parametrize(
    "datagram", ["6,\u00b2,1015,-;x", "6,2,1020,-;x#012 msgid=\u00b2", "6,2,1020,-,ncfrag=\u00b2/9;x"]
)
def test_digits_that_are_not_decimal_are_not_numbers(tmp_path, datagram):
    # "\u00b2" is a digit to str.isdigit() and not a number to int(): a datagram must not stop the report
    (boot,) = one_file(tmp_path, [ext(1, 1, "before"), line(1, datagram), ext(1, 3, "after")])["boots"]
    assert boot["records"] == 3


def test_a_compressed_file_is_inflated_a_chunk_at_a_time(tmp_path, monkeypatch):
    # a log compresses well: inflated whole, one chunk would hold many megabytes of lines
    monkeypatch.setattr(kmsgview, "READ_SIZE", 4096)
    rows = ordinary(1, 20000)
    paths = write_files(tmp_path / "alice", [rows, [ext(2, 20001, "live")]])
    chunks = list(read_lines(paths).chunks())
    assert max(map(len, chunks)) < 2 * 4096
    assert "".join(chunks).split("\n")[1:] == [row.rstrip("\n") for row in rows] + [ext(2, 20001, "live").rstrip("\n")]


def test_more_gaps_than_listed_are_all_counted(tmp_path):
    rows = [ext(1, s * 3, "x") for s in range(1, kmsgview.MAX_GAPS + 50)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert len(boot["gaps"]) == kmsgview.MAX_GAPS and boot["seq_gaps"] == 2 * (kmsgview.MAX_GAPS + 48)


@pytest.mark.parametrize("text", EVENT_TEXTS)
def test_the_bulk_reader_leaves_every_event_and_banner_to_the_full_parser(text):
    for datagram in (f"6,5,100,-;{text}", f"[    1.000000] {text}", f"6.12.1,6,5,100,-;{text}"):
        for times, hashes, careful in itertools.product((False, True), repeat=3):
            pattern = kmsgview.head_pattern(times, hashes, careful)
            (head,) = pattern.findall("\n" + line(1, datagram).rstrip("\n"))
            assert head == "", (datagram, pattern.pattern)
        for times in (False, True):  # as the bulk reader picks its pattern for a chunk (the oom look-ahead or not)
            assert kmsgview._Bulk.heads("\n" + line(1, datagram).rstrip("\n"), times) == [""], datagram
    for pattern in kmsgview._EVENT_RE.pattern.split("|"):
        first = pattern.split(">", 1)[1] if pattern.startswith("(?P<") else pattern
        first = first.removeprefix("(?:").lstrip("\\")[:1]
        assert first in kmsgview._EVENT_FIRST or pattern.startswith("(?P<e4>[^ ]"), pattern


@pytest.mark.parametrize(("times", "first"), [(True, "7,800"), (False, "7")])
@pytest.mark.parametrize("careful", [False, True])
@pytest.mark.parametrize("hashes", [False, True])
def test_ordinary_lines_are_taken_in_bulk(times, first, careful, hashes):
    text = "\n" + line(1, "6,7,800,-;usb 1-1: ok") + line(1, "[   12.000345] eth0: up").rstrip("\n")
    assert kmsgview.head_pattern(times, hashes, careful).findall(text) == [first, "12.000345"]


def test_a_line_without_two_spaces_does_not_run_into_the_next(tmp_path):
    # the fast pattern's fields end at a space only, so "garbage" would take the next line's receive time as its
    # own: the careful pattern reads that chunk, and each line is what parse_line makes of it
    rows = [*ordinary(1, 3), "garbage\n", "\n", *ordinary(4, 6), "a\tb 10.0.0.1 6,7,1070,-;tab\n", *ordinary(8, 9)]
    (boot,) = one_file(tmp_path, rows)["boots"]
    assert (boot["records"], boot["seq_gaps"]) == (9, 0)


def test_read_lines_is_still_an_iterator_of_lines_and_a_started_one_is_read_on_line_by_line(tmp_path):
    paths = write_files(tmp_path / "alice", [[ext(1, 1, "first"), ext(1, 3, "second")], [ext(2, 4, "live")]])
    lines = read_lines(paths)
    assert next(lines) == ext(1, 1, "first")
    (boot,) = tell(lines).as_dict()["boots"]
    assert (boot["records"], boot["seq_gaps"]) == (2, 0)
    assert list(read_lines(paths).lines()) == [ext(1, 1, "first"), ext(1, 3, "second"), ext(2, 4, "live")]


@pytest.mark.parametrize("damage", [lambda data: data[:-20], lambda data: data + b"x"], ids=["cut", "trailing-garbage"])
def test_a_damaged_compressed_file_is_read_as_far_as_it_goes_and_named_by_both_readers(tmp_path, damage):
    path = tmp_path / "console.log-20261129-1764392400.gz"
    path.write_bytes(damage(gzip.compress(ext(1, 1, "a" * 5000).encode()) + b"\0\0"))
    line_by_line: list[str] = []
    list(read_lines([str(path)], line_by_line))
    in_chunks: list[str] = []
    tell(read_lines([str(path)], in_chunks))
    assert len(line_by_line) == len(in_chunks) == 1
    assert line_by_line[0].startswith(str(path)) and in_chunks[0].startswith(str(path))


def test_the_same_crash_in_a_later_boot_is_joined_again_though_its_pieces_read_the_same():
    # a crash loop: each boot dies of the same long oops, with the same number and kernel time; only its first
    # piece differs (the address); a second piece equal to the last boot's is a new message, not a late duplicate
    def crash(second: float, address: str) -> list[str]:
        text = f"BUG: unable to handle page fault for address: {address} " + "m" * 1200
        total = len(text.encode())
        pieces = [text[off : off + 969] for off in range(0, total, 969)]
        rows = [ext(second, 0, "Linux version 6.1.0-27-amd64 (x) #1 SMP", 5, 0)]
        rows += [ext(second + 0.01, 1, "ordinary", 6, 1000)]
        rows += [ext(second + 0.02, 2, pieces[i], 1, 2000, f",ncfrag={i * 969}/{total}") for i in (1, 0, 1)]
        return rows

    for later in (70, 12):  # a minute later, and within the fragment wait (a crash loop can be that fast)
        story = tell(crash(10, "ffff0001") + crash(later, "ffff0002"))
        bugs = [event for boot in story.boots for event in boot.events]
        assert [(event.kind, event.incomplete) for event in bugs] == [("bug", False), ("bug", False)], later
        assert "ffff0002" in bugs[1].trace[0]
