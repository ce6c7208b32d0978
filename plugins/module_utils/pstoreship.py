# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""logswap-pstore-ship: hand each new pstore record (moved by systemd-pstore into /var/lib/systemd/pstore) to
rsyslog's reliable channel, which sends it to every friend over RELP, and mark it shipped so it is never sent
twice. A record that could not be handed over (the disk full) stays unmarked and is tried again at the next run
(a timer); where the reliable channel is not set up (no spool directory) records wait, unmarked, until it is.
Standard library only; the sender role installs it.

Handing over: the record's lines go into ``<spool>/<id>.lines``, written whole and then renamed into place;
rsyslog's imfile reads that directory and keeps its read position on disk, so lines written while rsyslog is
stopped are sent when it starts, and the channel's disk-assisted queue keeps them while a friend is away.

A record's id is ``<UTC time of the record>-<first 12 hex digits of its sha256>``: ramoops reuses the file name
``dmesg-ramoops-0`` for every panic, so the name cannot tell two panics apart, the content can. Each line goes
as ``<id> <n>/<total> <line>``; the friend files the lines of one id in ``<log root>/<friend>/pstore/<id>.txt``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterable

PSTORE_DIR = "/var/lib/systemd/pstore"
STATE_DIR = "/var/lib/logswap-netconsole/pstore-shipped"
SPOOL_DIR = "/var/spool/logswap-netconsole/pstore"
# what the friend accepts as an id (its rsyslog checks the same before it names a file after it)
ID_PATTERN = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}")
# a kernel log line is at most about 1 KB; rsyslog's default message limit is 8 KB
LINE_MAX = 4000


def is_record(name: str) -> bool:
    """The raw kernel log records (dmesg-ramoops-N, dmesg-efi-...), not systemd-pstore's joined dmesg.txt."""
    return name.startswith("dmesg-") and not name.endswith(".enc.z")


def record_id(content: bytes, mtime: float) -> str:
    """``<UTC time>-<sha256 prefix>``: the file's mtime is the time pstore stored the record (the panic)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(mtime))
    return f"{stamp}-{hashlib.sha256(content).hexdigest()[:12]}"


def find_records(root: str, unread: list[str] | None = None) -> list[tuple[str, str]]:
    """(id, path) of every record under root (ramoops records lie flat, EFI ones in a directory per id),
    oldest first; the same content found twice (dmesg-ramoops-0 and a copy) is one record. A record that cannot
    be read now (removed meanwhile by systemd-tmpfiles' ageing, an I/O error) is left out, named in ``unread``:
    the next run finds it again if it is still there."""
    found: dict[str, str] = {}
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            if not is_record(name):
                continue
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as handle:
                    content = handle.read()
                mtime = os.stat(path).st_mtime
            except OSError as err:
                if unread is not None:
                    unread.append(f"{path}: {err.strerror or err}")
                continue
            found.setdefault(record_id(content, mtime), path)
    return sorted(found.items())


def pending(records: Iterable[tuple[str, str]], shipped: Iterable[str]) -> list[tuple[str, str]]:
    """Records not marked shipped."""
    done = set(shipped)
    return [(rid, path) for rid, path in records if rid not in done]


def messages(rid: str, text: str) -> list[str]:
    """One message per line of the record: ``<id> <n>/<total> <line>`` (n counts from 1; a gap or a repeat at
    the friend shows a line lost or sent twice)."""
    if not ID_PATTERN.fullmatch(rid):
        raise ValueError(f"record id {rid!r} is not of the form {ID_PATTERN.pattern}")
    lines = [line[:LINE_MAX] for line in text.splitlines()] or [""]
    total = len(lines)
    return [f"{rid} {n}/{total} {line}" for n, line in enumerate(lines, 1)]


def ship(
    records: list[tuple[str, str]],
    send: Callable[[str, list[str]], None],
    mark: Callable[[str], None],
    log: Callable[[str], None],
) -> int:
    """Hand over every record's lines, mark each one shipped once all went; the number not shipped."""
    failed = 0
    for rid, path in records:
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
            send(rid, messages(rid, text))
        except OSError as err:
            failed += 1
            log(f"logswap-pstore-ship: {rid} ({path}) not shipped, tried again at the next run: {err}")
            continue
        mark(rid)
        log(f"logswap-pstore-ship: {rid} ({path}) handed to the reliable channel")
    return failed


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="logswap-pstore-ship", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pstore-dir", default=PSTORE_DIR)
    parser.add_argument("--state-dir", default=STATE_DIR)
    parser.add_argument("--spool-dir", default=SPOOL_DIR)
    parser.add_argument("--list", action="store_true", help="print id, state and path of every record; send nothing")
    args = parser.parse_args(argv)
    os.makedirs(args.state_dir, mode=0o700, exist_ok=True)
    records = find_records(args.pstore_dir)
    shipped = set(os.listdir(args.state_dir))
    if args.list:
        for rid, path in records:
            sys.stdout.write(f"{rid} {'shipped' if rid in shipped else 'pending'} {path}\n")
        return 0
    todo = pending(records, shipped)
    if not todo:
        return 0
    if not os.path.isdir(args.spool_dir):
        # the reliable channel (which makes the spool) is not set up here: the records wait, unmarked
        sys.stderr.write(
            f"logswap-pstore-ship: {len(todo)} record(s) wait: no reliable channel here ({args.spool_dir} is missing)\n"
        )
        return 0

    def send(rid: str, lines: list[str]) -> None:
        # whole or not at all: imfile reads only *.lines, so it never sees a half-written record
        final = os.path.join(args.spool_dir, rid + ".lines")
        with open(final + ".tmp", "w", encoding="utf-8", errors="replace") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(final + ".tmp", final)

    def mark(rid: str) -> None:
        with open(os.path.join(args.state_dir, rid), "w", encoding="utf-8") as handle:
            handle.write(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))

    def log(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    failed = ship(todo, send, mark, log)
    return 1 if failed else 0
