# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The friend's view of a console.log: whole messages, boots, losses and kernel events.

Pure logic, standard library only: the receiver installs this file next to the ``netconsole-report`` script,
so the report and the unit tests run the same code. Input lines are what the receiver's rsyslog writes:
``<RFC 3339 receive time> <source address> <datagram>``, control characters escaped as ``#ooo``.
A datagram is plain (``[   37.873413] text``) or extended (``6,1234,5678,-;text`` with dictionary lines after
``#012``, ``ncfrag=off/len`` on fragments, a ``release,`` prefix with the ``r`` flag).
"""

from __future__ import annotations

import array
import bisect
import collections
import datetime
import errno
import gzip
import operator
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from typing import BinaryIO

# How long a fragmented message waits for its missing fragments (seconds of receive time), and how many later
# records from the same sender may pass it: then what arrived is emitted, marked incomplete, never held forever.
FRAGMENT_WAIT = 5.0
FRAGMENT_PASSED = 32
MAX_PENDING = 256
# A kernel timestamp this far past the previous line ends a trace (a burst is printed at once).
BURST_GAP_USEC = 2_000_000
MAX_TRACE = 500
LAST_WORDS = 20
MAX_GAPS = 1000
# A sequence number this close below the highest seen, with an older kernel timestamp, arrived late (UDP may reorder).
LATE_WINDOW = 64
MSGID_WRAP = 1 << 32
RING = 16384
# The reliable channel (kernel.log): records whose number is a multiple of this are kept with their text in both
# channels, so a boot of one is matched to the same boot of the other by shared (number, text) pairs.
SAMPLE_STRIDE = 256

_ESCAPE_RE = re.compile(r"#[0-3][0-7][0-7]")
_PLAIN_TS_RE = re.compile(r"\[\s*(\d+)\.(\d{1,9})\] ?")
# Each event's first line starts the record's text (after a short subsystem prefix for some): one anchored match
# per record, which costs a fraction of an unanchored search. In this order: a soft lockup is also a "BUG:".
EVENT_PATTERNS = (
    ("panic", r"Kernel panic - not syncing"),
    ("soft lockup", r"(?:watchdog: )?BUG: soft lockup"),
    ("hard lockup", r"(?:NMI watchdog: )?Watchdog detected hard LOCKUP"),
    ("hung task", r"INFO: task .{1,64} blocked for more than"),
    ("oom kill", r"[^ ]{1,16} invoked oom-killer|Out of memory: Kill"),
    ("machine check", r"mce: \[Hardware Error\]|\[Hardware Error\]: Machine check|Machine check"),
    ("oops", r"Oops[: ]|general protection fault|Unable to handle kernel"),
    ("bug", r"BUG: |kernel BUG at"),
    ("warning", r"WARNING: "),
    ("rcu stall", r"(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected stall"),
)
EVENT_KINDS = tuple(pattern[0] for pattern in EVENT_PATTERNS)
_EVENT_RE = re.compile("|".join(f"(?P<e{i}>{pattern[1]})" for i, pattern in enumerate(EVENT_PATTERNS)))
_END_MARK = "---[ end "
BOOT_BANNER = "Linux version "
# What must never reach a terminal: C0 and DEL, C1, and the bidirectional overrides that reorder what is shown.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def terminal_safe(text: str) -> str:
    """Every control character, DEL, C1 and bidi override written as #ooo or \\uXXXX, so nothing reaches a terminal."""
    return _UNSAFE_RE.sub(_escape_one, text)


def _escape_one(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"#{code:03o}" if code < 0x100 else f"\\u{code:04x}"


def escaped_len(text: str) -> int:
    """Bytes the kernel sent for text as rsyslog wrote it (each #ooo escape was one byte)."""
    return len(text.encode("utf-8", "surrogateescape")) - 3 * len(_ESCAPE_RE.findall(text))


def parse_time(stamp: str) -> float:
    """Seconds since the epoch of an RFC 3339 receive time; 0.0 where it is not one."""
    try:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


_NO_FIELDS: dict[str, str] = {}  # shared, never written: most records have no dictionary


class Record:
    """One kernel record: a datagram as written by rsyslog, or several fragments joined."""

    __slots__ = (
        "extended",
        "fields",
        "frag",
        "incomplete",
        "level",
        "recv",
        "release",
        "seq",
        "source",
        "text",
        "ts",
    )

    def __init__(
        self,
        recv: str,
        source: str,
        text: str,
        seq: int | None = None,
        ts: int | None = None,
        level: int | None = None,
        release: str | None = None,
    ) -> None:
        self.recv = recv
        self.source = source
        self.text = text
        self.seq = seq
        self.ts = ts  # kernel time in microseconds
        self.level = level
        self.release = release
        self.extended = seq is not None
        self.frag: tuple[int, int] | None = None
        self.fields: dict[str, str] = _NO_FIELDS
        self.incomplete = False

    def shown(self) -> str:
        """The record as dmesg shows it: [seconds] text."""
        if self.ts is None:
            return self.text
        return f"[{self.ts // 1_000_000:5d}.{self.ts % 1_000_000:06d}] {self.text}"


def _split_fields(record: Record) -> None:
    """Extended bodies: the text, then one KEY=value per #012-separated line (the kernel's dictionary, userdata)."""
    if "#012" not in record.text:
        return
    first, *rest = record.text.split("#012")
    record.text = first
    record.fields = {}
    for entry in rest:
        key, sep, value = entry.strip().partition("=")
        if sep and key:
            record.fields[key] = value


def parse_line(line: str) -> Record | None:
    """A console.log line as a Record, or None for a line that is not one (empty, or no receive time and source)."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3:
        return None
    recv, source, raw = parts
    semi = raw.find(";")
    if 0 < semi < 160:
        header = raw[:semi].split(",")
        release = None
        if len(header) >= 5 and not header[0].isdecimal():
            release = header.pop(0)
        if len(header) >= 4 and header[0].isdecimal() and header[1].isdecimal() and header[2].isdecimal():
            record = Record(recv, source, raw[semi + 1 :], int(header[1]), int(header[2]), int(header[0]) & 7, release)
            if len(header) > 4:
                for extra in header[4:]:
                    if extra.startswith("ncfrag="):
                        off, slash, total = extra[7:].partition("/")
                        if slash and off.isdecimal() and total.isdecimal():
                            record.frag = (int(off), int(total))
            if record.frag is None and "#012" in record.text:
                _split_fields(record)
            return record
    record = Record(recv, source, raw)
    if raw.startswith("["):
        match = _PLAIN_TS_RE.match(raw)
        if match:
            record.ts = int(match.group(1)) * 1_000_000 + int(match.group(2).ljust(6, "0")[:6])
            record.text = raw[match.end() :]
    if record.text.endswith("#012"):  # a plain console write keeps its newline
        record.text = record.text[:-4]
    return record


# Within a boot, a record's receive time less its kernel time (when the boot began, as the receiver sees it) stays
# put, give or take delivery and clock drift; across a gap in the numbers a move by more than this many seconds
# says the kernel's clock started again: a reboot whose first records were lost, though its numbers (and even its
# kernel times) go on past the last boot's (measured in the kernel scenario: a reboot while the friend was away).
REBOOT_CLOCK = 60.0


def _clock_restarted(recv_before: str | None, ts_before: int | None, recv: str, ts: int | None) -> bool:
    """A record (recv, ts) after a gap comes from a kernel clock that started again since the record before it: its
    kernel time more than a second earlier, or the boot it implies more than REBOOT_CLOCK seconds later."""
    if ts is None or ts_before is None:
        return False
    if ts + 1_000_000 < ts_before:
        return True
    before, now = parse_time(recv_before or ""), parse_time(recv)
    return bool(before and now) and (now - ts / 1e6) - (before - ts_before / 1e6) > REBOOT_CLOCK


def _started_again(boot: Boot, recv: str, ts: int | None) -> bool:
    return _clock_restarted(boot.max_seq_recv, boot.max_seq_ts, recv, ts)


class _Pending:
    __slots__ = ("first", "passed", "pieces", "since", "total")

    def __init__(self, first: Record) -> None:
        self.first = first
        self.pieces: dict[int, str] = {}
        self.total = first.frag[1] if first.frag else 0
        self.since = parse_time(first.recv)
        self.passed = 0

    def covered(self) -> bool:
        pos = 0
        for off in sorted(self.pieces):
            if off > pos:
                return False
            pos = max(pos, off + escaped_len(self.pieces[off]))
        # the kernel counts the record's final newline, which rsyslog drops
        return pos >= self.total - 1

    def joined(self, complete: bool) -> Record:
        record = self.first
        pos, out = 0, []
        for off in sorted(self.pieces):
            if off > pos:
                out.append(f"[... {off - pos} bytes lost ...]")
            out.append(self.pieces[off])
            pos = max(pos, off + escaped_len(self.pieces[off]))
        if not complete and pos < self.total - 1:
            out.append(f"[... {self.total - pos} bytes lost ...]")
        whole = Record(record.recv, record.source, "".join(out), record.seq, record.ts, record.level, record.release)
        whole.incomplete = not complete
        _split_fields(whole)
        return whole


class Reassembler:
    """Joins ncfrag fragments (any order, duplicates dropped); a message missing a fragment is emitted, marked
    incomplete, once FRAGMENT_WAIT seconds of receive time or FRAGMENT_PASSED later records have gone by."""

    def __init__(self, wait: float = FRAGMENT_WAIT, passed: int = FRAGMENT_PASSED) -> None:
        self.wait = wait
        self.passed = passed
        self.pending: dict[tuple, _Pending] = {}
        # the pieces of messages already emitted and when, so a late duplicate fragment (within the wait) does not
        # start a new message; by content and time too, because a later boot reuses the same number and kernel
        # time for another message, whose pieces may read the same as the earlier one's
        self.done: collections.OrderedDict[tuple, tuple[dict[int, str], float]] = collections.OrderedDict()

    def feed(self, record: Record) -> list[Record]:
        out: list[Record] = []
        if self.pending:
            out.extend(self._expire(record))
        if record.frag is None:
            self.whole(record)
            out.append(record)
            return out
        key = (record.source, record.release, record.seq, record.ts)
        now = parse_time(record.recv)
        done = self.done.get(key)
        if (
            done
            and done[0].get(record.frag[0]) == record.text
            and (not now or not done[1] or now - done[1] <= self.wait)
        ):
            return out
        entry = self.pending.get(key)
        if entry is None:
            entry = self.pending[key] = _Pending(record)
        entry.pieces.setdefault(record.frag[0], record.text)
        if record.frag[0] == 0:
            entry.first = record
        if entry.covered():
            del self.pending[key]
            self._done(key, entry, now)
            out.append(entry.joined(True))
        elif len(self.pending) > MAX_PENDING:
            oldest = next(iter(self.pending))
            out.append(self.pending.pop(oldest).joined(False))
        return out

    def whole(self, record: Record) -> None:
        """A record that is no fragment went by (callers that skip feed() for those call this)."""
        if self.done and (record.seq == 0 or record.text.startswith(BOOT_BANNER)):
            # a new boot: its fragments are never late duplicates of the last boot's
            for key in [key for key in self.done if key[0] == record.source]:
                del self.done[key]

    def _done(self, key: tuple, entry: _Pending, when: float) -> None:
        self.done[key] = (entry.pieces, when)
        self.done.move_to_end(key)
        if len(self.done) > MAX_PENDING:
            self.done.popitem(last=False)

    def _expire(self, record: Record) -> list[Record]:
        now = parse_time(record.recv)
        out = []
        for key, entry in list(self.pending.items()):
            if record.frag is None and record.source == entry.first.source:
                entry.passed += 1
            if entry.passed > self.passed or (now and entry.since and now - entry.since > self.wait):
                self._done(key, entry, now)
                out.append(self.pending.pop(key).joined(False))
        return out

    def expire_at(self, now: float) -> list[Record]:
        """What a live follower calls when no line arrived: messages that waited long enough, incomplete."""
        out = []
        for key, entry in list(self.pending.items()):
            if now - entry.since > self.wait:
                out.append(self.pending.pop(key).joined(False))
        return out

    def flush(self) -> list[Record]:
        """End of input: everything still waiting, incomplete."""
        out = [entry.joined(False) for entry in self.pending.values()]
        self.pending.clear()
        return out


class Event:
    __slots__ = ("also", "boot", "incomplete", "kind", "recv", "trace", "truncated")

    def __init__(self, kind: str, record: Record, boot: int) -> None:
        self.kind = kind
        self.also: list[str] = []
        self.recv = record.recv
        self.boot = boot
        self.trace: list[str] = [record.shown()]
        self.incomplete = record.incomplete
        self.truncated = False

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "also": self.also,
            "time": self.recv,
            "boot": self.boot,
            "first": self.trace[0],
            "trace": self.trace,
            "incomplete": self.incomplete,
            "truncated": self.truncated,
        }


class _Chunk:
    """The lines of a chunk (a newline before each), numbered first, first+1, ...: split when one is asked for."""

    __slots__ = ("first", "lines", "text")

    def __init__(self, first: int, text: str) -> None:
        self.first = first
        self.text = text
        self.lines: list[str] | None = None

    def line(self, seq: int) -> str:
        """The line in seq's ring slot: numbered seq, or RING apart from it (the caller compares the numbers);
        of a chunk longer than the ring, its last RING lines are in the ring."""
        lines = self.split()
        base = max(0, len(lines) - RING)
        return lines[base + (seq - self.first - base) % RING]

    def split(self) -> list[str]:
        if self.lines is None:
            self.lines = self.text.split("\n")[1:]
            self.text = ""
        return self.lines


class Boot:
    def __init__(self, index: int, record: Record, reason: str) -> None:
        self.index = index
        self.reason = reason  # first, sequence reset, boot banner, timestamp reset
        self.first = record.recv
        self.last = record.recv
        self.release = record.release
        self.banner: str | None = None
        self.source = record.source
        self.records = 0
        self.incomplete = 0
        self.duplicates = 0
        self.late = 0
        self.seq_lost = 0
        self.msgid_lost = 0
        self.gaps: list[dict] = []
        self.tail: collections.deque[Record] = collections.deque(maxlen=LAST_WORDS)
        self.events: list[Event] = []
        self.max_seq: int | None = None
        self.max_seq_ts: int | None = None  # the kernel time of the record numbered max_seq
        self.max_seq_recv: str | None = None  # and its receive time
        self.first_seq: int | None = None  # a late record lies between this boot's first and highest numbers
        self.last_ts: int | None = None
        self.last_msgid: dict[str, int] = {}
        self.ended_by: str | None = None  # "reboot" once the next boot was seen
        # kept only when kernel.log is read beside console.log (Story(track=True)): where the numbers jumped, as
        # flat (after, next) pairs, every one (gaps keeps at most MAX_GAPS); late numbers that filled a jump;
        # and the text of every SAMPLE_STRIDE-th number, which matches this boot to kernel.log's
        self.holes: list[int] | None = None
        self.filled: list[int] | None = None
        self.sample: dict[int, str] | None = None
        # the last record numbered seq % RING: (seq, ts, text), or for the bulk reader's runs the console.log line,
        # parsed only when asked about (a few times a boot), not for every line. A tuple, not the Record: tuples
        # of numbers and text leave the garbage collector's lists, Records would stay in them.
        self._seen: list[tuple[int, int | None, str] | str | _Chunk | None] = [None] * RING

    def _seen_record(self, seq: int) -> tuple[int, int | None, str] | None:
        """(number, kernel time, text) of the last record in seq's slot, if it has that number."""
        other = self._seen[seq % RING]
        if isinstance(other, _Chunk):
            other = other.line(seq)
        if isinstance(other, str):
            record = parse_line(other)
            other = self._seen[seq % RING] = (record.seq, record.ts, record.text)
        return other if other is not None and other[0] == seq else None

    def seen(self, record: Record) -> bool:
        """The same record (number, kernel time, text) arrived before in this boot (within the last RING)."""
        return self._seen_record(record.seq) == (record.seq, record.ts, record.text)

    def seen_number(self, seq: int) -> bool:
        """A record with this number arrived in this boot (within the last RING)."""
        return self._seen_record(seq) is not None

    def remember(self, seqs: list[int], lines: list[str], consecutive: bool) -> None:
        """Records numbered seqs (increasing), their console.log lines, into the ring as _count would one by one."""
        ring = self._seen
        if not consecutive:
            for seq, line in zip(seqs, lines):  # noqa: B905 (strict= needs Python 3.10; receivers may run 3.9)
                ring[seq % RING] = line
            return
        first = seqs[0]
        if len(lines) > RING:  # only the last RING can still be asked about
            first += len(lines) - RING
            lines = lines[-RING:]
        start = first % RING
        head = min(len(lines), RING - start)
        ring[start : start + head] = lines[:head]
        ring[: len(lines) - head] = lines[head:]

    def remember_chunk(self, first: int, count: int, text: str) -> _Chunk:
        """Records numbered first..first+count-1, the lines of a chunk, into the ring: the chunk in each slot."""
        chunk = _Chunk(first, text)
        if count > RING:  # only the last RING can still be asked about
            first += count - RING
            count = RING
        start = first % RING
        head = min(count, RING - start)
        ring = self._seen
        ring[start : start + head] = [chunk] * head
        ring[: count - head] = [chunk] * (count - head)
        return chunk

    def as_dict(self) -> dict:
        return {
            "boot": self.index,
            "started_by": self.reason,
            "first": self.first,
            "last": self.last,
            "release": self.release,
            "banner": self.banner,
            "source": self.source,
            "records": self.records,
            "incomplete": self.incomplete,
            "duplicates": self.duplicates,
            "late": self.late,
            "seq_gaps": self.seq_lost,
            "msgid_lost": self.msgid_lost,
            "gaps": self.gaps,
            "ended_by": self.ended_by,
            "last_words": [record.shown() for record in self.tail],
            "events": [event.as_dict() for event in self.events],
        }


def _count_msgid(boot: Boot, record: Record) -> None:
    """msgid (sysdata, newer kernels): a per-target 32-bit counter, one per message sent, so per source address
    (two targets to two of the receiver's addresses count apart); a gap is a loss, a lower number a late one."""
    msgid = record.fields.get("msgid")
    if msgid is None or not msgid.isdecimal():
        return
    value = int(msgid)
    last = boot.last_msgid.get(record.source)
    if last is not None:
        step = (value - last) % MSGID_WRAP
        if 1 < step < MSGID_WRAP // 2:
            boot.msgid_lost += step - 1
            if len(boot.gaps) < MAX_GAPS:
                boot.gaps.append({"time": record.recv, "kind": "msgid", "after": last, "missing": step - 1})
        elif step >= MSGID_WRAP // 2:  # behind the last one: arrived late, counted lost before
            boot.msgid_lost = max(0, boot.msgid_lost - 1)
            return
    boot.last_msgid[record.source] = value


class Story:
    """Whole records in, boots, events and losses out; fed in arrival order."""

    def __init__(self, track: bool = False) -> None:
        self.boots: list[Boot] = []
        self.open: Event | None = None
        self.records = 0
        self._held: list[Record] = []
        self.track = track  # keep what the comparison with kernel.log needs (Boot.holes, filled, sample)

    @property
    def boot(self) -> Boot | None:
        return self.boots[-1] if self.boots else None

    def _new_boot(self, record: Record, reason: str) -> Boot:
        self._close()
        if self.boots:
            self.boots[-1].ended_by = "reboot"
        boot = Boot(len(self.boots) + 1, record, reason)
        if self.track:
            boot.holes, boot.filled, boot.sample = [], [], {}
        self.boots.append(boot)
        return boot

    def _close(self) -> None:
        self.open = None

    def feed(self, record: Record) -> None:
        self.records += 1
        if self._held:
            self._resolve(record)
            return
        boot = self.boot
        seq = record.seq
        if boot is None:
            boot = self._new_boot(record, "first seen")
        elif seq is not None:
            top = boot.max_seq
            if top is not None and seq <= top:
                if boot.seen(record):
                    # a duplicate datagram, or the replay of the ring buffer when an extended target is enabled;
                    # or a reboot whose first records read the same (seq 0, time 0, the same banner): held until
                    # a record tells which
                    self._held.append(record)
                    return
                if (
                    boot.first_seq is not None
                    and seq > boot.first_seq
                    and top - seq <= LATE_WINDOW
                    and record.ts is not None
                    and boot.last_ts is not None
                    and record.ts <= boot.last_ts
                    and not boot.seen_number(seq)  # a number already seen with other content is a new boot
                ):
                    boot.late += 1
                    boot.seq_lost = max(0, boot.seq_lost - 1)
                    if boot.filled is not None:
                        boot.filled.append(seq)
                else:
                    boot = self._new_boot(record, "sequence reset")
            elif top is not None and seq > top + 1 and _started_again(boot, record.recv, record.ts):
                # a number past a gap from a kernel whose clock started again: a reboot whose first records were
                # lost, its numbers past the last boot's (a plain line's time is not compared, it may be a stale
                # copy). Without a gap it is not seen (the bulk reader compares times only where numbers jump).
                boot = self._new_boot(record, "timestamp reset")
        elif record.ts is not None and boot.last_ts is not None and record.ts + 1_000_000 < boot.last_ts:
            boot = self._new_boot(record, "timestamp reset")
        self._take(boot, record)

    def _take(self, boot: Boot, record: Record) -> None:
        text = record.text
        if text.startswith(BOOT_BANNER):
            if boot.records:  # a banner inside a boot that has lines: a reboot no other sign showed
                boot = self._new_boot(record, "boot banner")
            boot.banner = text
            if boot.release is None:
                boot.release = text[len(BOOT_BANNER) :].split(" ", 1)[0]
        self._count(boot, record)
        self._classify(boot, record)

    def _resolve(self, record: Record) -> None:
        """Held records that read like ones already seen: a replay if the next record is new or seen too,
        a reboot (the held records start it) if it was not seen but its number was."""
        boot = self.boot
        held = self._held
        if record.seq is not None and record.seq <= boot.max_seq:
            if boot.seen(record):
                held.append(record)
                return
            self._held = []
            boot = self._new_boot(held[0], "sequence reset")
            for old in held:
                self._take(boot, old)
            self._take(boot, record)
            return
        boot.duplicates += len(held)
        for old in held:  # the replay used message ids too
            if old.fields:
                _count_msgid(boot, old)
        self._held = []
        self.records -= 1
        self.feed(record)

    def finish(self) -> None:
        """End of input: records still held were a replay (nothing new came after them)."""
        if self._held:
            self.boot.duplicates += len(self._held)
            for old in self._held:
                if old.fields:
                    _count_msgid(self.boot, old)
            self._held = []
        self._close()

    def _count(self, boot: Boot, record: Record) -> None:
        boot.records += 1
        boot.last = record.recv
        if record.incomplete:
            boot.incomplete += 1
        seq = record.seq
        if seq is not None:
            top = boot.max_seq
            if top is not None and seq > top + 1:
                boot.seq_lost += seq - top - 1
                if len(boot.gaps) < MAX_GAPS:
                    boot.gaps.append({"time": record.recv, "kind": "seq", "after": top, "missing": seq - top - 1})
                if boot.holes is not None:
                    boot.holes += (top, seq)
            if boot.sample is not None and seq % SAMPLE_STRIDE == 0:
                boot.sample[seq] = record.text
            if top is None or seq > top:
                boot.max_seq = seq
                boot.max_seq_ts = record.ts
                boot.max_seq_recv = record.recv
            if boot.first_seq is None:
                boot.first_seq = seq
            boot._seen[seq % RING] = (seq, record.ts, record.text)
        if record.fields:
            _count_msgid(boot, record)
        if record.ts is not None:
            previous = boot.last_ts
            if self.open is not None and previous is not None and record.ts - previous > BURST_GAP_USEC:
                self._close()
            boot.last_ts = record.ts
        boot.tail.append(record)

    def _classify(self, boot: Boot, record: Record) -> None:
        match = _EVENT_RE.match(record.text)
        event = self.open
        if match is not None and not (event is None and record.text.startswith(_END_MARK)):
            kind = EVENT_KINDS[int(match.lastgroup[1:])]
            if event is None or (kind == "panic" and event.kind != "panic"):
                event = self.open = Event(kind, record, boot.index)
                boot.events.append(event)
                return
            if kind != event.kind and kind not in event.also:
                event.also.append(kind)
        if event is None:
            return
        if len(event.trace) >= MAX_TRACE:
            event.truncated = True
            self._close()
            return
        event.trace.append(record.shown())
        event.incomplete = event.incomplete or record.incomplete
        if _END_MARK in record.text:
            self._close()

    def as_dict(self) -> dict:
        return {"records": self.records, "boots": [boot.as_dict() for boot in self.boots]}


READ_SIZE = 1 << 20  # bytes read (and, compressed, inflated) at a time: gzip.open inflates 8 KiB per call


class LineSource:
    """The lines of console.log files in order. Iterated, it yields each line as before (bytes that are not UTF-8
    kept by surrogateescape); tell() instead reads its chunks(): the same lines, many per string, which the bulk
    reader takes without a Python object per line."""

    def __init__(self, paths: Iterable[str], skipped: list[str] | None = None) -> None:
        self.paths = list(paths)
        # a file that vanished (the cap removed it) or ends short (logrotate is compressing it) is read as far as
        # it goes and named here; a file the caller may not read stops the report (PermissionError)
        self.skipped = skipped if skipped is not None else []
        self._lines: Iterator[str] | None = None  # once started, it is an iterator like the generator it was

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._lines is None:
            self._lines = self._read()
        return next(self._lines)

    @property
    def started(self) -> bool:
        return self._lines is not None

    def lines(self) -> Iterator[str]:
        """The lines as a plain generator (which tell() takes one by one, as it did before the bulk reader)."""
        return self._read()

    def _read(self) -> Iterator[str]:
        for path in self.paths:
            opener = gzip.open if path.endswith(".gz") else open
            try:
                with opener(path, "rb") as handle:
                    for raw in handle:
                        yield raw.decode("utf-8", "surrogateescape")
            except PermissionError:
                raise
            except (OSError, EOFError) as err:
                self._skip(path, err)

    def _skip(self, path: str, err: BaseException) -> None:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        self.skipped.append(f"{path}: {reason}")

    def chunks(self) -> Iterator[str]:
        """Whole lines, many per chunk: a newline before each line and none after the last, so one pattern
        anchored on the newline finds every line start, the first included."""
        for path in self.paths:
            pending = b"\n"
            try:
                for block in _blocks(path):
                    data = pending + block
                    cut = data.rfind(b"\n")
                    if cut > 0:
                        yield str(memoryview(data)[:cut], "utf-8", "surrogateescape")
                    pending = data[cut:]
            except PermissionError:
                raise
            except (OSError, EOFError) as err:
                self._skip(path, err)
            if pending != b"\n":
                yield pending.decode("utf-8", "surrogateescape")


def _blocks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        if path.endswith(".gz"):
            yield from _inflate(handle)
            return
        block = handle.read(READ_SIZE)
        while block:
            yield block
            block = handle.read(READ_SIZE)


def _inflate(handle: BinaryIO) -> Iterator[bytes]:
    """A gzip file's members in turn, as gzip.open reads them (zero padding between members skipped; a cut or
    damaged file raises what gzip raises), with larger reads; at most READ_SIZE bytes out at a time (a megabyte of
    a log compresses to far less: unbounded, one chunk would hold many megabytes of lines)."""
    data = handle.read(READ_SIZE)
    while data:
        inflate = zlib.decompressobj(31)
        while True:
            while True:
                try:
                    out = inflate.decompress(data, READ_SIZE)
                except zlib.error as err:
                    raise gzip.BadGzipFile(str(err)) from None
                data = inflate.unconsumed_tail
                if out:
                    yield out
                if inflate.eof or (not data and len(out) < READ_SIZE):
                    break
            if inflate.eof:
                break
            data = handle.read(READ_SIZE)
            if not data:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        data = inflate.unused_data.lstrip(b"\0")
        while not data:
            more = handle.read(READ_SIZE)
            if not more:
                return
            data = more.lstrip(b"\0")
        if len(data) < 2:
            data += handle.read(READ_SIZE)
        if data[:2] != b"\037\213":
            raise gzip.BadGzipFile(f"Not a gzipped file ({data[:2]!r})")


def read_lines(paths: Iterable[str], skipped: list[str] | None = None) -> LineSource:
    """Lines of the files in order, gzip ones decompressed; bytes that are not UTF-8 kept (surrogateescape).
    Files cut short or gone are read as far as they go and named in ``skipped``."""
    return LineSource(paths, skipped)


# The bulk reader. Most lines change nothing but counters: an extended line numbered one past the last, or a plain
# line whose time did not go back, with no fragment, dictionary, event or banner. One pattern over a whole chunk
# picks those (the "head", seq,ts or seconds.micro, stays empty for any other line), the numbers are checked for
# a whole run at once, and a run updates the boot in one step; every other line goes through parse_line and Story
# one by one, exactly as before. The unit tests compare the two readers' reports.
_EVENT_START = "|".join(pattern for kind, pattern in EVENT_PATTERNS)
# The first characters of every event pattern and the banner, so the exact patterns run only after one of them;
# the one pattern that may start with any character (" invoked oom-killer") is tried apart. A new event pattern
# must start with one of these (test_the_bulk_reader_leaves_every_event_and_banner_to_the_full_parser).
_EVENT_FIRST = "KwBNWIOmM[gUkrL"


def _head_pattern(times: bool, hashes: bool, careful: bool, oom: bool = True) -> re.Pattern:
    """One line's head, or "" where the line must go through the full parser. times: an extended line's head is
    "seq,ts" (else "seq" alone: its time is read from the line where a step needs it); a plain line's is
    "seconds.micro". hashes: the chunk has "#012" (the look-ahead for it costs a scan of each line). careful:
    fields end at any white space, never a newline; otherwise at a space only, as parse_line's split(" ", 2)
    cuts them and faster, but a line without two spaces runs into the next (chunk() sees that and uses this).
    oom: the chunk has _OOM somewhere (else its look-ahead, a fifth of the time, is left out)."""
    field = r"\S*" if careful else "[^ ]*"
    extended = r"[0-9]{1,20},[0-9]{1,20}(?=,)" if times else r"[0-9]{1,20}(?=,[0-9]{1,20},)"
    return re.compile(
        rf"\n(?:{field} {field} "  # receive time and source
        # each kind looks ahead just far enough that the head after it can only be its own kind
        rf"(?:{_LEVEL},(?=[0-9]{{1,20}},)|\[ *(?=[0-9]{{1,20}}\.))"
        rf"({extended}|[0-9]{{1,20}}\.[0-9]{{6}}(?=\]))"  # the head
        rf"(?:{'' if times else ',[0-9]{1,20}'},[^,;\n]{{0,16}};|\](?: |(?! )))"  # (a plain line with a ";": _Bulk.run)
        + (_NO_EVENT if oom else _NO_EVENT_BUT_OOM)
        + (r"(?![^\n]*#012)" if hashes else "")  # no dictionary line, no escaped newline
        + r"|)"
    )


# An extended header's level (after the release, which is not all digits, with the r flag).
_LEVEL = r"(?:[0-9]{1,3}|(?![0-9]*,)[A-Za-z0-9._+~-]{1,64},[0-9]{1,3})"
# At the text's start: no event, no banner (the first characters first, so the exact patterns run only after them).
_EVENT_OR_BANNER = rf"(?=[{re.escape(_EVENT_FIRST)}])(?:{_EVENT_START}|{BOOT_BANNER})"
_OOM = " invoked oom-killer"
_NO_EVENT = rf"(?!{_EVENT_OR_BANNER}|[^ \n]{{1,16}}{_OOM})"
_NO_EVENT_BUT_OOM = rf"(?!{_EVENT_OR_BANNER})"  # for a chunk without _OOM (its look-ahead costs a fifth)


def _numbers_pattern(source: str, oom: bool) -> re.Pattern:
    """An ordinary extended line's sequence number where it comes from source, else "" (head_pattern for a chunk
    with message ids: no plain alternative, which costs a fifth of its time)."""
    no_event = _NO_EVENT if oom else _NO_EVENT_BUT_OOM
    return re.compile(
        rf"\n(?:[^ ]* {re.escape(source)} {_LEVEL},([0-9]{{1,20}}),[0-9]{{1,20}},[^,;\n]{{0,16}};{no_event}|)"
    )


# A 6.17+ sender's line whose dictionary ends with its msgid (the kernel appends it after userdata and other
# sysdata): the id. At most one per line (it ends there), so as many as lines means every line ends with one.
_MSGID_AT_END = re.compile(r"#012 msgid=([0-9]{1,10})(?=\n|\Z)")


_HEAD_PATTERNS = {}  # compiled when first used: the follow service imports this module and never needs them
_MAX_HEAD_PATTERNS = 64  # and one per source address with message ids: a friend has a few addresses


def _compiled(key: tuple, make: Callable[[], re.Pattern]) -> re.Pattern:
    """The pattern kept under key, made (and kept) the first time it is asked for."""
    if key not in _HEAD_PATTERNS:
        if len(_HEAD_PATTERNS) >= _MAX_HEAD_PATTERNS:
            _HEAD_PATTERNS.clear()
        _HEAD_PATTERNS[key] = make()
    return _HEAD_PATTERNS[key]


def head_pattern(times: bool, hashes: bool, careful: bool = False, oom: bool = True) -> re.Pattern:
    return _compiled((times, hashes, careful, oom), lambda: _head_pattern(times, hashes, careful, oom))


def _ids_pattern(source: str) -> re.Pattern:
    """Each line's msgid where it ends a line from source, else "" (the mixed runs of _Bulk.ids_going_on)."""
    return re.compile(rf"\n(?:[^ ]* {re.escape(source)} [^\n]*#012 msgid=([0-9]{{1,10}})(?=\n|\Z)|)")


def _first_source(text: str) -> str:
    """The source address of a chunk's first line (the chunk starts with a newline)."""
    after_time = text.find(" ") + 1
    return text[after_time : text.find(" ", after_time)]


def _one_by_one(first: int, numbers: Sequence[str]) -> bool:
    """The numbers (decimal text) are first, first + 1, ... (the ends first: most chunks that are not, fail there);
    False where one is not a number (a plain line's time)."""
    try:
        if int(numbers[0]) != first or int(numbers[-1]) != first + len(numbers) - 1:
            return False
        return list(map(int, numbers)) == list(range(first, first + len(numbers)))
    except ValueError:
        return False


class _Bulk:
    """Feeds a Story from chunks: runs of ordinary lines in one step each, every other line one by one."""

    def __init__(self, story: Story, joiner: Reassembler) -> None:
        self.story = story
        self.joiner = joiner
        # the last chunk had plain lines: an extended head carries its time too, since a plain line's time is
        # compared with the line before it (an extended-only chunk reads a time only where a step needs one)
        self.times = False

    @staticmethod
    def heads(text: str, times: bool, dictionaries: bool = True) -> list[str]:
        """One head per line (a group per line would cost a tuple per line). dictionaries: a line with one
        (#012) may be ordinary (only its msgid counts, and a chunk without one has nothing to count)."""
        hashes = not dictionaries and "#" in text and "#012" in text  # (one character is found faster)
        oom = _OOM in text
        heads = head_pattern(times, hashes, oom=oom).findall(text)
        if len(heads) != text.count("\n"):  # a line without two spaces ran into the next one
            heads = head_pattern(times, hashes, careful=True, oom=oom).findall(text)
        return heads

    def chunk(self, text: str) -> None:
        counted = "#012" in text and "msgid" in text  # message ids to count: whole, or each such line by itself
        if counted and not self.times and self.numbered_on_with_ids(text):
            return
        times = self.times
        heads = self.heads(text, times)
        plain = "." in "".join(heads)
        if plain and not times:
            times = True
            heads = self.heads(text, times)
        self.times = plain
        if not counted and not times and "" not in heads and self.numbered_on(text, heads):
            return
        lines = text.split("\n")
        del lines[0]  # the chunk starts with a newline
        self.take_lines(lines, heads, times, counted)

    def take_lines(self, lines: list[str], heads: list[str], times: bool, counted: bool) -> None:
        """Lines with their heads: the odd ones (empty head) one by one, the runs between them in steps."""
        start, end = 0, len(heads)
        while start < end:
            try:
                odd = heads.index("", start)
            except ValueError:
                odd = end
            if start < odd:
                if counted:
                    self.counted_run(lines[start:odd], heads[start:odd], times)
                else:
                    self.run(lines[start:odd], heads[start:odd], times)
            if odd < end:
                self.line(lines[odd])
            start = odd + 1

    def counted_run(self, lines: list[str], heads: list[str], times: bool) -> None:
        """Ordinary lines among which some carry a msgid: one by one while a record waits (an open trace), then
        the rest whole if both numbers go on (numbered_on), else its lines with a dictionary one by one."""
        pos = 0
        while pos < len(lines) and self.ready() is None:
            self.line(lines[pos])
            pos += 1
        if pos == len(lines):
            return
        rest = lines[pos:] if pos else lines
        text = "\n" + "\n".join(rest)
        if not times and self.numbered_on_with_ids(text):
            return
        rest_heads = heads[pos:] if pos else heads
        ids = self.ids_going_on(rest, rest_heads, text)
        if ids is None:
            self.take_lines(rest, self.heads(text, times, dictionaries=False), times, counted=False)
        else:
            self.run(rest, rest_heads, times, ids)

    def forget_fragments(self, run: _Run, pos: int, end: int) -> None:
        """What the line reader's Reassembler.whole does for each record that is no fragment: a record numbered 0
        (a new boot) forgets its source's finished fragmented messages (found by a review's fuzzing)."""
        ext, ext_end = run.ext_index(pos), run.ext_index(end)
        if 0 in run.seqs[ext:ext_end]:
            for index in range(ext, ext_end):
                if run.seqs[index] == 0:
                    self.joiner.whole(parse_line(run.lines[run.row(index)]))

    def ids_going_on(self, lines: list[str], heads: list[str], text: str) -> tuple[str, list[str], int] | None:
        """For a run whose every msgid ends an extended line (plain lines have none) from the first line's source,
        the ids going on one by one from that source's last: the source, each line's id ("" for none) and the
        first id. run() sets the last after each step it takes whole, as _count_msgid would have, since no id is
        missed or repeated. None for any other run (its lines with a dictionary go one by one)."""
        source = _first_source(text)
        marks = _compiled(("ids", source), lambda: _ids_pattern(source)).findall(text)
        if len(marks) != len(lines):
            return None
        values = list(map(int, filter(None, marks)))
        if not values or text.count("msgid") != len(values):  # an id elsewhere, or another source's
            return None
        if "." in "".join(heads) and any(marks[i] for i, head in enumerate(heads) if "." in head):
            return None  # a plain line's: the line reader counts none
        last = self.ready().last_msgid.get(source)
        first = values[0] if last is None else (last + 1) % MSGID_WRAP
        if first + len(values) > MSGID_WRAP or values != list(range(first, first + len(values))):
            return None
        return source, marks, first

    def numbered_on(self, text: str, heads: list[str]) -> bool:
        """A chunk of ordinary extended lines numbered on from the boot's highest without a gap (the usual chunk)
        is taken as _Run.take would take it, without a string per line: its lines are split only if a later
        record asks about one of them (Boot.remember_chunk). False (nothing taken) for any other chunk."""
        boot = self.whole_boot()
        if boot is None or not _one_by_one(boot.max_seq + 1, heads):
            return False
        self.take_whole(boot, text, len(heads), None)
        return True

    def numbered_on_with_ids(self, text: str) -> bool:
        """numbered_on for a chunk with message ids: taken whole where every line is an ordinary extended line from
        the first line's source whose dictionary ends with a msgid (the entry _split_fields keeps, the last), and
        the ids go on one by one from that source's last, so that _count_msgid would change only its last id."""
        boot = self.whole_boot()
        if boot is None:
            return False
        source, oom = _first_source(text), _OOM in text
        lines = text.count("\n")
        seqs = _compiled((source, oom), lambda: _numbers_pattern(source, oom)).findall(text)
        if len(seqs) != lines or "" in seqs or not _one_by_one(boot.max_seq + 1, seqs):
            return False
        ids = _MSGID_AT_END.findall(text)
        if len(ids) != lines:
            return False
        last = boot.last_msgid.get(source)
        first = int(ids[0]) if last is None else (last + 1) % MSGID_WRAP
        if first + lines > MSGID_WRAP or not _one_by_one(first, ids):
            return False
        self.take_whole(boot, text, lines, (source, first + lines - 1))
        return True

    def whole_boot(self) -> Boot | None:
        """The boot a whole chunk may go into: ready, and numbered already."""
        boot = self.ready()
        return None if boot is None or boot.max_seq is None else boot

    def take_whole(self, boot: Boot, text: str, count: int, msgid: tuple[str, int] | None) -> None:
        """The count lines of text, numbered on from the boot's highest, as _Run.take would take them."""
        last_words = text.rsplit("\n", LAST_WORDS)[1:]
        last = last_words[-1]
        first = boot.max_seq + 1
        self.story.records += count
        boot.records += count
        boot.last = last.split(" ", 1)[0]
        boot.max_seq = first + count - 1
        boot.last_ts = boot.max_seq_ts = parse_line(last).ts
        boot.max_seq_recv = boot.last
        chunk = boot.remember_chunk(first, count, text)
        if boot.sample is not None:  # kernel.log beside it: every SAMPLE_STRIDE-th number's text, as _count keeps it
            for seq in range(-(-first // SAMPLE_STRIDE) * SAMPLE_STRIDE, first + count, SAMPLE_STRIDE):
                boot.sample[seq] = parse_line(chunk.split()[seq - first]).text
        boot.tail.extend(map(parse_line, last_words))
        if msgid is not None:
            boot.last_msgid[msgid[0]] = msgid[1]

    def line(self, line: str) -> None:
        """One line the slow way: what tell() does for every line of a plain list."""
        record = parse_line(line)
        if record is None:
            return
        if record.frag is None and not self.joiner.pending:
            self.joiner.whole(record)
            self.story.feed(record)
            return
        for whole in self.joiner.feed(record):
            self.story.feed(whole)

    def ready(self) -> Boot | None:
        """The boot a run may go into: none while anything waits (fragments, held records, an open trace)."""
        story = self.story
        if story.open is not None or story._held or self.joiner.pending or not story.boots:
            return None
        return story.boots[-1]

    def run(
        self, lines: list[str], heads: list[str], times: bool = True, ids: tuple[str, list[str], int] | None = None
    ) -> None:
        """Ordinary lines (heads all set): taken in steps as long as the numbers allow; the line that stops a
        step (a sequence gap, a number already seen, a plain time that went back) goes the slow way. ids: the
        source, each line's msgid and the first (ids_going_on): the last is set after each step taken whole."""
        # (list comprehensions, not map() of methods: on Python 3.11 they cost half as much per line)
        joined = ",".join(heads) if times else ""
        if "." in joined and joined.count(".") == len(heads):  # plain only: all in C while the times grow
            times = list(map(int, joined.replace(".", "").split(",")))  # seconds.micro (six digits) as micro
            extended, seqs, rows = [False] * len(heads), [], []
            stops = []
            if times != sorted(times):
                stops = [i for i in range(1, len(times)) if times[i] + 1_000_000 < times[i - 1]]
            slow = [i for i, line in enumerate(lines) if ";" in line] if ";" in "".join(lines) else []
            if slow:
                stops = sorted({*stops, *slow})
        elif "." in joined:  # plain lines among extended ones: each one's time is checked against the line before
            extended: list[bool] | None = ["," in head for head in heads]
            values = joined.replace(".", ",").split(",")
            firsts, times = values[0::2], values[1::2]  # times stay text where no one asks (int() is dear)
            # (compress over a range: the positions in C, not a Python test per line)
            plain = list(compress(range(len(heads)), map(operator.not_, extended)))
            for i in plain:
                times[i] = int(firsts[i]) * 1_000_000 + int(times[i])
            seqs = list(map(int, compress(firsts, extended)))
            rows: list[int] | None = list(compress(range(len(heads)), extended))
            stops = [i for i in plain if i and times[i] + 1_000_000 < int(times[i - 1])]
            # a ";" could make parse_line read a plain line as an extended one: the full parser decides (found
            # here, in C, rather than by the pattern, which would look for it character by character)
            slow = [i for i in plain if ";" in lines[i]]
            if slow:
                stops = sorted({*stops, *slow})
        elif times:  # extended only, with their times
            values = joined.split(",")
            seqs, times = list(map(int, values[0::2])), values[1::2]
            extended = rows = None
            stops = slow = []
        else:  # extended only, heads the numbers alone
            seqs, times = list(map(int, heads)), None
            extended = rows = None
            stops = slow = []
        # where the numbers are not one more than the one before (a gap, counted in a step), and where they do
        # not grow (a duplicate, a late one or a reboot: a step never spans one)
        if not seqs or seqs == list(range(seqs[0], seqs[0] + len(seqs))):  # the usual case, checked cheaply
            jumps = backs = []
        else:
            jumps = [i for i in range(1, len(seqs)) if seqs[i] != seqs[i - 1] + 1]
            backs = [i for i in jumps if seqs[i] <= seqs[i - 1]]
        run = _Run(lines, times, seqs, rows, extended, stops, jumps, backs, set(slow))
        pos = counted = with_ids = 0  # (the lines before counted hold with_ids message ids)
        while pos < len(lines):
            boot = self.ready()
            end = run.end(boot, pos) if boot is not None else pos
            if end == pos:
                self.line(lines[pos])
                end += 1
            else:
                if self.joiner.done:
                    self.forget_fragments(run, pos, end)
                run.take(self.story, boot, pos, end)
                if ids is not None:
                    source, marks, first = ids
                    with_ids += (end - counted) - marks[counted:end].count("")
                    counted = end
                    if marks[pos:end].count("") != end - pos:
                        boot.last_msgid[source] = first + with_ids - 1
            pos = end


class _Run:
    """A run of ordinary lines with their numbers, times, and where the numbers or the times break."""

    def __init__(self, lines, times, seqs, rows, extended, stops, jumps, backs, slow) -> None:  # noqa: ANN001
        self.lines: list[str] = lines
        self.times: list[int | str] | None = times  # a plain line's int, an extended line's text (None: read it)
        self.seqs: list[int] = seqs  # of the extended lines, in order
        self.rows: list[int] | None = rows  # which lines are extended (None: all)
        self.extended: list[bool] | None = extended
        self.stops: list[int] = stops  # plain lines whose time went back from the line before
        self.jumps: list[int] = jumps  # indexes into seqs
        self.backs: list[int] = backs
        self.slow: set[int] = slow  # plain lines the full parser must read

    def ext_index(self, pos: int) -> int:
        """Index into seqs of the first extended line at or after line pos."""
        return pos if self.rows is None else bisect.bisect_left(self.rows, pos)

    def end(self, boot: Boot, pos: int) -> int:
        """Where a step from line pos must end (pos itself: line pos must go the slow way)."""
        if self.extended is not None and not self.extended[pos]:
            if pos in self.slow:
                return pos
            last_ts = boot.last_ts
            if last_ts is not None and int(self.times[pos]) + 1_000_000 < last_ts:
                return pos  # a timestamp reset
        stops = self.stops
        at = bisect.bisect_right(stops, pos)
        end = stops[at] if at < len(stops) else len(self.lines)
        ext, ext_end = self.ext_index(pos), self.ext_index(end)
        if ext == ext_end:
            return end
        top = boot.max_seq
        if top is not None and self.seqs[ext] <= top:
            return self.row(ext)
        at = bisect.bisect_right(self.backs, ext)
        if at < len(self.backs) and self.backs[at] < ext_end:  # a number going back ends the step there
            ext_end, end = self.backs[at], self.row(self.backs[at])
        back = self.time_back(boot, ext, ext_end)
        return end if back is None else back

    def ts(self, row: int) -> int:
        """The kernel time of line row (read from the line itself where the heads had no times)."""
        return int(self.times[row]) if self.times is not None else parse_line(self.lines[row]).ts

    def time_back(self, boot: Boot, ext: int, ext_end: int) -> int | None:
        """The row of the first extended line of ext..ext_end-1 whose kernel time is more than a second before that
        of the record numbered before it, where its number jumps (or the step begins: the boot's highest): a reboot
        whose first records were lost and whose numbers go on past the last boot's. Checked only there, so the
        usual line costs nothing more."""
        row = self.row(ext)
        if (
            boot.max_seq is not None
            and self.seqs[ext] > boot.max_seq + 1
            and _started_again(boot, self.recv(row), self.ts(row))
        ):
            return row
        jumps = self.jumps
        for at in range(bisect.bisect_right(jumps, ext), bisect.bisect_left(jumps, ext_end)):
            before, row = self.row(jumps[at] - 1), self.row(jumps[at])
            if _clock_restarted(self.recv(before), self.ts(before), self.recv(row), self.ts(row)):
                return row
        return None

    def recv(self, row: int) -> str:
        return self.lines[row].split(" ", 1)[0]

    def row(self, ext: int) -> int:
        return ext if self.rows is None else self.rows[ext]

    def number(self, boot: Boot, ext: int, ext_end: int) -> None:
        """The sequence numbers of extended lines ext..ext_end-1 (increasing): the highest, the first, the gaps."""
        seqs = self.seqs
        top, last = boot.max_seq, seqs[ext_end - 1]
        if boot.first_seq is None:
            boot.first_seq = seqs[ext]
        boot.max_seq = last
        boot.max_seq_ts = self.ts(self.row(ext_end - 1))
        boot.max_seq_recv = self.recv(self.row(ext_end - 1))
        if top is None:
            top = seqs[ext] - 1  # no gap before a boot's first number
        missing = last - top - (ext_end - ext)
        if not missing:
            return
        boot.seq_lost += missing
        if len(boot.gaps) >= MAX_GAPS and boot.holes is None:
            return
        at = bisect.bisect_right(self.jumps, ext)
        where = [ext] if seqs[ext] > top + 1 else []
        where += self.jumps[at : bisect.bisect_left(self.jumps, ext_end)]
        if boot.holes is not None:
            for i in where:
                boot.holes += (top if i == ext else seqs[i - 1], seqs[i])
        for i in where[: max(0, MAX_GAPS - len(boot.gaps))]:
            after = top if i == ext else seqs[i - 1]
            recv = self.lines[self.row(i)].split(" ", 1)[0]
            boot.gaps.append({"time": recv, "kind": "seq", "after": after, "missing": seqs[i] - after - 1})

    def sample(self, boot: Boot, ext: int, ext_end: int, taken: list[str]) -> None:
        """The text of every SAMPLE_STRIDE-th number among extended lines ext..ext_end-1 (taken: their lines)."""
        seqs = self.seqs
        want = -(-seqs[ext] // SAMPLE_STRIDE) * SAMPLE_STRIDE
        while want <= seqs[ext_end - 1]:
            i = bisect.bisect_left(seqs, want, ext, ext_end)
            if seqs[i] == want:
                boot.sample[want] = parse_line(taken[i - ext]).text
            want = -(-(seqs[i] + (seqs[i] == want)) // SAMPLE_STRIDE) * SAMPLE_STRIDE

    def take(self, story: Story, boot: Boot, pos: int, end: int) -> None:
        """Lines pos..end-1 into the boot, as Story.feed would take them one by one."""
        lines = self.lines
        story.records += end - pos
        boot.records += end - pos
        boot.last = lines[end - 1].split(" ", 1)[0]
        boot.last_ts = self.ts(end - 1)
        ext, ext_end = self.ext_index(pos), self.ext_index(end)
        if ext_end > ext:
            self.number(boot, ext, ext_end)
            taken = lines[pos:end]
            if self.extended is not None:
                taken = list(compress(taken, self.extended[pos:end]))
            jumps = bisect.bisect_left(self.jumps, ext_end) > bisect.bisect_right(self.jumps, ext)
            boot.remember(self.seqs[ext:ext_end], taken, not jumps)
            if boot.sample is not None:
                self.sample(boot, ext, ext_end, taken)
        boot.tail.extend(map(parse_line, lines[max(pos, end - LAST_WORDS) : end]))


def _feed_lines(story: Story, joiner: Reassembler, lines: Iterable[str]) -> None:
    feed = story.feed
    for line in lines:
        record = parse_line(line)
        if record is None:
            continue
        if record.frag is None and not joiner.pending:
            joiner.whole(record)
            feed(record)  # the common case, without a list per line
            continue
        for whole in joiner.feed(record):
            feed(whole)


def tell(lines: Iterable[str], wait: float = FRAGMENT_WAIT, track: bool = False) -> Story:
    """The story of a friend's server from console.log lines in arrival order (read_lines' files in bulk);
    track: keep what comparing it with kernel.log needs (channels())."""
    story = Story(track)
    joiner = Reassembler(wait)
    if isinstance(lines, LineSource) and not lines.started:
        bulk = _Bulk(story, joiner)
        for text in lines.chunks():
            bulk.chunk(text)
    else:
        _feed_lines(story, joiner, lines)
    for whole in joiner.flush():
        story.feed(whole)
    story.finish()
    return story


# The reliable channel: kernel.log beside console.log (docs/reliable.md), one record per line as the receiver's
# rsyslog writes it: "<receive time> <source> <pri>,<sequence number>,<kernel time as a date>;<text>". Read on its
# own (no fragments, no dictionary), line by line, before console.log, whose bulk reader it leaves alone.

CONSOLE_LOGLEVEL = 7  # the sender role's sender_loglevel: netconsole sends the levels below it (0-6)
RELIABLE_TAIL = 1024  # a reliable boot's last records kept with their text (matching, and its last words)
# A reliable boot keeps five bytes per number from its first to its last: a number this far past its highest (or
# below its first) starts another boot rather than a huge allocation (RELP does not lose a million in a row).
MAX_JUMP = 1 << 20
REBOOT_SLACK = 1.0  # seconds: a number going back with a kernel time later than this past the last is a reboot


def parse_reliable(line: str) -> tuple[str, str, int, int, str, str] | None:
    """A kernel.log line as (receive time, source, level, sequence number, kernel time, text), or None."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3:
        return None
    head, sep, text = parts[2].partition(";")
    fields = head.split(",", 2)
    if not sep or len(fields) < 3 or not fields[0].isdecimal() or not fields[1].isdecimal():
        return None  # no number (%msgid% "-"): nothing to compare it by
    return parts[0], parts[1], int(fields[0]) & 7, int(fields[1]), fields[2], text


class ReliableBoot:
    """One boot's records in kernel.log: per sequence number its level and a hash of its text (a byte and four
    bytes a record, so a month of them fits), the sampled texts, and the last RELIABLE_TAIL records."""

    def __init__(self, index: int, recv: str, source: str, seq: int, when: str) -> None:
        self.index = index
        self.first = self.last = recv
        self.source = source
        self.first_time = self.last_time = when  # kernel times (dates the sender's rsyslog made of them)
        self.base = self.top = seq
        self.levels = bytearray()  # level + 1 of the record numbered base + i, 0 where none arrived
        self.hashes = array.array("I")
        self.records = 0
        self.duplicates = 0
        self.sample: dict[int, str] = {}
        self.tail: collections.deque[tuple[int, int, str, str]] = collections.deque(maxlen=RELIABLE_TAIL)

    def starts_new(self, seq: int, when: str, key: int) -> bool:
        """A record that does not belong to this boot: the next boot's (a number going back with a later kernel
        time, or one already here with other text), or a number too far off to be this boot's."""
        if seq > self.top:
            return seq - self.top > MAX_JUMP
        # back: a replay (imkmsg reads the ring buffer again at each start, RELP resends what was not
        # acknowledged), a record filled in late, or a reboot
        now, last = parse_time(when), parse_time(self.last_time)
        if now and last and now > last + REBOOT_SLACK:
            return True
        if seq < self.base:
            return self.base - seq > MAX_JUMP
        i = seq - self.base
        return bool(self.levels[i]) and self.hashes[i] != key

    def take(self, recv: str, level: int, seq: int, when: str, text: str, key: int) -> None:
        if seq < self.base:  # a record older than the first one read (a replay reaching further back)
            self.levels[0:0] = bytes(self.base - seq)
            self.hashes[0:0] = array.array("I", [0]) * (self.base - seq)
            self.base = seq
        i = seq - self.base
        if i < len(self.levels) and self.levels[i]:
            self.duplicates += 1
            return
        if i > len(self.levels):
            self.levels.extend(bytes(i - len(self.levels)))
            self.hashes.extend(array.array("I", [0]) * (i - len(self.hashes)))
        if i == len(self.levels):
            self.levels.append(level + 1)
            self.hashes.append(key)
        else:
            self.levels[i] = level + 1
            self.hashes[i] = key
        self.records += 1
        self.last = recv
        if seq >= self.top:
            self.top = seq
            self.last_time = when
        if seq % SAMPLE_STRIDE == 0:
            self.sample[seq] = text
        self.tail.append((seq, level, when, text))

    def count(self, first: int, last: int, values: range | tuple[int, ...]) -> int:
        """Numbers first..last whose slot holds one of values (0: none arrived; level + 1: that level)."""
        first, last = max(first, self.base), min(last, self.top)
        if first > last:
            return 0
        part = self.levels[first - self.base : last - self.base + 1]
        return sum(part.count(value) for value in values)

    def has(self, seq: int, values: range | tuple[int, ...]) -> bool:
        return self.base <= seq <= self.top and self.levels[seq - self.base] in values

    def missing(self) -> int:
        """Numbers between its first and last that kernel.log lacks: lost on the way, or read by nobody."""
        return self.levels.count(0)

    def as_dict(self) -> dict:
        return {
            "first": self.first,
            "last": self.last,
            "source": self.source,
            "records": self.records,
            "first_seq": self.base,
            "last_seq": self.top,
            "missing": self.missing(),
            "duplicates": self.duplicates,
        }


def _earlier_boot(boots: list[ReliableBoot], when: str) -> ReliableBoot | None:
    """The boot before the newest that a record of kernel time ``when`` belongs to, if it is one of theirs: after
    a crash the sender's queue sends what it still held of the boot before (its read position is saved every 100
    records, so some again) interleaved with the new boot's records, and the numbers of both overlap. A boot's
    kernel times are its own (one boot ends before the next starts): a record dated within an earlier boot's
    times, and before the newest boot's first, is that earlier boot's."""
    newest = boots[-1]
    if len(boots) < 2 or when >= newest.first_time:  # the usual case, by the text (one sender's format)
        return None
    now = parse_time(when)
    if not now or now >= parse_time(newest.first_time) - REBOOT_SLACK:
        return None
    for boot in reversed(boots[:-1]):
        if parse_time(boot.first_time) - REBOOT_SLACK <= now <= parse_time(boot.last_time) + REBOOT_SLACK:
            return boot
    return None


def read_reliable(lines: Iterable[str]) -> list[ReliableBoot]:
    """kernel.log lines in arrival order as boots: the numbers start again at each boot, and a replay of numbers
    already read (same number and text, a kernel time not later than the last) is a duplicate. A record dated
    within an earlier boot (the sender's queue sending the old boot's rest after a crash) goes to that boot."""
    boots: list[ReliableBoot] = []
    boot: ReliableBoot | None = None
    for line in lines:
        parsed = parse_reliable(line)
        if parsed is None:
            continue
        recv, source, level, seq, when, text = parsed
        text = text.strip()
        key = hash(text) & 0xFFFFFFFF
        earlier = _earlier_boot(boots, when) if boots else None
        if earlier is not None:
            earlier.take(recv, level, seq, when, text, key)
            continue
        if boot is None or boot.starts_new(seq, when, key):
            boot = ReliableBoot(len(boots) + 1, recv, source, seq, when)
            boots.append(boot)
        boot.take(recv, level, seq, when, text, key)
    return boots


def _console_text(boot: Boot, seq: int) -> str | None:
    text = boot.sample.get(seq) if boot.sample else None
    if text is None:
        seen = boot._seen_record(seq)
        text = seen[2] if seen is not None else None
    return text.strip() if text is not None else None


def shared_records(boot: Boot, rboot: ReliableBoot) -> tuple[int, int]:
    """Of the reliable boot's sampled and last records, how many console.log's boot has with the same text, and
    how many under the same number with another text."""
    if boot.first_seq is None:
        return 0, 0
    pairs = dict(rboot.sample)
    pairs.update((record[0], record[3]) for record in rboot.tail)
    same = other = 0
    for seq, text in pairs.items():
        mine = _console_text(boot, seq)
        if mine is not None:
            same += mine == text
            other += mine != text
    return same, other


def _distance(boot: Boot, rboot: ReliableBoot) -> float:
    """Seconds between the console boot's receive times and the reliable boot's kernel times (0: they overlap)."""
    first, last = parse_time(boot.first), parse_time(boot.last)
    rfirst, rlast = parse_time(rboot.first_time), parse_time(rboot.last_time)
    return max(0.0, rfirst - last, first - rlast)


def match_boots(boots: list[Boot], rboots: list[ReliableBoot]) -> dict[int, ReliableBoot]:
    """Console boot index -> its reliable boot: one that shares (number, text) pairs with it and has (almost) no
    number with another text; of several such (boots of one kernel read alike), the nearest in time, then the one
    sharing most. Each boot is matched at most once."""
    pairs = []
    for rboot in rboots:
        for boot in boots:
            same, other = shared_records(boot, rboot)
            if same and other * 10 <= same:  # a few texts may differ between the channels (a cut long line)
                pairs.append((_distance(boot, rboot), -same, boot.index, rboot.index))
    matched: dict[int, ReliableBoot] = {}
    used: set[int] = set()
    for *_order, index, rindex in sorted(pairs):
        if index not in matched and rindex not in used:
            matched[index] = rboots[rindex - 1]
            used.add(rindex)
    return matched


def _present(boot: Boot, first: int, last: int) -> int:
    """How many numbers first..last console.log's boot has (its range less its jumps, plus late fills)."""
    first, last = max(first, boot.first_seq), min(last, boot.max_seq)
    if first > last:
        return 0
    count = last - first + 1
    holes = boot.holes
    for i in range(0, len(holes), 2):
        count -= max(0, min(holes[i + 1] - 1, last) - max(holes[i] + 1, first) + 1)
    return count + sum(1 for seq in set(boot.filled) if first <= seq <= last)


def compare(boot: Boot, rboot: ReliableBoot, loglevel: int = CONSOLE_LOGLEVEL) -> dict:
    """Both channels' records of one boot, by sequence number. Compared from the later of the two first numbers
    (before it one channel had not started, or its files were rotated away). netconsole sends only the levels
    below the console loglevel, so only kernel.log records of those levels count as lost by netconsole."""
    sendable = range(1, loglevel + 1)  # level + 1 as ReliableBoot keeps it
    start = max(boot.first_seq, rboot.base)
    holes = boot.holes
    filled = set(boot.filled)
    # netconsole lost, the reliable channel kept: in netconsole's jumps, and after netconsole's last number
    lost = rboot.count(boot.max_seq + 1, rboot.top, sendable)
    for i in range(0, len(holes), 2):
        lost += rboot.count(max(holes[i] + 1, start), holes[i + 1] - 1, sendable)
    lost -= sum(1 for seq in filled if seq >= start and rboot.has(seq, sendable))
    # netconsole has, kernel.log lacks: within kernel.log's numbers, and after its last (not delivered yet)
    end = min(boot.max_seq, rboot.top)
    missing = 0
    if start <= end:
        missing = rboot.count(start, end, (0,))
        for i in range(0, len(holes), 2):
            missing -= rboot.count(max(holes[i] + 1, start), min(holes[i + 1] - 1, end), (0,))
        missing += sum(1 for seq in filled if start <= seq <= end and rboot.has(seq, (0,)))
    behind = _present(boot, max(rboot.top + 1, start), boot.max_seq)
    # what the boot said after netconsole's last record, as the reliable channel kept it
    after = [f"{when} {text}" for seq, level, when, text in rboot.tail if seq > boot.max_seq and level < loglevel]
    last_words = after[-LAST_WORDS:]
    return {
        "compared": True,
        "from_seq": start,
        "console_loglevel": loglevel,
        "reliable": rboot.as_dict(),
        "netconsole_lost_kept_by_reliable": lost,
        "reliable_missing": missing,
        "reliable_behind": behind,
        "reliable_last_words": last_words,
    }


PLAIN_WHY = "netconsole lines carry no sequence number (a plain target): the channels cannot be compared"
UNMATCHED_WHY = "kernel.log has no records of this boot"


def channels(story: Story, rboots: list[ReliableBoot], loglevel: int = CONSOLE_LOGLEVEL) -> dict:
    """Per console boot index, how the two channels compare; and the reliable boots no console boot matched."""
    matched = match_boots(story.boots, rboots)
    per_boot: dict[int, dict] = {}
    for boot in story.boots:
        rboot = matched.get(boot.index)
        if boot.first_seq is None:
            per_boot[boot.index] = {"compared": False, "why": PLAIN_WHY}
        elif rboot is None:
            per_boot[boot.index] = {"compared": False, "why": UNMATCHED_WHY}
        else:
            per_boot[boot.index] = compare(boot, rboot, loglevel)
    used = {rboot.index for rboot in matched.values()}
    return {
        "boots": per_boot,
        "unmatched": [rboot.as_dict() for rboot in rboots if rboot.index not in used],
        "records": sum(rboot.records for rboot in rboots),
    }


# The report: netconsole-report <friend> on the receiver, under the friend's own account.

FRIEND_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
LIVE = "console.log"
RELIABLE = "kernel.log"  # the reliable channel's file (docs/reliable.md), beside console.log
_SINCE_RE = re.compile(r"([0-9]+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ReportError(Exception):
    """What the friend is told, with exit status 2."""


def _first_time(path: str) -> float:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        first = handle.readline()
    return parse_time(first.split(b" ", 1)[0].decode("ascii", "replace")) if first else -1.0


def log_files(directory: str, live_name: str = LIVE) -> list[str]:
    """The friend's console.log (or kernel.log) and every rotated piece (logrotate's dateext names, the size cap's
    -cap- names, compressed or not), oldest first by the receive time of each file's first line; the live file
    last."""
    try:
        names = os.listdir(directory)
    except PermissionError:
        raise ReportError(
            f"cannot read {directory}: permission denied. Only the accounts named as this friend's readers on "
            "this receiver may read it (receiver_friends[].readers)"
        ) from None
    except FileNotFoundError:
        raise ReportError(f"no friend's directory {directory} on this receiver") from None
    rotated = []
    for name in names:
        path = os.path.join(directory, name)
        if name == live_name or not name.startswith(live_name + "-") or not os.path.isfile(path):
            continue
        if name.endswith(".gz") and name[:-3] in names:
            continue  # logrotate is compressing it right now: its uncompressed twin holds the same lines
        try:
            rotated.append((_first_time(path), name, path))
        except PermissionError:
            raise ReportError(f"cannot read {path}: permission denied") from None
        except (OSError, EOFError):
            continue  # a compressed file cut short, or one the cap command removes right now
    files = [entry[2] for entry in sorted(rotated)]
    live = os.path.join(directory, live_name)
    if os.path.isfile(live):
        if not os.access(live, os.R_OK):
            raise ReportError(f"cannot read {live}: permission denied")
        files.append(live)
    return files


def parse_since(text: str, now: float) -> float:
    """--since: 30m, 6h, 2d ago, or an ISO date/time (UTC unless it says otherwise)."""
    match = _SINCE_RE.fullmatch(text)
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"--since {text!r}: give 30m, 6h, 2d or a date/time like 2026-11-30T05:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)  # noqa: UP017 (receivers may run Python 3.9)
    return when.timestamp()


def select(story: Story, since: float | None, kinds: set[str] | None) -> dict:
    """The story as JSON-ready data, limited to what the friend asked for."""
    data = story.as_dict()
    boots = []
    for boot in data["boots"]:
        if since is not None and parse_time(boot["last"]) < since:
            continue
        boot["events"] = [
            event
            for event in boot["events"]
            if (kinds is None or event["kind"] in kinds) and (since is None or parse_time(event["time"]) >= since)
        ]
        boots.append(boot)
    data["boots"] = boots
    return data


def add_channels(data: dict, compared: dict, files: list[str], since: float | None) -> None:
    """The comparison with kernel.log into select()'s data: per boot "channels", and "reliable" for the whole."""
    for boot in data["boots"]:
        boot["channels"] = compared["boots"][boot["boot"]]
    data["reliable"] = {
        "files": files,
        "records": compared["records"],
        "unmatched": [rboot for rboot in compared["unmatched"] if since is None or parse_time(rboot["last"]) >= since],
    }


def _channel_lines(channel: dict) -> list[str]:
    """A boot's losses per channel as text: netconsole's against kernel.log, the reliable channel's own."""
    if not channel["compared"]:
        return [f"  channels: not compared: {channel['why']}"]
    reliable = channel["reliable"]
    levels = f"levels 0-{channel['console_loglevel'] - 1}, from number {channel['from_seq']}"
    lost = channel["netconsole_lost_kept_by_reliable"]
    out = [
        "  losses, netconsole: "
        + (f"{lost} records that kernel.log has never arrived ({levels})" if lost else f"none ({levels})")
    ]
    parts = []
    if channel["reliable_missing"]:
        parts.append(f"{channel['reliable_missing']} records netconsole has are missing")
    if channel["reliable_behind"]:
        parts.append(
            f"{channel['reliable_behind']} records netconsole has after its last (not delivered yet, or lost "
            "when the sender stopped)"
        )
    if reliable["missing"]:
        parts.append(f"{reliable['missing']} numbers missing from its own sequence")
    out.append(
        "  losses, reliable channel (kernel.log): "
        + ("; ".join(parts) if parts else "none seen")
        + f" ({reliable['records']} records, numbers {reliable['first_seq']}-{reliable['last_seq']})"
    )
    if channel["reliable_last_words"]:
        out.append("  last words netconsole lost, from kernel.log:")
        out.extend(f"    {words}" for words in channel["reliable_last_words"])
    return out


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def render(friend: str, data: dict, files: list[str], now: float | None = None) -> str:
    """The story as text: safe to print on a terminal whatever the datagrams held."""
    boots = data["boots"]
    out = [f"netconsole report for {friend}: {data['records']} records from {len(files)} files"]
    if not boots:
        out.append("nothing received" + (" in the time asked for" if data["records"] else " yet"))
    for boot in boots:
        out.append("")
        head = (
            f"boot {boot['boot']} ({boot['started_by']}): {boot['first']} .. {boot['last']}, {boot['records']} records"
        )
        if boot["release"]:
            head += f", kernel {boot['release']}"
        out.append(head)
        if boot["banner"]:
            out.append(f"  banner: {boot['banner']}")
        losses = []
        if boot["msgid_lost"]:
            losses.append(f"{boot['msgid_lost']} lost (msgid gaps)")
        if boot["seq_gaps"]:
            losses.append(f"{boot['seq_gaps']} missing sequence numbers (lost, or below the sender's console loglevel)")
        if boot["incomplete"]:
            losses.append(f"{boot['incomplete']} messages incomplete (fragments lost)")
        if boot["duplicates"]:
            losses.append(f"{boot['duplicates']} duplicates or replayed records skipped")
        out.append("  losses: " + ("; ".join(losses) if losses else "none seen"))
        for gap in boot["gaps"][:20]:
            out.append(f"    {gap['time']} {gap['kind']} gap: {gap['missing']} missing after {gap['after']}")
        if len(boot["gaps"]) > 20:
            out.append(f"    ... {len(boot['gaps']) - 20} more gaps (--json lists them)")
        if "channels" in boot:
            out.extend(_channel_lines(boot["channels"]))
        for event in boot["events"]:
            marks = "".join(
                [
                    f" (also {', '.join(event['also'])})" if event["also"] else "",
                    " [incomplete]" if event["incomplete"] else "",
                    " [trace cut]" if event["truncated"] else "",
                ]
            )
            out.append(f"  {event['kind'].upper()} at {event['time']}{marks}")
            out.extend(f"    {shown}" for shown in event["trace"])
        if boot["ended_by"] == "reboot":
            ending = "last words before the reboot"
        elif now is not None and parse_time(boot["last"]):
            ending = f"last lines (nothing since, {_ago(max(0.0, now - parse_time(boot['last'])))} ago)"
        else:
            ending = "last lines (nothing since)"
        out.append(f"  {ending}:")
        out.extend(f"    {shown}" for shown in boot["last_words"])
        for record in boot.get("pstore", []):
            out.extend(_pstore_lines(record))
    reliable = data.get("reliable")
    if reliable is not None:
        out.append("")
        out.append(f"reliable channel: {reliable['records']} records from {len(reliable['files'])} kernel.log files")
        for rboot in reliable["unmatched"]:
            out.append(
                f"  not matched to a netconsole boot: {rboot['first']} .. {rboot['last']}, {rboot['records']} "
                f"records, numbers {rboot['first_seq']}-{rboot['last_seq']}"
            )
    unplaced = [record for record in data.get("pstore", []) if record["boot"] is None]
    if unplaced:
        out.append("")
        out.append(f"pstore records from before the first boot shown: {len(unplaced)}")
        for record in unplaced:
            out.extend(_pstore_lines(record))
    return "".join(terminal_safe(text) + "\n" for text in out)


PSTORE = "pstore"  # the friend's pstore records (docs/pstore.md), beside console.log: one file per panic
PSTORE_NAME_RE = re.compile(r"([0-9]{8}T[0-9]{6}Z)-[0-9a-f]{12}[.]txt")
PSTORE_MAX_BYTES = 1 << 20  # ramoops keeps 128 KiB per record by default: a larger file is read this far
PSTORE_TAIL = 40  # the record's last lines the text report shows (the panic line and its trace end a record)
_PSTORE_LEVEL_RE = re.compile(r"^<[0-7]>(?=\[)")  # "<0>[   35.1] Kernel panic": the level before the time
_PSTORE_NUMBERED_RE = re.compile(r"([0-9]{1,9})/([0-9]{1,9})(?: (.*))?")  # "<n>/<total> <line>" as the friend files it


def pstore_lines(text: str) -> tuple[list[str], int]:
    """A filed record's lines in the record's order, each once, and how many never arrived. The receiver files
    "<n>/<total> <line>" as they arrive: a record longer than the sender's queue keeps in memory comes out of
    order, and lines sent again after a reconnect come twice. A file without the numbers is taken as it is."""
    lines = text.split("\n")  # (not splitlines: a kernel line may hold U+2028, which rsyslog does not escape)
    if lines[-1] == "":
        del lines[-1]
    return _numbered_lines(lines) or (lines, 0)


def _numbered_lines(lines: list[str]) -> tuple[list[str], int] | None:
    """pstore_lines of lines that are all "<n>/<total> <line>"; None where one is not."""
    numbered: dict[int, str] = {}
    total = 0
    for line in lines:
        match = _PSTORE_NUMBERED_RE.fullmatch(line)
        if match is None:
            return None
        numbered.setdefault(int(match.group(1)), match.group(3) or "")
        total = max(total, int(match.group(2)))
    return [numbered[n] for n in sorted(numbered)], sum(1 for n in range(1, total + 1) if n not in numbered)


def pstore_record(name: str, text: str) -> dict:
    """One record: its id and time (from the name the sender gave it), the kernel events in it (first first),
    its last lines, and how many of its lines never arrived. Its lines are the kernel log the panicking kernel
    kept in memory, "<level>[time] text"."""
    ordered, missing = pstore_lines(text)
    numbered = bool(text) and _PSTORE_NUMBERED_RE.fullmatch(text.split("\n", 1)[0]) is not None
    lines = [_PSTORE_LEVEL_RE.sub("", line) for line in ordered]
    kinds: list[str] = []
    first = None
    for line in lines:
        match = _EVENT_RE.search(line)
        if match:
            kind = EVENT_KINDS[int(match.lastgroup[1:])]
            if kind not in kinds:
                kinds.append(kind)
            first = first or line
    header = lines[0] if lines else ""
    trigger = "panic" if header.startswith("Panic#") else "oops" if header.startswith("Oops#") else None
    return {
        "id": name[: -len(".txt")],
        "time": pstore_time(name),
        "file": f"{PSTORE}/{name}",
        "lines": len(lines),
        "missing": missing,
        "numbered": numbered,  # lines as the receiver files them ("<n>/<total> <line>"): missing is known
        "kinds": kinds,
        "trigger": trigger,  # what made the kernel write it, from its header (Panic#1 Part1, Oops#1 Part1)
        "first_event": first,
        "tail": lines[-100:],
    }


def pstore_time(name: str) -> str | None:
    """The UTC time in a record's name ("2026-11-30T14:24:59Z"); None where the name is not a record's (the name
    comes from the network: 20261399T000000Z is of the form and no date)."""
    match = PSTORE_NAME_RE.fullmatch(name)
    if match is None:
        return None
    try:
        when = datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=datetime.timezone.utc).isoformat().replace("+00:00", "Z")  # noqa: UP017


def read_pstore(directory: str) -> tuple[list[dict], str]:
    """The friend's pstore records under directory/pstore, oldest first (their names start with the UTC time of
    the panic); why not, where it cannot be read. Files of any other name are not the sender's and are left out."""
    where = os.path.join(directory, PSTORE)
    try:
        names = sorted(name for name in os.listdir(where) if pstore_time(name))
    except FileNotFoundError:
        return [], ""
    except PermissionError:
        return [], f"cannot read {where}: permission denied"
    records = []
    for name in names:
        try:
            text, _changed = read_pstore_file(os.path.join(where, name))
        except OSError as err:
            return records, f"cannot read {err.filename}: {err.strerror}"
        records.append(pstore_record(name, text))
    return records, ""


def read_pstore_file(path: str, dir_fd: int | None = None) -> tuple[str, float]:
    """A filed record's text, as far as PSTORE_MAX_BYTES goes (to its last whole line), and when it last changed.
    Never through a symlink, nor a file with another name elsewhere (the friend's directory belongs to the log
    owner, and the events service reads as root): OSError for one, as for anything that is not a regular file
    or cannot be read."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise OSError(errno.EINVAL, "not a regular file of one name", path)
        pieces, size = [], 0
        while size < PSTORE_MAX_BYTES:
            piece = os.read(fd, PSTORE_MAX_BYTES - size)
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
    finally:
        os.close(fd)
    data = b"".join(pieces)
    if size >= PSTORE_MAX_BYTES:  # read that far: its last whole line
        data = data[: data.rfind(b"\n") + 1]
    return data.decode("utf-8", "replace"), info.st_mtime


def add_pstore(data: dict, records: list[dict], since: float | None, kinds: set[str] | None = None) -> None:
    """Each record into the boot it ended (the last boot shown that started before the panic's time), marked with
    whether console.log has an event of the same kind in that boot; data["pstore"] lists them all."""
    starts = [(parse_time(boot["first"]), boot) for boot in data["boots"]]
    for boot in data["boots"]:
        boot["pstore"] = []
    shown = []
    for record in records:
        when = parse_time(record["time"])
        if (since is not None and when < since) or (kinds is not None and not kinds & set(record["kinds"])):
            continue
        before = [boot for start, boot in starts if start <= when]
        boot = before[-1] if before else None
        record["boot"] = boot["boot"] if boot else None
        sent = {event["kind"] for event in boot["events"]} if boot else set()
        record["in_console_log"] = bool(set(record["kinds"]) & sent)
        if boot is not None:
            boot["pstore"].append(record)
        shown.append(record)
    data["pstore"] = shown


def _pstore_lines(record: dict) -> list[str]:
    kinds = ", ".join(record["kinds"]) or "no kernel event found"
    seen = "also in console.log" if record["in_console_log"] else "not in console.log"
    out = [f"  PSTORE record {record['id']} ({kinds}; {seen}), kept through the reboot: {record['file']}"]
    if record["first_event"]:
        out.append(f"    first event: {record['first_event']}")
    tail = record["tail"][-PSTORE_TAIL:]
    missing = f" ({record['missing']} more never arrived)" if record.get("missing") else ""
    out.append(f"    its last {len(tail)} of {record['lines']} lines{missing}:")
    out.extend(f"      {line}" for line in tail)
    return out


def _read_reliable(directory: str, skipped: list[str]) -> tuple[list[str], list[ReliableBoot] | None, str]:
    """kernel.log's files and boots (None: no kernel.log); one the friend may not read is told, not fatal: the
    report of console.log does not depend on it."""
    try:
        files = log_files(directory, RELIABLE)
        return files, (read_reliable(read_lines(files, skipped)) if files else None), ""
    except ReportError as err:
        return [], None, str(err)
    except PermissionError as err:
        return [], None, f"cannot read {err.filename}: permission denied"


def main(argv: list[str] | None = None, log_root: str = "/var/log/remote") -> int:
    import argparse
    import json
    import sys
    import time

    parser = argparse.ArgumentParser(
        prog="netconsole-report",
        description="The story of a friend's server from its netconsole lines on this receiver: boots, kernel "
        "events with their whole traces, the last words before each reboot, losses, and the panics its pstore kept "
        "through a reboot (pstore/).",
    )
    parser.add_argument("friend", help="the friend's name (their directory under the log root)")
    parser.add_argument("--since", help="only boots and events from then on: 30m, 6h, 2d, or 2026-11-30T05:00")
    parser.add_argument("--kind", help="only these events, comma separated: " + ", ".join(EVENT_KINDS))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--console-loglevel",
        type=int,
        default=CONSOLE_LOGLEVEL,
        help="the sender's console log level (its sender_loglevel, 1-8): netconsole sends the levels below it, so "
        f"only those count as lost by netconsole against kernel.log ({CONSOLE_LOGLEVEL})",
    )
    parser.add_argument("--log-root", default=log_root, help=f"where the friends' directories are ({log_root})")
    args = parser.parse_args(argv)
    try:
        if not FRIEND_RE.fullmatch(args.friend) or ".." in args.friend:
            raise ReportError(f"{args.friend!r} is not a friend's name (letters, digits, '_', '.', '-')")
        kinds = None
        if args.kind:
            kinds = {kind.strip().replace("-", " ").replace("_", " ") for kind in args.kind.split(",")}
            unknown = sorted(kinds - set(EVENT_KINDS))
            if unknown:
                raise ReportError(f"--kind: unknown {', '.join(unknown)}; known: {', '.join(EVENT_KINDS)}")
        if not 1 <= args.console_loglevel <= 8:
            raise ReportError(f"--console-loglevel {args.console_loglevel}: give 1 to 8 (the sender's loglevel)")
        since = parse_since(args.since, time.time()) if args.since else None
        directory = os.path.join(args.log_root, args.friend)
        files = log_files(directory)
        skipped: list[str] = []
        # kernel.log first: console.log, read after it, then holds at least what netconsole sent meanwhile
        reliable_files, rboots, unread = _read_reliable(directory, skipped)
        try:
            story = tell(read_lines(files, skipped), track=rboots is not None)
        except PermissionError as err:
            raise ReportError(f"cannot read {err.filename}: permission denied") from None
    except ReportError as err:
        sys.stderr.write(terminal_safe(f"netconsole-report: {err}") + "\n")
        return 2
    if unread:
        sys.stderr.write(terminal_safe(f"netconsole-report: kernel.log not compared: {unread}") + "\n")
    pstore, pstore_unread = read_pstore(directory)
    if pstore_unread:
        sys.stderr.write(terminal_safe(f"netconsole-report: pstore records not all read: {pstore_unread}") + "\n")
    for reason in skipped:
        sys.stderr.write(
            terminal_safe(f"netconsole-report: read in part (rotated or removed meanwhile): {reason}") + "\n"
        )
    data = select(story, since, kinds)
    if rboots is not None:
        add_channels(data, channels(story, rboots, args.console_loglevel), reliable_files, since)
    add_pstore(data, pstore, since, kinds)
    if args.json:
        data["friend"] = args.friend
        data["files"] = files
        sys.stdout.write(json.dumps(data, indent=1) + "\n")  # ensure_ascii: nothing raw reaches a terminal
    else:
        sys.stdout.write(render(args.friend, data, files, time.time()))
    return 0
