# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""netconsole-events: the receiver's events service, the thin I/O shell around kmsgevents.

It follows each friend's console.log (by inode and offset, through logrotate's renames and the cap command's),
keeps ``events.log`` and ``events.json`` in the friend's directory, and sends the incidents by mail
(``sendmail -t``) and webhook from a second thread, so a hanging mail system or web server never stops the
following. It only reads the files rsyslog writes: rsyslog never waits for it.
Standard library only; the receiver role installs it with kmsgview.py and kmsgevents.py.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable

try:
    from ansible_collections.logswap.netconsole.plugins.module_utils import kmsgevents, kmsgview
except ImportError:  # on the receiver: the three files lie side by side
    import kmsgevents  # type: ignore[no-redef]
    import kmsgview  # type: ignore[no-redef]

LIVE = "console.log"
EVENTS = "events.log"
STATE = "events.json"
EVENTS_MAX = 8 * 1024 * 1024  # then events.log becomes events.log.1 (one older file kept)
CHUNK = 4 * 1024 * 1024  # bytes read at a time: memory stays bounded whatever the backlog
CHUNKS_PER_STEP = 16  # then the next friend's turn, so one friend's month of backlog does not stop the others
CHECKPOINT = 10.0  # seconds between checkpoints while only lines were read
# At stop, how long a delivery under way may take to end (within systemd's 90 s; the webhook's own timeout is
# 20 s, sendmail's 60 s): one that ends is recorded, so a restart does not send it again.
STOP_WAIT = 30.0
UNWRITTEN_MAX = 10000  # events.log lines kept while events.log cannot be written
HEAD = 4096  # a file is recognised by its first line (up to this many bytes) where its inode is gone
# logrotate renames console.log and makes an empty one, then HUPs rsyslog, which writes into the renamed file
# until then (and flushes into it when it closes it): the renamed file is finished only once the new one has
# a line or the renamed one was left alone this long.
GRACE = 5.0
# How often the service asks whether this receiver can hear each friend (a route to one of its addresses through
# an interface that is up); a friend's silence is counted only while it can (the receiver's own outage is not the
# friend's silence). At most this late a silence of the receiver's own making may still be counted.
HEARING_EVERY = 10.0
# How long every friend must have been quiet at once before the service's log says so (a spell shorter than this,
# a heartbeat a little late, pauses quiet time without a word)
TOGETHER_SAID = 60.0
# pstore records (docs/pstore.md) the friend's rsyslog files under pstore/: looked for this often once console.log
# is read to its end, and told once all their lines are there, or once the file has not grown for PSTORE_QUIET
# seconds (lines that never arrived are counted). The ids told (of the files still there) are kept in the
# checkpoint, so a restart tells none again; the records found at the first look ever are taken as told.
PSTORE_EVERY = 5.0
PSTORE_QUIET = 30.0
DOWN_STATES = ("down", "lowerlayerdown", "notpresent")


def _head(data: bytes) -> str:
    first = data[:HEAD].split(b"\n", 1)[0]
    return hashlib.sha256(first).hexdigest()[:32] if first else ""


def _file_head(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            return _head(handle.read(HEAD))
    except (OSError, EOFError):
        return ""


def _gzip_size(path: str) -> int | None:
    """The uncompressed size gzip keeps in its last four bytes (modulo 4 GiB)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(-4, os.SEEK_END)
            return int.from_bytes(handle.read(4), "little")
    except OSError:
        return None


class Source:
    """A friend's live file followed by identity (device, inode, first line) and offset across rotation.

    ``state`` is JSON: {dev, ino, offset, head, mtime}. An empty state (the first start) reads the live file
    from its beginning; after a rotation the rest of the old file is read (found by inode, or by its first line
    when it was compressed meanwhile), then every newer rotated piece, then the new live file from 0.
    """

    def __init__(self, directory: str, name: str = LIVE, state: dict | None = None) -> None:
        self.directory = directory
        self.name = name
        self.state: dict = dict(state or {})

    def read(self) -> list[bytes]:
        """At most CHUNK bytes of whole lines: a backlog of rotated pieces (a long outage of the service) is
        read over several calls, so memory stays bounded whatever the files' sizes."""
        if self.state.get("backlog"):
            lines = self._drain()
            if lines:
                return lines
        live = os.path.join(self.directory, self.name)
        try:
            st = os.stat(live)
        except FileNotFoundError:
            st = None
        state = self.state
        if state.get("ino") is not None and (st is None or (st.st_dev, st.st_ino) != (state["dev"], state["ino"])):
            old = self._still_written(st)
            if old is not None:  # only its whole lines for now; the rest once rsyslog has let go of it
                return self._read_from(old, final=False) if os.path.getsize(old) > state["offset"] else []
            self._plan_rotated()
            lines = self._drain()
            if lines or st is None:
                return lines
            state = self.state
        if st is None:
            return []
        if state.get("ino") is None:
            if "mtime" in state:  # after a backlog: pieces rotated while it was read come first
                self._plan_rotated()
                lines = self._drain()
                if lines:
                    return lines
            done = self.state.get("done", [])
            self.state = state = {"dev": st.st_dev, "ino": st.st_ino, "offset": 0, "head": "", "mtime": 0.0}
            state["done"] = done
        if st.st_size < state["offset"]:  # truncated in place: start again at its beginning
            state["offset"] = 0
        if st.st_size > state["offset"]:
            return self._read_from(live, final=False)
        return []

    def _still_written(self, live: os.stat_result | None) -> str | None:
        """The renamed (not compressed) old live file while rsyslog may still write into it: the new live file
        has nothing yet and the old one was written to less than GRACE seconds ago."""
        if live is not None and live.st_size > 0:
            return None
        state = self.state
        for _mtime, path in self._rotated():
            if path.endswith(".gz"):
                continue
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) == (state["dev"], state["ino"]) and _file_head(path) == state["head"]:
                return path if time.time() - st.st_mtime < GRACE else None
        return None

    def _read_from(self, path: str, final: bool, state: dict | None = None) -> list[bytes]:
        """Up to CHUNK bytes from ``state``'s offset: whole lines only, unless ``final`` and at the file's end
        (a rotated piece's unterminated last line is all there will ever be)."""
        state = self.state if state is None else state
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            if state["offset"] == 0 or not state["head"]:
                state["head"] = _head(handle.read(HEAD))
            handle.seek(state["offset"])
            data = handle.read(CHUNK)
            at_end = not handle.read(1)
            if not final:
                state["mtime"] = os.fstat(handle.fileno()).st_mtime if opener is open else state["mtime"]
        end = len(data) if final and at_end else data.rfind(b"\n") + 1  # a line rsyslog is still writing waits
        if end == 0 and len(data) == CHUNK:
            end = len(data)  # a "line" longer than CHUNK: given in pieces rather than never
        state["offset"] += end
        state["finished"] = final and at_end and end == len(data)
        return data[:end].splitlines()

    def _rotated(self) -> list[tuple[float, str]]:
        out = []
        for name in os.listdir(self.directory):
            if not name.startswith(self.name + "-"):
                continue
            path = os.path.join(self.directory, name)
            try:
                out.append((os.stat(path).st_mtime, path))
            except FileNotFoundError:
                continue
        return sorted(out)

    def _plan_rotated(self) -> None:
        """The old live file's rest and every piece rotated after it, oldest first, as a backlog for _drain.
        Pieces are found by their first lines (a piece compressed meanwhile has a new name and inode); pieces
        already read are known by their first lines (``done``), so none is read twice."""
        state = self.state
        done = list(state.get("done", []))
        rotated = self._rotated()
        backlog = []
        old = None
        if state.get("ino") is not None:
            for _mtime, path in rotated:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                same_inode = (st.st_dev, st.st_ino) == (state["dev"], state["ino"])
                if (same_inode or path.endswith(".gz")) and state["head"] and _file_head(path) == state["head"]:
                    old = path  # an inode number is reused once its file is gone: the first line must match too
                    break
            if old is not None:
                consumed = old.endswith(".gz") and _gzip_size(old) == state["offset"] % (1 << 32)
                if not consumed:  # a compressed file is read again only if the offsets say something is left
                    backlog.append({"head": state["head"], "offset": state["offset"], "path": old})
            if state["head"]:
                done.append(state["head"])
        since = state.get("mtime", 0.0)  # when the file was last read: what was rotated since is new
        for mtime, path in rotated:
            if path == old or mtime < since:
                continue
            head = _file_head(path)
            if not head or head in done:
                continue
            backlog.append({"head": head, "offset": 0, "path": path})
            done.append(head)
        self.state = {"done": done[-64:], "backlog": backlog, "mtime": since}

    def _drain(self) -> list[bytes]:
        """The next chunk of the backlog's first piece, found again by its first line."""
        backlog = self.state["backlog"]
        while backlog:
            piece = backlog[0]
            path = self._find(piece["head"], piece.get("path"))
            if path is None:  # removed meanwhile (the cap, logrotate's maxage): nothing more to read of it
                backlog.pop(0)
                continue
            piece["path"] = path
            lines = self._read_from(path, final=True, state=piece)
            if piece.pop("finished"):
                backlog.pop(0)
            if lines:
                return lines
        del self.state["backlog"]
        return []

    def _find(self, head: str, known: str | None) -> str | None:
        """The piece whose first line is ``head``: where it was last (one head read per chunk), else looked for
        again (logrotate compressed or renamed it meanwhile)."""
        if known and _file_head(known) == head:
            return known
        for _mtime, path in reversed(self._rotated()):
            if _file_head(path) == head:
                return path
        return None


def route_problem(routes: list, address: str, operstate: Callable[[str], str]) -> str:
    """Why this host cannot hear ``address`` by the route ``ip -j route get`` gave ('' where it can): no route,
    one that drops, or its interface down (``operstate`` of a device: /sys/class/net/<dev>/operstate)."""
    if not routes:
        return f"no route to {address}"
    route = routes[0]
    if route.get("type") in ("unreachable", "blackhole", "prohibit", "throw"):
        return f"the route to {address} is {route['type']}"
    device = route.get("dev", "")
    if "linkdown" in route.get("flags", []):
        return f"{device}, the interface towards {address}, has no link"
    state = operstate(device) if device and device != "lo" else "up"
    if state in DOWN_STATES:
        return f"{device}, the interface towards {address}, is {state}"
    return ""


def operstate(device: str) -> str:
    try:
        with open(f"/sys/class/net/{device}/operstate", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return "notpresent"


# what ip route get says when the kernel has no way to the address (a blackhole route is refused the same way)
_NO_ROUTE = ("Network is unreachable", "No route to host", "Invalid argument")


def route_to(address: str) -> str | None:
    """Why this host cannot reach ``address`` now ('' where it can); None where it cannot tell (no ip command,
    an error that is not the kernel's answer). A link-local address with its zone (fe80::1%eth0) is asked
    through that interface."""
    host, _sep, zone = address.partition("%")
    argv = ["ip", "-j", "route", "get", host] + (["oif", zone] if zone else [])
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=1, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        said = proc.stderr.strip()
        return f"no route to {address} ({said})" if any(text in said for text in _NO_ROUTE) else None
    try:
        return route_problem(json.loads(proc.stdout or "[]"), address, operstate)
    except (ValueError, AttributeError, TypeError):
        return None


class Hearing:
    """Whether this receiver can hear each address, asked at most every HEARING_EVERY seconds per address (one
    answer shared by every friend sending from it; time.monotonic, so a clock step changes nothing)."""

    def __init__(
        self, ask: Callable[[str], str | None] = route_to, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ask = ask
        self.clock = clock
        self.answers: dict[str, tuple[float, str | None]] = {}
        self.untold = True  # "cannot tell" is logged once

    def problem(self, addresses: list[str]) -> str:
        """Why none of the addresses can be heard ('' where one can, or where this host cannot tell)."""
        now = self.clock()
        problems = []
        for address in addresses:
            asked, answer = self.answers.get(address, (None, None))
            if asked is None or now - asked >= HEARING_EVERY:
                answer = self.ask(address)
                self.answers[address] = (now, answer)
            if answer is None and self.untold:
                self.untold = False
                log(f"netconsole-events: cannot tell whether {address} can be heard (ip route get): quiet time counts")
            if not answer:
                return ""
            problems.append(answer)
        return "; ".join(problems)


class QuietTogether:
    """Every friend quiet at once (kmsgevents.quiet_together; friends this receiver knows it cannot hear left
    out): the quiet is this receiver's own, and each friend's quiet time pauses for it (Watcher.pause, kept in
    the checkpoint: a restart within the spell goes on pausing). When a spell that lasted at least its detection
    lag (from the newest line heard before it to its start) ends, that lag is not counted either: all were quiet
    then already. Said in the service's log once it has lasted TOGETHER_SAID seconds, and when it ends."""

    def __init__(self) -> None:
        self.reason = ""
        self.since = 0.0
        self.newest = 0.0  # the newest line heard before the spell
        self.said = False
        self.started = False
        self.judged = 0.0  # the last round that found no spell: a spell began after it (its friends may have changed)

    def round(self, now: float, friends: list[Friend]) -> None:
        if not self.started:  # the first round of the service: each friend's backlog is read before judging;
            self.started = True  # a spell carried in the checkpoint goes on pausing meanwhile
            self._carried(now, friends)
            return
        for friend in friends:
            if friend.deaf:  # its lines while this receiver had no route to it say nothing of the spell
                friend.watcher.heard_in_spell = 0.0
        hearable = [friend.watcher for friend in friends if not friend.deaf]
        reason = kmsgevents.quiet_together(hearable, now)
        ended = 0.0
        if self.reason:
            # over where a friend it was judged by was heard in it (a service started again reads that from the
            # backlog, perhaps with another spell after it), or where fewer than two are left to hear
            heard = [watcher.heard_in_spell for watcher in hearable if watcher.heard_in_spell]
            if heard or not reason:
                ended = min(max(min(heard), self.since), now) if heard else now
                self._over(ended, friends)
        if not reason:
            self.judged = now
            return
        if not self.reason:  # (where it began: a service started again sees it later, its backlog read)
            self.since = min(now, max(kmsgevents.quiet_together_since(hearable), ended, self.judged))
            self.newest = max(watcher.last_line for watcher in hearable if watcher.last_line and not watcher.silent)
        self.reason = reason
        for friend in friends:
            spell = [self.since, self.newest]  # every friend's checkpoint has it, a silent one's too (its line ends it)
            paused = friend.watcher.pause(now, self.since)
            if paused or friend.watcher.spell != spell:
                friend.watcher.spell = spell
                friend.dirty = friend.urgent = True
        if not self.said and now - self.since >= TOGETHER_SAID:
            log(f"netconsole-events: {reason}: their quiet time is not counted meanwhile")
            self.said = True

    def _over(self, end: float, friends: list[Friend]) -> None:
        """The spell ended at end: each friend's quiet time counts again (in the checkpoint at once)."""
        lag = self.since - self.newest if end - self.since >= self.since - self.newest else 0.0
        for friend in friends:
            if friend.watcher.resume(lag, end):
                friend.dirty = friend.urgent = True
        if self.said:
            heard = any(friend.watcher.last_line >= self.since for friend in friends)
            why = "a friend is heard again" if heard else "fewer than two friends are left to hear (their quiet counts)"
            log(f"netconsole-events: after {round(end - self.since)} s of all quiet at once, {why}")
            self.said = False
        self.reason = ""

    def _carried(self, now: float, friends: list[Friend]) -> None:
        """The spell a checkpoint carried: its friends go on pausing until it is judged again, after the backlog
        (one carried without its start, by an older checkpoint, is taken to start now)."""
        for friend in friends:
            friend.unjudged = True  # its first step reads the backlog, and tells no silence before the next round
            watcher = friend.watcher
            if watcher.frozen is not None and watcher.spell is None:
                watcher.spell = [now, now]
            if watcher.spell is not None and not self.reason:
                self.since, self.newest = watcher.spell
                self.reason = "a spell of all quiet at once, carried over a restart"
            if watcher.frozen is not None:
                watcher.pause(now)


class Friend:
    """One friend's files, watcher, outbox and checkpoint."""

    def __init__(self, settings: dict, config: dict, digest: str) -> None:
        self.name = settings["name"]
        self.settings = settings
        self.config = config
        self.directory = os.path.join(config["log_root"], self.name)
        self.checkpoint_path = os.path.join(config["state_dir"], self.name + ".json")
        self.digest = digest
        data = {}
        try:
            with open(self.checkpoint_path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = {}
        self.watcher, self.outbox = kmsgevents.restore(
            data, self.name, settings["silence"], tuple(settings["alert_on"]), digest
        )
        self.watcher.up_since = config.get("up_since", 0.0)
        # "retry" (seconds, not set by the role) lets a test see a retry without waiting for the real schedule
        self.outbox.schedule = tuple(config.get("retry", kmsgevents.RETRY))
        self.source = Source(self.directory, LIVE, (data.get("files") or {}).get(LIVE))
        self.events_size = data.get("events_size", 0)
        self.dirty = True
        self.urgent = False
        self.checkpointed = 0.0
        self.save_error = ""  # the last failed save's error, logged once
        self.step_error = ""  # the last unforeseen error of a step, logged once
        self.unwritten: list[str] = []  # events.log lines a failed write left (a crash meanwhile loses them)
        self.write_error = ""
        self.deaf = ""  # why this receiver cannot hear the friend now ('' while it can)
        # the service's first step: the backlog is read, but the quiet time is judged (tick) only after QuietTogether
        # has judged a spell with it (a spell that began while the service was down pauses the quiet in it)
        self.unjudged = False
        told = data.get("pstore_told")
        self.pstore_told: list[str] | None = None if told is None else [str(rid) for rid in told]
        self.pstore_looked = 0.0
        if data:
            self._trim_events_log()
        else:
            self.events_size = _size(os.path.join(self.directory, EVENTS))

    def listen(self, now: float, hearing: Hearing) -> None:
        """While this receiver cannot hear the friend (its own link or route is gone), the friend's quiet time does
        not count: a silence is told only after the whole silence time in which the receiver could hear."""
        addresses = self.settings.get("addresses") or []
        if not addresses:
            return
        deaf = hearing.problem(addresses)
        if deaf != self.deaf:
            log(
                f"{self.name}: this receiver cannot hear it: {deaf}; its quiet time is not counted meanwhile"
                if deaf
                else f"{self.name}: this receiver can hear it again; its quiet time counts from now"
            )
        self.deaf = deaf
        if deaf:
            self.watcher.up_since = max(self.watcher.up_since, now)

    def channels(self) -> list[str]:
        return (["mail"] if self.settings.get("mail") else []) + (["webhook"] if self.settings.get("webhook") else [])

    def _trim_events_log(self) -> None:
        """events.log lines written after the last checkpoint are written again from the lines read again."""
        path = os.path.join(self.directory, EVENTS)
        try:
            if os.path.getsize(path) > self.events_size:
                os.truncate(path, self.events_size)
        except OSError:
            self.events_size = 0

    def step(self, now: float) -> None:
        """Read what is new, write events, queue incidents."""
        watcher = self.watcher
        caught_up = False
        for _chunk in range(CHUNKS_PER_STEP):
            try:
                lines = self.source.read()
            except PermissionError as err:
                log(f"{self.name}: cannot read {err.filename}: {err.strerror}")
                lines = []
            if not lines:
                caught_up = True
                break
            for raw in lines:
                watcher.feed_line(raw.decode("utf-8", "surrogateescape"), now)
            self.dirty = True
            self._write(now)  # a long backlog: write as we go
        if caught_up:  # (a record is placed among the boots console.log told, and after its own panic's line)
            self.look_for_pstore(now)
        if self.unjudged:
            self.unjudged = False
        else:
            watcher.tick(now)
        self._write(now)

    def look_for_pstore(self, now: float) -> None:
        """Each pstore record filed since the last look, once whole (or quiet), into the watcher."""
        if now - self.pstore_looked < PSTORE_EVERY:
            return
        self.pstore_looked = now
        try:  # the directory itself not through a symlink either (it belongs to the log owner)
            where = os.open(
                os.path.join(self.directory, kmsgview.PSTORE),
                os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
            )
        except FileNotFoundError:  # no record yet (rsyslog makes the directory with the first one's first line)
            if self.pstore_told is None:
                self.pstore_told, self.dirty = [], True
            return
        except OSError:
            return
        try:
            names = sorted(name for name in os.listdir(where) if kmsgview.pstore_time(name))
            present = [name[: -len(".txt")] for name in names]
            if self.pstore_told is None:  # the first look ever: what is there already is not news
                self.pstore_told, self.dirty, self.urgent = present, True, True
                return
            told = [rid for rid in self.pstore_told if rid in present]  # bounded by the files there
            for name in names:
                if name[: -len(".txt")] not in told and self._tell_pstore(name, where, now):
                    told.append(name[: -len(".txt")])
            if told != self.pstore_told:
                self.pstore_told, self.dirty, self.urgent = told, True, True
        finally:
            os.close(where)

    def _tell_pstore(self, name: str, where: int, now: float) -> bool:
        """The record into the watcher if it is whole, or has been quiet for PSTORE_QUIET seconds."""
        try:
            text, changed = kmsgview.read_pstore_file(name, dir_fd=where)
        except OSError:
            return False
        record = kmsgview.pstore_record(name, text)
        if now - changed < PSTORE_QUIET and (record["missing"] or not record["numbered"]):
            return False  # still arriving
        self.watcher.pstore(record, changed, now)
        return True

    def _write(self, now: float) -> None:
        events, incidents = self.watcher.take()
        for incident in incidents:  # queued first: an alert goes out even when events.log cannot be written
            self.dirty = self.urgent = True
            if not incident["stale"]:
                self.outbox.add(incident, self.channels(), now)
        if events:
            self.unwritten += [kmsgevents.event_line(event) for event in events]
            del self.unwritten[:-UNWRITTEN_MAX]
            self.dirty = True
        if not self.unwritten:
            return
        try:
            self._append(self.unwritten)
        except OSError as err:  # a full disk: kept (the newest UNWRITTEN_MAX lines) and tried again next round
            if str(err) != self.write_error:
                log(f"{self.name}: cannot write {EVENTS}, will try again: {err}")
            self.write_error = str(err)
            return
        self.unwritten, self.write_error = [], ""

    def _open_new(self, path: str, flags: int) -> int:
        """A file in the friend's directory, created the way rsyslog creates console.log: 0640, the log owner
        and group; the directory's default ACL then gives it to the friend's readers. Never through a symlink:
        the directory belongs to the log owner (rsyslog's user where it drops root), and root appending to and
        chowning whatever a link there points at would hand that user any file on the host."""
        fd = os.open(path, flags | os.O_CLOEXEC | os.O_NOFOLLOW, 0o640)
        owner = self.config.get("owner_ids")
        if owner:
            os.fchown(fd, owner[0], owner[1])
        return fd

    def _append(self, lines: list[str]) -> None:
        path = os.path.join(self.directory, EVENTS)
        data = "".join(lines).encode("utf-8", "surrogateescape")
        if self.events_size + len(data) > EVENTS_MAX and self.events_size:
            os.replace(path, path + ".1")
            # checkpointed at once: a restart before it would compare the new events.log with the old one's size,
            # cut nothing, and write again what the new one already has
            self.events_size, self.urgent = 0, True
        fd = self._open_new(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, data)
            self.events_size = os.fstat(fd).st_size
        finally:
            os.close(fd)

    def save(self, now: float, force: bool = False) -> None:
        """events.json whenever something changed; the checkpoint (up to 1.5 MB with a full ring of sequence
        numbers) at most every CHECKPOINT seconds, but at once when the outbox changed, so a delivery is never
        made twice by a restart that re-reads lines. Lines read again after a crash give the same events."""
        if not self.dirty:
            return
        if force or self.urgent or now - self.checkpointed >= CHECKPOINT:
            files = {LIVE: self.source.state}
            data = kmsgevents.checkpoint(self.watcher, self.outbox, files, self.events_size, self.digest)
            data["pstore_told"] = self.pstore_told
            _atomic(self.checkpoint_path, json.dumps(data).encode(), lambda p, f: os.open(p, f, 0o600))
            self.checkpointed, self.urgent = now, False
        public = self.watcher.summary(now)
        public["files"] = {LIVE: {"offset": self.source.state.get("offset", 0)}}
        public["alerts"] = self.outbox.public()
        public["alert_on"] = list(self.watcher.alert_on)
        text = json.dumps(public, indent=1, ensure_ascii=True) + "\n"
        _atomic(os.path.join(self.directory, STATE), text.encode(), self._open_new)
        self.dirty = False


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _atomic(path: str, data: bytes, opener: Callable[[str, int], int]) -> None:
    temp = f"{path}.{os.getpid()}.tmp"
    fd = opener(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


# deliveries: a thread of their own, so following never waits for a mail system or a web server


def deliver(entry: dict, settings: dict, config: dict, host: str, now: float) -> str | None:
    """Send one delivery; None when it went, else what went wrong."""
    incident = entry["body"]
    if not settings.get(entry["channel"]):
        return f"no {entry['channel']} target for {entry['friend']} in the configuration any more"
    try:
        if entry["channel"] == "mail":
            message = kmsgevents.mail_message(incident, settings["mail"], config.get("mail_from", ""), host, now)
            proc = subprocess.run(
                [config["sendmail"], "-t", "-oi"], input=message, capture_output=True, timeout=60, check=False
            )
            if proc.returncode != 0:
                said = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
                return f"{config['sendmail']} exited {proc.returncode}: {said}"
            return None
        return _post(settings["webhook"], kmsgevents.webhook_payload(incident, host))
    except (OSError, subprocess.SubprocessError, ValueError, http.client.HTTPException) as err:
        return f"{type(err).__name__}: {err}"


def _post(url: str, body: bytes) -> str | None:
    """POST JSON; None for a 2xx answer. No redirects and no proxies from the environment: the URL is the
    friend's, checked by the role (http or https, a host, a port)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=20, context=ssl.create_default_context()
        )
    elif parts.scheme == "http":
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    else:
        return f"not an http(s) URL: {parts.scheme}"
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json", "User-Agent": "logswap-netconsole-events"}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        if 200 <= response.status < 300:
            return None
        return f"HTTP {response.status} {response.reason}"
    finally:
        connection.close()


class Courier(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True, name="courier")
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.busy: set[str] = set()

    def run(self) -> None:
        while True:
            friend, entry = self.jobs.get()
            try:
                error = deliver(entry, friend.settings, friend.config, friend.config["host"], time.time())
            except Exception as err:  # a bug in one delivery must not end all the others
                error = f"{type(err).__name__}: {err}"
            self.results.put((friend, entry["id"], error))

    def hand(self, friend: Friend, now: float) -> None:
        for entry in friend.outbox.due(now):
            if entry["id"] not in self.busy:
                self.busy.add(entry["id"])
                self.jobs.put((friend, entry))

    def finish(self, timeout: float) -> None:
        """At stop: deliveries not started stay pending for the next start; the one under way may end (up to
        ``timeout`` seconds), so its result is recorded and a restart does not send it a second time."""
        while True:
            try:
                _friend, entry = self.jobs.get_nowait()
            except queue.Empty:
                break
            self.busy.discard(entry["id"])
        deadline = time.monotonic() + timeout
        while self.results.qsize() < len(self.busy) and time.monotonic() < deadline:
            time.sleep(0.05)

    def collect(self, now: float) -> None:
        while True:
            try:
                friend, entry_id, error = self.results.get_nowait()
            except queue.Empty:
                return
            self.busy.discard(entry_id)
            friend.outbox.record(entry_id, error, now)
            friend.dirty = friend.urgent = True
            if error:
                log(f"{friend.name}: delivery {entry_id} failed (will retry): {error}")


def log(text: str) -> None:
    sys.stderr.write(kmsgview.terminal_safe(text) + "\n")
    sys.stderr.flush()


def load_config(path: str) -> dict:
    """The service's configuration (written by the receiver role from checked values); fails with a message."""
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    for key in ("log_root", "state_dir", "sendmail", "friends"):
        if key not in config:
            raise ValueError(f"{path}: {key} is missing")
    names = set()
    for friend in config["friends"]:
        if not kmsgview.FRIEND_RE.fullmatch(friend.get("name", "")) or ".." in friend["name"]:
            raise ValueError(f"{path}: {friend.get('name')!r} is not a friend's name")
        if friend["name"] in names:
            raise ValueError(f"{path}: {friend['name']} is given twice")
        names.add(friend["name"])
        unknown = set(friend.get("alert_on", ())) - set(kmsgevents.ALERT_KINDS)
        if unknown:
            raise ValueError(f"{path}: {friend['name']}: unknown alert kinds {sorted(unknown)}")
        if int(friend.get("silence", 0)) < 1:
            raise ValueError(f"{path}: {friend['name']}: silence must be a number of seconds")
    return config


def boot_time() -> float:
    """When this host booted (/proc/stat btime): rsyslog has listened since about then."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for row in handle:
                if row.startswith("btime "):
                    return float(row.split()[1])
    except (OSError, ValueError):
        pass
    return time.time()


def _digest() -> str:
    sources = []
    for module in (kmsgview, kmsgevents):
        with open(module.__file__, "rb") as handle:
            sources.append(handle.read())
    return kmsgevents.code_digest(*sources)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import grp
    import pwd

    parser = argparse.ArgumentParser(prog="netconsole-events", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default="/etc/logswap-netconsole/events.json")
    parser.add_argument("--check", action="store_true", help="check the configuration and exit")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        owner = config.get("owner")
        if owner:
            config["owner_ids"] = (pwd.getpwnam(owner).pw_uid, grp.getgrnam(config["group"]).gr_gid)
    except (OSError, ValueError, KeyError) as err:
        log(f"netconsole-events: {err}")
        return 2
    if args.check:
        return 0
    config.setdefault("host", socket.getfqdn())
    config.setdefault("up_since", boot_time())
    os.makedirs(config["state_dir"], mode=0o700, exist_ok=True)
    digest = _digest()
    friends = [Friend(settings, config, digest) for settings in config["friends"]]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    courier = Courier()
    courier.start()
    hearing = Hearing()
    poll = float(config.get("poll", 1.0))
    log(f"netconsole-events: following {len(friends)} friends under {config['log_root']}")
    together = QuietTogether()
    while not stop.is_set():
        now = time.time()
        courier.collect(now)
        together.round(now, friends)
        for friend in friends:
            try:
                friend.listen(now, hearing)
                friend.step(now)
            except OSError as err:  # one friend's trouble (a full disk) does not stop the others
                log(f"{friend.name}: {err}")
            except Exception as err:  # nor a file of theirs this code did not foresee: said once, the rest goes on
                said = f"{friend.name}: {type(err).__name__}: {err}"
                if said != friend.step_error:
                    log(said)
                friend.step_error = said
            courier.hand(friend, now)
            _save(friend, now)
        stop.wait(poll)
    courier.finish(STOP_WAIT)
    courier.collect(time.time())
    for friend in friends:
        friend.dirty = True
        _save(friend, time.time(), force=True)
    return 0


def _save(friend: Friend, now: float, force: bool = False) -> None:
    """A friend's save; its trouble (a full disk, a missing directory) is said once and tried again next round."""
    try:
        friend.save(now, force)
        friend.save_error = ""
    except OSError as err:
        if str(err) != friend.save_error:
            log(f"{friend.name}: {err}")
        friend.save_error = str(err)
