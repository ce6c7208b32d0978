# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The events service's logic: a friend's console.log lines in, events.log lines and incidents (alerts) out.

Pure logic, standard library only, like kmsgview (which it builds on): the receiver installs this file next to
kmsgview.py and kmsgfollow.py (the thin I/O shell that follows the files, writes and sends), so the service and
the unit tests run the same code. Time is passed in (``now``, seconds since the epoch): nothing here reads a clock.
"""

from __future__ import annotations

import base64
import datetime
import email.message
import email.utils
import hashlib
import json
import pickle

try:
    from ansible_collections.logswap.netconsole.plugins.module_utils import kmsgview
except ImportError:  # on the receiver: kmsgview.py lies next to this file
    import kmsgview  # type: ignore[no-redef]

# An event's trace is final when the kernel ended it (its end marker, a burst gap, a new boot) or when nothing
# was added to it for SETTLE seconds; an incident is sent when nothing joined it for SETTLE seconds.
SETTLE = 5.0
# Incidents older than this when they are complete (a first run over an old file, a long outage of the
# service) are written to events.log and the state but not sent: nobody needs a mail about last month.
STALE = 3600.0
# An incident that keeps growing (a storm of warnings a few seconds apart) is sent after this long all the same.
INCIDENT_MAX = 60.0
SILENCE = 900
ALERT_KINDS = ("panic", "oops", "reboot", "silence")
# kmsgview's kinds that an "oops" alert covers: an oops, and a BUG (a NULL dereference is "BUG:" then "Oops:").
_OOPS = ("oops", "bug")
# Retries of a failed delivery: then every hour until GIVE_UP seconds after the incident.
RETRY = (30, 60, 120, 300, 600, 1800)
RETRY_MAX = 3600
GIVE_UP = 2 * 86400
KEEP_DONE = 50  # deliveries kept in the state after they were sent or given up
# A friend whose server flaps while the mail system is down must not grow the state without end: the oldest
# deliveries beyond this many are given up (the newest incidents matter most), and an incident carries at most
# INCIDENT_EVENTS events with their traces (the rest are counted; events.log has them all).
PENDING_MAX = 20
INCIDENT_EVENTS = 20
RECENT = 20  # events kept in the state file with their traces
BOOTS_KEPT = 8  # boots whose start is kept, to place a pstore record in the boot it ended
PSTORE_TRACE = 40  # a pstore record's last lines in its event (the panic and its trace end a record)
# A panic or oops console.log told this close to a pstore record's time (the server's clock; netconsole's lines
# carry the receiver's) is the record's own: the record is then a second witness, not alerted again.
PSTORE_SLACK = 30.0
TOLD_KEPT = 32  # the last panics and oopses told, with their receive times


def iso(when: float) -> str:
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).isoformat(timespec="microseconds")  # noqa: UP017 (Python 3.9)


def word(kind: str) -> str:
    """A kind as one word in events.log ("soft lockup" -> "soft-lockup")."""
    return kind.replace(" ", "-")


def alert_class(event: dict) -> str | None:
    """Which switch (ALERT_KINDS) an event falls under, if any."""
    kind = event["kind"]
    if kind == "pstore":  # decided when the record was read (Watcher.pstore)
        return event.get("alert")
    if kind in ("panic", "reboot", "silence"):
        return kind
    if kind in _OOPS or "oops" in event.get("also", ()):
        return "oops"
    return None


class _Open:
    """An event whose trace may still grow."""

    __slots__ = ("boot", "event", "last_words", "size", "touched")

    def __init__(self, event: kmsgview.Event, boot: int, last_words: list[str], now: float) -> None:
        self.event = event
        self.boot = boot
        self.last_words = last_words
        self.size = len(event.trace)
        self.touched = now


class Watcher:
    """One friend's stream of console.log lines, in arrival order, turned into events and incidents.

    Call ``feed_line`` for each line and ``tick(now)`` every second or so (fragments waiting too long are
    released, traces and incidents settle, silence is noticed); ``take()`` returns what is new. The whole object
    pickles: that is the parser state the service keeps across restarts (``checkpoint``/``restore``).
    """

    def __init__(self, friend: str, silence: int = SILENCE, alert_on: tuple[str, ...] = ALERT_KINDS) -> None:
        self.friend = friend
        self.silence = silence
        self.alert_on = tuple(alert_on)
        self.joiner = kmsgview.Reassembler()
        self.story = kmsgview.Story()
        self.boot: kmsgview.Boot | None = None
        self.boot_no = 0
        self.known = 0  # events of the current boot already picked up
        self.opened: list[_Open] = []
        self.reported = (0, 0, 0)  # seq gaps, msgid gaps, incomplete of the current boot already in events.log
        self.loss: dict | None = None  # losses not written yet
        self.last_line = 0.0
        self.last_recv = ""
        self.silent = False
        # Since when this receiver has been listening (its boot): quiet time before it is the receiver's own
        # outage, not the friend's silence (else every friend would look silent after the receiver was down).
        self.up_since = 0.0
        # Seconds of the quiet since the last line in which the receiver heard none of its friends (quiet_together):
        # not counted as this friend's quiet time; frozen: the quiet time counted when the current spell began
        # (None outside one), so a spell pauses it however it began (after this receiver's boot, a route back)
        self.unheard = 0.0
        self.frozen: float | None = None
        # the spell itself, [its start, the newest line heard before it] (QuietTogether's, kept here so that a
        # service started again knows it), and when this friend was first heard in it (the spell's end, where a
        # restarted service reads it from the backlog only later)
        self.spell: list[float] | None = None
        self.heard_in_spell = 0.0
        self.event_no = 0
        self.incident_no = 0
        self.incident: dict | None = None
        self.counts: dict[str, int] = {}
        self.recent: list[dict] = []
        self.lines = 0
        self.clock = 0.0  # the newest wall-clock time given (tick, feed_line): what "stale" is measured against
        # the last BOOTS_KEPT boots: (number, receive time of the first line); the last panics and oopses told:
        # (alert class, receive time)
        self.boot_starts: list[tuple[int, float]] = []
        self.told: list[tuple[str, float]] = []
        self._events: list[dict] = []
        self._incidents: list[dict] = []

    # input

    def feed_line(self, line: str, now: float | None = None) -> None:
        record = kmsgview.parse_line(line)
        if record is None:
            return
        self.lines += 1
        if now:
            self.clock = max(self.clock, now)
        when = kmsgview.parse_time(record.recv) or (now or 0.0)
        self._arrived(when, record.recv)
        for whole in self.joiner.feed(record):
            self._feed(whole, when)

    def tick(self, now: float) -> None:
        self.clock = max(self.clock, now)
        for whole in self.joiner.expire_at(now):
            self._feed(whole, now)
        self._settle(now)
        self._flush_loss()
        quiet = self._quiet_since()
        if self.last_line and not self.silent and now - quiet >= self.silence:
            self._silence(quiet + self.silence)
        incident = self.incident
        if incident is not None and (
            (now - incident["touched"] >= SETTLE and not self.opened) or now - incident["opened"] > INCIDENT_MAX
        ):
            self._close_incident(now)

    def pstore(self, record: dict, arrived: float, now: float) -> None:
        """A pstore record filed for this friend (kmsgview.pstore_record): the kernel log a panic (or an oops) kept
        through the reboot. An event in the boot it ended (the last one that started before the record's time,
        the server's clock). Alerted as the panic or oops that made the kernel write it, unless console.log told
        that one (an event of its class within PSTORE_SLACK seconds of the record's time), or the record is older
        than STALE, or no boot of this friend is known to place it in (a parser started afresh)."""
        when = kmsgview.parse_time(record["time"])
        ended = [number for number, start in self.boot_starts if start <= when]
        kinds = set(record["kinds"])
        trigger = record.get("trigger") or ("panic" if "panic" in kinds else "oops" if kinds & set(_OOPS) else None)
        told = any(switch == trigger and abs(at - when) <= PSTORE_SLACK for switch, at in self.told)
        alert = trigger if trigger and not told and self.boot_starts and now - when <= STALE else None
        event = {
            "kind": "pstore",
            "time": iso(min(arrived, now)),
            "boot": ended[-1] if ended else 0,
            "id": record["id"],
            "at": record["time"],
            "file": record["file"],
            "kinds": list(record["kinds"]),
            "trigger": trigger,
            "first": record["first_event"] or "",
            "lines": record["lines"],
            "missing": record.get("missing", 0),
            "in_console_log": told,
            "alert": alert,
            "trace": record["tail"][-PSTORE_TRACE:],
        }
        self.clock = max(self.clock, now)
        self._emit(event, now)

    def take(self) -> tuple[list[dict], list[dict]]:
        """Events for events.log and incidents to send, since the last call."""
        events, incidents = self._events, self._incidents
        self._events, self._incidents = [], []
        return events, incidents

    # the story

    def _quiet_since(self) -> float:
        return max(self.last_line + self.unheard, self.up_since)

    def pause(self, now: float, since: float | None = None) -> bool:
        """A round in a spell in which this receiver hears none of its friends (quiet_together): this friend's
        quiet time stays what it was when the spell began, or less where its quiet started again meanwhile (a
        route back: up_since). since: when the spell began, if before now. True on the spell's first round (what
        the checkpoint must keep at once)."""
        if not self.last_line or self.silent:
            return False
        first = self.frozen is None
        if first:
            self.frozen = max(0.0, min(now, since if since is not None else now) - self._quiet_since())
        self.frozen = min(self.frozen, max(0.0, now - self.up_since))
        self.unheard = max(0.0, now - self.last_line - self.frozen)
        return first

    def resume(self, lag: float = 0.0, end: float | None = None) -> bool:
        """The spell is over: quiet time counts again from where it was paused (or from end, when it ended, where
        that was before the last pause: a service started again after it), less lag, the time all were already
        quiet before the spell was seen (a spell that lasted that long was the receiver's own outage). True where
        it changed anything (what the checkpoint must keep at once)."""
        changed = self.frozen is not None or self.spell is not None or bool(self.heard_in_spell)
        if self.frozen is not None and self.last_line and not self.silent:
            if end is not None:
                self.unheard = max(0.0, min(self.unheard, end - self.last_line - self.frozen))
            if lag > 0:
                self.unheard += min(lag, self.frozen)
        self.frozen, self.spell, self.heard_in_spell = None, None, 0.0
        return changed

    def _arrived(self, when: float, recv: str) -> None:
        quiet = self._quiet_since()
        if self.last_line and when - quiet >= self.silence and not self.silent:
            self._silence(quiet + self.silence)  # a silence inside lines read late (after a restart)
        if self.silent:
            self.silent = False
            self._emit({"kind": "back", "time": recv, "silent": round(when - self.last_line)}, when)
        self.last_line = max(self.last_line, when)
        self.last_recv = recv
        self.unheard, self.frozen = 0.0, None
        if self.spell is not None and not self.heard_in_spell:
            self.heard_in_spell = when

    def _feed(self, record: kmsgview.Record, now: float) -> None:
        story = self.story
        story.feed(record)
        if story.boot is not self.boot:
            self._new_boots(now)
        boot = self.boot
        if boot is None:
            return
        while self.known < len(boot.events):
            event = boot.events[self.known]
            self.known += 1
            words = [shown.shown() for shown in list(boot.tail)[:-1]]
            self.opened.append(_Open(event, self.boot_no, words, now))
        lost = (boot.seq_lost, boot.msgid_lost, boot.incomplete)
        if lost != self.reported:
            more = [max(0, lost[i] - self.reported[i]) for i in range(3)]
            if any(more):
                if self.loss is None:
                    self.loss = {"kind": "loss", "time": record.recv, "seq": 0, "msgid": 0, "incomplete": 0}
                for i, key in enumerate(("seq", "msgid", "incomplete")):
                    self.loss[key] += more[i]
            self.reported = lost
        if self.opened:
            self._settle(now)

    def _new_boots(self, now: float) -> None:
        story = self.story
        start = story.boots.index(self.boot) + 1 if self.boot in story.boots else 0
        for boot in story.boots[start:]:
            previous = self.boot
            self._settle(now, force=True)
            self._flush_loss()
            self.boot_no += 1
            self.boot, self.known, self.reported = boot, 0, (0, 0, 0)
            self.boot_starts = [*self.boot_starts, (self.boot_no, kmsgview.parse_time(boot.first))][-BOOTS_KEPT:]
            event = {
                "kind": "boot" if previous is None else "reboot",
                "time": boot.first,
                "by": boot.reason,
                "release": boot.release,
                "banner": boot.banner,
                "trace": [record.shown() for record in boot.tail],
                "last_words": [] if previous is None else [record.shown() for record in previous.tail],
            }
            self._emit(event, now)
        del story.boots[:-1]  # only the current boot is needed from here on

    def _settle(self, now: float, force: bool = False) -> None:
        """Write the events whose traces are final: closed by the kernel's marks, or quiet for SETTLE seconds."""
        still = []
        for item in self.opened:
            event = item.event
            if len(event.trace) != item.size:
                item.size, item.touched = len(event.trace), now
            if force or self.story.open is not event or now - item.touched >= SETTLE:
                data = event.as_dict()
                data["boot"] = item.boot
                data["last_words"] = item.last_words
                self._emit(data, now)
            else:
                still.append(item)
        if len(still) != len(self.opened) and self.boot is not None:
            done = {id(item.event) for item in self.opened} - {id(item.event) for item in still}
            keep = [event for event in self.boot.events if id(event) not in done]
            self.known -= len(self.boot.events) - len(keep)
            self.boot.events[:] = keep
        self.opened = still

    def _flush_loss(self) -> None:
        if self.loss is not None:
            loss, self.loss = self.loss, None
            self._emit(loss, kmsgview.parse_time(loss["time"]))

    def _silence(self, since: float) -> None:
        self.silent = True
        words = [record.shown() for record in self.boot.tail] if self.boot is not None else []
        self._emit(
            {"kind": "silence", "time": iso(since), "after": self.silence, "last": self.last_recv, "last_words": words},
            since,
        )

    def _emit(self, event: dict, now: float) -> None:
        if self.loss is not None and event["kind"] != "loss":
            self._flush_loss()  # events.log stays in time order
        self.event_no += 1
        event["n"] = self.event_no
        event.setdefault("boot", self.boot_no)
        self.counts[event["kind"]] = self.counts.get(event["kind"], 0) + 1
        switch = alert_class(event)
        if event["kind"] != "pstore" and switch in ("panic", "oops"):
            self.told = [*self.told, (switch, kmsgview.parse_time(event["time"]))][-TOLD_KEPT:]
        self._events.append(event)
        if event["kind"] not in ("loss", "back"):
            self.recent = [*self.recent, event][-RECENT:]
        self._join_incident(event, now)

    # incidents: an alertable event with what follows it within SETTLE seconds, sent once

    def _join_incident(self, event: dict, now: float) -> None:
        switch = alert_class(event)
        wanted = switch is not None and switch in self.alert_on
        if self.incident is not None and (
            now - self.incident["touched"] > SETTLE or now - self.incident["opened"] > INCIDENT_MAX
        ):
            self._close_incident(now)
        if self.incident is None:
            if not wanted:
                return
            self.incident_no += 1
            self.incident = {"incident": self.incident_no, "friend": self.friend, "kinds": [], "events": []}
            self.incident["opened"] = now
        if event["kind"] in ("loss", "back") and not wanted:
            return
        if wanted and switch not in self.incident["kinds"]:
            self.incident["kinds"].append(switch)
        if len(self.incident["events"]) < INCIDENT_EVENTS:
            self.incident["events"].append(event)
        else:
            self.incident["more"] = self.incident.get("more", 0) + 1
        self.incident["touched"] = now

    def _close_incident(self, now: float) -> None:
        incident, self.incident = self.incident, None
        if incident is None:
            return
        del incident["touched"], incident["opened"]
        first = incident["events"][0]
        incident["time"] = first["time"]
        incident["boot"] = first["boot"]
        newest = max(kmsgview.parse_time(event["time"]) for event in incident["events"])
        incident["stale"] = bool(newest and max(now, self.clock) - newest > STALE)
        self._incidents.append(incident)

    # the state

    def summary(self, now: float) -> dict:
        """The friend-readable state (events.json): where the story stands."""
        boot = self.boot
        return {
            "friend": self.friend,
            "updated": iso(now),
            "lines": self.lines,
            "last_line": self.last_recv or None,
            "silent": self.silent,
            "silence_after": self.silence,
            "boot": None
            if boot is None
            else {
                "boot": self.boot_no,
                "started_by": boot.reason,
                "first": boot.first,
                "last": boot.last,
                "release": boot.release,
                "banner": boot.banner,
                "records": boot.records,
                "seq_gaps": boot.seq_lost,
                "msgid_lost": boot.msgid_lost,
                "incomplete": boot.incomplete,
                "duplicates": boot.duplicates,
            },
            "counts": dict(sorted(self.counts.items())),
            "recent": self.recent,
        }


# events.log


# Every friend that was talking quiet for this share of its own silence time, at once: this receiver's own
# network (an outage beyond its first hop, which its own link and routes do not show) rather than each friend's
# silence. A half: with the sender role's heartbeat (5 min) and the default silence (15 min), a friend that is up
# is never quiet that long, and the first one to go quiet has not reached its own silence time when the last one
# reaches this. Meanwhile quiet time pauses (Watcher.pause), so a short spell (a friend's heartbeat a little
# late where its cadence is near the half) delays another friend's silence by that spell only.
TOGETHER = 0.5


def quiet_together(watchers: list[Watcher], now: float) -> str:
    """Why this receiver should not count its friends' quiet time now ('' where it should): two friends or more
    were talking (a line heard, no silence told) and every one of them has been quiet for TOGETHER of its own
    silence time. The caller leaves out friends it knows it cannot hear (no route), whose quiet says nothing."""
    talking = [watcher for watcher in watchers if watcher.last_line and not watcher.silent]
    if len(talking) < 2 or any(now - watcher.last_line < TOGETHER * watcher.silence for watcher in talking):
        return ""
    return f"all {len(talking)} friends that were talking went quiet at once (this receiver's own network?)"


def quiet_together_since(watchers: list[Watcher]) -> float:
    """When quiet_together became true for these watchers (its caller saw that it is): the last of the talking
    friends to reach TOGETHER of its silence time (a service started again sees a spell later than it began)."""
    talking = [watcher for watcher in watchers if watcher.last_line and not watcher.silent]
    return max(watcher.last_line + TOGETHER * watcher.silence for watcher in talking)


def event_line(event: dict) -> str:
    """One line of events.log: time, kind, key=value facts, and after ' | ' the first line of the event."""
    kind = event["kind"]
    facts = [f"boot={event['boot']}", f"n={event['n']}"]
    text = ""
    if kind in ("boot", "reboot"):
        facts.append(f"by={word(event['by'])}")
        if event.get("release"):
            facts.append(f"kernel={event['release']}")
        text = event.get("banner") or (event["trace"][0] if event.get("trace") else "")
    elif kind == "loss":
        facts += [f"seq={event['seq']}", f"msgid={event['msgid']}", f"incomplete={event['incomplete']}"]
    elif kind == "silence":
        facts += [f"after={event['after']}s", f"last={event['last'] or '-'}"]
    elif kind == "back":
        facts.append(f"silent={event['silent']}s")
    elif kind == "pstore":
        facts += [f"id={event['id']}", f"at={event['at']}", "kinds=" + (",".join(map(word, event["kinds"])) or "-")]
        facts += [f"lines={event['lines']}", f"missing={event['missing']}"]
        facts.append("console=" + ("yes" if event["in_console_log"] else "no"))
        facts.append(f"alert={event['alert'] or '-'}")
        text = event["first"]
    else:
        if event.get("also"):
            facts.append("also=" + ",".join(word(also) for also in event["also"]))
        facts.append(f"trace={len(event['trace'])}")
        if event.get("incomplete"):
            facts.append("incomplete")
        if event.get("truncated"):
            facts.append("truncated")
        text = event["first"]
    line = f"{event['time']} {word(kind)} {' '.join(facts)}" + (f" | {text}" if text else "")
    return kmsgview.terminal_safe(line.replace("\n", " ")) + "\n"


# messages


def _title(incident: dict) -> str:
    first = incident["events"][0]
    what = " and ".join(incident["kinds"])
    return f"{incident['friend']}: {what} at {first['time']} (boot {incident['boot']})"


def incident_text(incident: dict, host: str) -> str:
    """The incident as a friend reads it: every event with its whole trace, the last words before it."""
    out = [
        f"The netconsole receiver {host} saw this from {incident['friend']}'s server:",
        "",
    ]
    for event in incident["events"]:
        kind = event["kind"]
        if kind in ("boot", "reboot"):
            out.append(
                f"{kind.upper()} at {event['time']} ({event['by']})"
                + (f", kernel {event['release']}" if event.get("release") else "")
            )
            if event.get("last_words"):
                out.append("  last words before the reboot:")
                out.extend(f"    {shown}" for shown in event["last_words"])
            if event.get("trace"):
                out.append("  first lines of the new boot:")
                out.extend(f"    {shown}" for shown in event["trace"])
        elif kind == "silence":
            out.append(f"SILENCE: nothing received for {event['after']} s; the last line came at {event['last']}")
            if event.get("last_words"):
                out.append("  last lines received:")
                out.extend(f"    {shown}" for shown in event["last_words"])
        elif kind in ("loss", "back"):
            out.append(event_line(event).rstrip("\n"))
        elif kind == "pstore":
            told = "netconsole told it too" if event["in_console_log"] else "netconsole did not deliver it"
            out.append(f"PSTORE record {event['id']}: the kernel log kept through the reboot ({told})")
            out.append(f"  taken at {event['at']} (the server's clock), filed as {event['file']}")
            if event.get("missing"):
                out.append(f"  {event['missing']} of its lines never arrived")
            out.append("  its last lines:")
            out.extend(f"    {shown}" for shown in event["trace"])
        else:
            marks = (" (also " + ", ".join(event["also"]) + ")" if event.get("also") else "") + (
                " [incomplete: fragments lost]" if event.get("incomplete") else ""
            )
            out.append(f"{kind.upper()} at {event['time']}{marks}")
            if event.get("last_words"):
                out.append("  last words before it:")
                out.extend(f"    {shown}" for shown in event["last_words"])
            out.append("  trace:")
            out.extend(f"    {shown}" for shown in event["trace"])
        out.append("")
    if incident.get("more"):
        out += [f"... and {incident['more']} more events in the same minute (events.log has them all).", ""]
    out.append(f"The whole story: netconsole-report {incident['friend']} (on {host}, under your own account).")
    return "".join(kmsgview.terminal_safe(text) + "\n" for text in out)


def mail_message(incident: dict, to: list[str], sender: str, host: str, now: float) -> bytes:
    """The mail for ``sendmail -t``: recipients in To, one message per incident."""
    message = email.message.EmailMessage()
    message["To"] = ", ".join(to)
    if sender:
        message["From"] = sender
    message["Subject"] = "[netconsole] " + kmsgview.terminal_safe(_title(incident))
    message["Date"] = email.utils.formatdate(now)
    message["Message-ID"] = f"<netconsole-{incident['friend']}-{incident['incident']}-{int(now)}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(incident_text(incident, host))
    return message.as_bytes()


def webhook_payload(incident: dict, host: str) -> bytes:
    """The JSON POSTed to a friend's URL: the incident as data, and the same text a mail has."""
    data = {
        "receiver": host,
        "friend": incident["friend"],
        "incident": incident["incident"],
        "kinds": incident["kinds"],
        "time": incident["time"],
        "boot": incident["boot"],
        "title": _title(incident),
        "events": incident["events"],
        "more_events": incident.get("more", 0),
        "text": incident_text(incident, host),
    }
    return json.dumps(data, ensure_ascii=True).encode()


# deliveries: an outbox kept in the state, retried with backoff


def retry_delay(attempts: int, schedule: tuple[float, ...] = RETRY) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(schedule[attempts - 1] if attempts <= len(schedule) else max(RETRY_MAX, *schedule))


class Outbox:
    """Deliveries (one per incident and channel) with their tries; JSON-ready as ``entries``."""

    def __init__(self, entries: list[dict] | None = None, schedule: tuple[float, ...] = RETRY) -> None:
        self.entries: list[dict] = [dict(entry) for entry in entries or []]
        self.schedule = tuple(schedule)

    def add(self, incident: dict, channels: list[str], now: float) -> list[dict]:
        added = []
        for channel in channels:
            entry = {
                "id": f"{incident['friend']}-{incident['incident']}-{channel}",
                "friend": incident["friend"],
                "incident": incident["incident"],
                "channel": channel,
                "title": _title(incident),
                "created": now,
                "state": "pending",
                "attempts": 0,
                "next": now,
                "error": None,
                "body": incident,
            }
            self.entries.append(entry)
            added.append(entry)
        self._bound(now)
        return added

    def _bound(self, now: float) -> None:
        pending = [entry for entry in self.entries if entry["state"] == "pending"]
        for entry in pending[:-PENDING_MAX]:
            entry["state"], entry["last_try"] = "given up", now
            entry["error"] = f"more than {PENDING_MAX} alerts waiting for this friend: the oldest are given up"
        if len(pending) > PENDING_MAX:
            self._prune()

    def due(self, now: float) -> list[dict]:
        return [entry for entry in self.entries if entry["state"] == "pending" and entry["next"] <= now]

    def record(self, entry_id: str, error: str | None, now: float) -> None:
        for entry in self.entries:
            if entry["id"] != entry_id or entry["state"] != "pending":
                continue
            entry["attempts"] += 1
            entry["last_try"] = now
            if error is None:
                entry["state"], entry["error"] = "sent", None
            else:
                entry["error"] = error[:500]
                entry["next"] = now + retry_delay(entry["attempts"], self.schedule)
                if entry["next"] - entry["created"] > GIVE_UP:
                    entry["state"] = "given up"
        self._prune()

    def _prune(self) -> None:
        done = [entry for entry in self.entries if entry["state"] != "pending"]
        for entry in done[:-KEEP_DONE]:
            self.entries.remove(entry)
        for entry in done[-KEEP_DONE:]:
            entry.pop("body", None)  # what was sent need not be kept

    def public(self) -> list[dict]:
        """The deliveries as the friend's state file shows them (no message bodies)."""
        keys = ("id", "incident", "channel", "title", "state", "attempts", "error")
        out = []
        for entry in self.entries:
            item = {key: entry.get(key) for key in keys}
            item["created"] = iso(entry["created"])
            item["next_try"] = iso(entry["next"]) if entry["state"] == "pending" else None
            out.append(item)
        return out


# the checkpoint: what the service needs after a restart


def code_digest(*sources: bytes) -> str:
    return hashlib.sha256(b"\0".join(sources)).hexdigest()[:16]


def checkpoint(watcher: Watcher, outbox: Outbox, files: dict, events_size: int, digest: str) -> dict:
    """JSON-ready: the files' identities and offsets, events.log's size, the outbox and the pickled parser."""
    return {
        "version": 1,
        "friend": watcher.friend,
        "files": files,
        "events_size": events_size,
        "outbox": outbox.entries,
        "digest": digest,
        "carry": carry(watcher),
        "watcher": base64.b64encode(pickle.dumps(watcher, protocol=4)).decode("ascii"),
    }


def restore(data: dict, friend: str, silence: int, alert_on: tuple[str, ...], digest: str) -> tuple[Watcher, Outbox]:
    """The watcher and outbox from a checkpoint. The parser is restored only from the same code (``digest``):
    after an upgrade the counters carry over and the parser starts fresh at the saved offsets (nothing is read
    twice; the current boot's sequence context is lost, so the next line starts a boot marked "first seen")."""
    watcher = None
    if data.get("version") == 1 and data.get("digest") == digest and data.get("watcher"):
        try:
            watcher = pickle.loads(base64.b64decode(data["watcher"]))  # root's own 0600 file
        except Exception:  # a damaged checkpoint starts the parser afresh
            watcher = None
    if watcher is None:
        watcher = Watcher(friend, silence, alert_on)
        old = data.get("carry") or {}
        for key in _CARRIED:
            if key in old:
                setattr(watcher, key, old[key])
        watcher.boot_starts = [(int(number), float(start)) for number, start in old.get("boot_starts", [])]
        watcher.told = [(str(switch), float(at)) for switch, at in old.get("told", [])]
    watcher.silence, watcher.alert_on = silence, tuple(alert_on)
    return watcher, Outbox(data.get("outbox"))


# The watcher's counters a fresh parser continues from (carry writes them, restore reads them).
_CARRIED = (
    "event_no",
    "incident_no",
    "boot_no",
    "last_line",
    "last_recv",
    "silent",
    "counts",
    "lines",
    "clock",
    "unheard",
    "frozen",
    "spell",
    "heard_in_spell",
)


def carry(watcher: Watcher) -> dict:
    """The counters a fresh parser continues from (kept next to the pickled one, in plain JSON)."""
    data = {key: getattr(watcher, key) for key in _CARRIED}
    data["boot_starts"] = [list(pair) for pair in watcher.boot_starts]  # where pstore records are placed
    data["told"] = [list(pair) for pair in watcher.told]  # which of them console.log told already
    return data
