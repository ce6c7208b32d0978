"""The events service's logic: console.log lines in, events.log lines and one incident per crash out."""

from __future__ import annotations

import email
import json

from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgevents import (
    GIVE_UP,
    INCIDENT_EVENTS,
    INCIDENT_MAX,
    PENDING_MAX,
    RETRY,
    SETTLE,
    STALE,
    Outbox,
    Watcher,
    checkpoint,
    event_line,
    incident_text,
    mail_message,
    quiet_together,
    restore,
    retry_delay,
    webhook_payload,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import parse_time

SRC = "172.30.77.21"
T0 = parse_time("2026-11-30T05:00:00+00:00")


def at(second: float) -> str:
    whole = int(second)
    return f"2026-11-30T05:{whole // 60:02d}:{whole % 60:02d}.{int((second - whole) * 1e6):06d}+00:00"


def line(second: float, datagram: str) -> str:
    return f"{at(second)} {SRC} {datagram}\n"


BANNER = "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1"


def crash(start: float = 0.0) -> list[str]:
    """A boot, lines, a gap of two, an oops in two fragments (out of order) with its trace, then a reboot."""
    rows = [line(start, f"5,0,0,-;{BANNER}")]
    rows += [line(start + 1, f"6,{seq},{seq * 1000},-;ordinary {seq}") for seq in range(1, 6)]
    rows += [line(start + 2, f"6,{seq},{seq * 1000},-;after the gap {seq}") for seq in range(8, 10)]
    oops = "BUG: kernel NULL pointer dereference, address: 0000000000000000 " + "m" * 1200 + " END"
    total = len(oops)
    rows += [
        line(start + 3, f"1,10,20000000,-,ncfrag=969/{total};{oops[969:]}"),
        line(start + 3, f"1,10,20000000,-,ncfrag=0/{total};{oops[:969]}"),
        line(start + 3, "1,11,20000100,-;#PF: supervisor write access in kernel mode"),
        line(start + 3, "4,12,20000200,-;Oops: 0002 [#1] PREEMPT SMP NOPTI"),
        line(start + 3, "4,13,20000300,-;Call Trace:"),
        line(start + 3, "4,14,20000400,-; sysrq_handle_crash+0x16/0x20"),
        line(start + 3, "4,15,20000500,-;---[ end trace 0000000000000000 ]---"),
    ]
    return rows


def reboot(start: float) -> list[str]:
    return [line(start, f"5,0,0,-;{BANNER}"), line(start, "6,1,1000,-;the next boot")]


def run(watcher: Watcher, rows: list[str], now: float) -> tuple[list[dict], list[dict]]:
    for row in rows:
        watcher.feed_line(row, now)
    watcher.tick(now)
    return watcher.take()


def test_a_crash_gives_one_event_line_each_and_one_incident_with_its_trace_and_last_words():
    watcher = Watcher("alice", silence=600)
    events, incidents = run(watcher, crash(), T0 + 3.5)
    assert [e["kind"] for e in events] == ["boot", "loss", "bug"]
    boot, loss, bug = events
    assert (boot["by"], boot["banner"]) == ("first seen", BANNER)
    assert (loss["seq"], loss["msgid"], loss["incomplete"]) == (2, 0, 0)
    assert (
        bug["also"] == ["oops"]
        and len(bug["trace"]) == 6
        and bug["trace"][-1].endswith("---[ end trace 0000000000000000 ]---")
    )
    assert bug["last_words"][-1] == "[    0.009000] after the gap 9"
    assert incidents == [], "the incident waits SETTLE seconds for what follows"
    events, incidents = run(watcher, [], T0 + 3.5 + SETTLE + 0.1)
    assert events == []
    (incident,) = incidents
    assert incident["kinds"] == ["oops"] and [e["kind"] for e in incident["events"]] == ["bug"]
    assert not incident["stale"]
    lines = [event_line(e) for e in [boot, loss, bug]]
    assert lines[0].startswith(f"{at(0)} boot boot=1 n=1 by=first-seen kernel=6.1.0-27-amd64 | Linux version")
    assert lines[1] == f"{at(2)} loss boot=1 n=2 seq=2 msgid=0 incomplete=0\n"
    assert lines[2].startswith(f"{at(3)} bug boot=1 n=3 also=oops trace=6 | [   20.000000] BUG: kernel NULL")
    assert all(text.count("\n") == 1 for text in lines)


def test_a_reboot_is_its_own_incident_with_the_last_words_before_it():
    watcher = Watcher("alice", silence=600)
    run(watcher, crash(), T0 + 20)
    watcher.take()
    events, incidents = run(watcher, reboot(60), T0 + 60)
    (event,) = events
    assert (event["kind"], event["boot"], event["by"]) == ("reboot", 2, "sequence reset")
    assert event["last_words"][-1].endswith("---[ end trace 0000000000000000 ]---")
    _events, incidents = run(watcher, [], T0 + 60 + SETTLE + 1)
    assert [i["kinds"] for i in incidents] == [["reboot"]]
    assert incidents[0]["incident"] == 2


def test_an_oops_then_a_panic_within_seconds_is_one_incident():
    watcher = Watcher("alice")
    rows = [line(0, f"5,0,0,-;{BANNER}"), line(1, "4,1,1000000,-;Oops: 0002 [#1] SMP")]
    rows += [line(1, "4,2,1000100,-;---[ end trace 0 ]---")]
    rows += [line(2, "0,3,2000000,-;Kernel panic - not syncing: Fatal exception")]
    rows += [line(2, "0,4,2000100,-;---[ end Kernel panic - not syncing: Fatal exception ]---")]
    events, _incidents = run(watcher, rows, T0 + 2.5)
    assert [e["kind"] for e in events] == ["boot", "oops", "panic"]
    _events, incidents = run(watcher, [], T0 + 2 + SETTLE + 1)
    (incident,) = incidents
    assert incident["kinds"] == ["oops", "panic"] and len(incident["events"]) == 2


def test_a_trace_with_no_end_is_released_after_the_wait_and_a_lost_fragment_is_marked():
    watcher = Watcher("alice")
    rows = [line(0, f"5,0,0,-;{BANNER}"), line(1, "0,1,1000000,-;Kernel panic - not syncing: dead")]
    rows += [line(1, "0,2,1000100,-;CPU: 0 PID: 1 Comm: init"), line(1, "0,3,1000200,-,ncfrag=0/3000;" + "x" * 969)]
    events, _incidents = run(watcher, rows, T0 + 2)
    assert [e["kind"] for e in events] == ["boot"], "the trace is still open 1 s later"
    events, _incidents = run(watcher, [], T0 + 1 + SETTLE + 0.5)
    assert [e["kind"] for e in events] == ["loss"], "the fragment is released, incomplete, after the wait"
    assert events[0]["incomplete"] == 1
    events, _incidents = run(watcher, [], T0 + 1 + 2 * SETTLE + 1)
    (panic,) = events
    assert panic["kind"] == "panic" and panic["incomplete"] and "bytes lost" in panic["trace"][-1]
    _events, incidents = run(watcher, [], T0 + 1 + 4 * SETTLE)
    assert [i["kinds"] for i in incidents] == [["panic"]]


def test_silence_fires_once_and_lines_coming_back_end_it():
    watcher = Watcher("alice", silence=60)
    run(watcher, [line(0, f"5,0,0,-;{BANNER}"), line(1, "6,1,1000,-;last words")], T0 + 1)
    watcher.take()
    assert run(watcher, [], T0 + 59) == ([], [])
    events, _incidents = run(watcher, [], T0 + 61.5)
    (silence,) = events
    assert (silence["kind"], silence["time"], silence["last"]) == ("silence", at(61), at(1))
    assert silence["last_words"][-1] == "[    0.001000] last words"
    events, incidents = run(watcher, [], T0 + 200)
    assert events == [], "not repeated"
    assert [i["kinds"] for i in incidents] == [["silence"]]
    assert run(watcher, [], T0 + 250) == ([], [])
    events, _incidents = run(watcher, [line(300, "6,2,2000,-;hello again")], T0 + 300)
    assert [(e["kind"], e["silent"]) for e in events] == [("back", 299)]
    assert watcher.summary(T0 + 300)["silent"] is False


def test_switches_keep_unwanted_kinds_from_alerting_but_not_from_events_log():
    watcher = Watcher("alice", alert_on=("panic",))
    events, _incidents = run(watcher, crash() + reboot(60), T0 + 60)
    assert [e["kind"] for e in events] == ["boot", "loss", "bug", "reboot"]
    assert run(watcher, [], T0 + 100)[1] == []


def test_an_old_incident_read_at_first_start_is_recorded_as_stale():
    watcher = Watcher("alice")
    _events, incidents = run(watcher, crash(), T0 + STALE + 100)
    # the crash is over an hour old; the silence after it began 15 min later, less than an hour ago: still told
    assert [(i["kinds"], i["stale"]) for i in incidents] == [(["oops"], True), (["silence"], False)]


def test_a_checkpoint_resumes_without_counting_twice():
    watcher = Watcher("alice", silence=600)
    rows = crash()
    events, _incidents = run(watcher, rows[:9], T0 + 2.1)
    data = json.loads(json.dumps(checkpoint(watcher, Outbox(), {"console.log": {"offset": 1}}, 10, "d1")))
    again, outbox = restore(data, "alice", 600, ("panic",), "d1")
    assert again.alert_on == ("panic",) and outbox.entries == []
    more, _incidents = run(again, rows[9:], T0 + 20)
    kinds = [e["kind"] for e in events + more]
    assert kinds == ["boot", "loss", "bug"] and [e["n"] for e in events + more] == [1, 2, 3]
    assert more[-1]["boot"] == 1 and len(more[-1]["trace"]) == 6
    # another version of the code: counters carry over, the parser starts afresh
    fresh, _outbox = restore(data, "alice", 600, ("panic",), "d2")
    assert fresh.event_no == 2 and fresh.boot_no == 1 and fresh.boot is None


def test_retries_back_off_persist_and_give_up():
    outbox = Outbox()
    incident = {"incident": 1, "friend": "alice", "kinds": ["panic"], "time": at(0), "boot": 1, "events": []}
    incident["events"] = [{"kind": "panic", "time": at(0), "boot": 1, "n": 1, "trace": ["x"], "first": "x"}]
    (entry,) = outbox.add(incident, ["webhook"], T0)
    assert outbox.due(T0) == [entry]
    outbox.record(entry["id"], "HTTP 500", T0)
    assert outbox.due(T0 + RETRY[0] - 1) == [] and outbox.due(T0 + RETRY[0]) == [entry]
    assert [retry_delay(n) for n in (1, 2, 7, 20)] == [RETRY[0], RETRY[1], 3600, 3600]
    again = Outbox(json.loads(json.dumps(outbox.entries)))
    (public,) = again.public()
    assert (public["state"], public["attempts"], public["error"]) == ("pending", 1, "HTTP 500")
    again.record(entry["id"], None, T0 + RETRY[0])
    assert again.public()[0]["state"] == "sent" and again.due(T0 + GIVE_UP) == []
    assert "body" not in again.entries[0]
    (late,) = again.add(dict(incident, incident=2), ["mail"], T0)
    again.record(late["id"], "no MTA", T0 + GIVE_UP)
    assert again.public()[-1]["state"] == "given up"


def test_the_mail_and_the_webhook_carry_the_whole_trace_once_and_nothing_raw():
    watcher = Watcher("alice")
    rows = crash()
    rows[7] = line(2, "6,9,9000,-;evil \x1b]0;pwned\x07 #033[2J")
    run(watcher, rows, T0 + 4)
    _events, (incident,) = run(watcher, [], T0 + 20)
    raw = mail_message(incident, ["alice@example.org"], "netconsole@recv", "recv", T0 + 20)
    message = email.message_from_bytes(raw)
    assert message["To"] == "alice@example.org" and "oops" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert body.count("BUG: kernel NULL pointer dereference") == 1 and "sysrq_handle_crash" in body
    assert "last words before it:" in body and "evil #033]0;pwned#007" in body and "\x1b" not in body
    payload = json.loads(webhook_payload(incident, "recv"))
    assert payload["friend"] == "alice" and payload["kinds"] == ["oops"]
    assert payload["events"][0]["trace"][-1].endswith("---[ end trace 0000000000000000 ]---")


def test_a_storm_of_events_a_few_seconds_apart_is_still_sent_after_a_minute():
    watcher = Watcher("alice")
    run(watcher, [line(0, f"5,0,0,-;{BANNER}")], T0)
    sent = []
    for i in range(1, 60):
        second = 3 * i
        rows = [line(second, f"4,{2 * i - 1},{second * 1_000_000},-;Oops: {i} [#{i}] SMP")]
        rows.append(line(second, f"4,{2 * i},{second * 1_000_000 + 100},-;---[ end trace {i} ]---"))
        sent += run(watcher, rows, T0 + second)[1]
    assert sent, "nothing sent while oopses kept coming every 3 s"
    first = sent[0]
    assert first["kinds"] == ["oops"] and 1 < len(first["events"]) <= INCIDENT_MAX / 3 + 1


def test_the_receivers_own_outage_is_not_a_friends_silence():
    watcher = Watcher("alice", silence=60)
    run(watcher, [line(0, f"5,0,0,-;{BANNER}"), line(1, "6,1,1000,-;before the receiver went down")], T0 + 1)
    watcher.up_since = T0 + 500  # the receiver was off from about 2 s to 500 s, then booted and started again
    assert run(watcher, [line(510, "6,2,2000,-;received again")], T0 + 510) == ([], [])
    assert run(watcher, [], T0 + 569) == ([], [])
    events, _incidents = run(watcher, [], T0 + 571)
    assert [(e["kind"], e["time"]) for e in events] == [("silence", at(570))], "quiet while listening is silence"
    late = Watcher("alice", silence=60)
    late.up_since = T0 + 500
    # lines read late (the events service started after the receiver's boot): quiet counted from the boot
    events, _incidents = run(late, [line(0, f"5,0,0,-;{BANNER}"), line(1, "6,1,1000,-;before")], T0 + 600)
    assert [(e["kind"], e["time"]) for e in events] == [("boot", at(0)), ("silence", at(560))]


def test_one_friend_quiet_is_its_silence_whoever_else_is_quiet():
    alice, bob = Watcher("alice", silence=60), Watcher("bob", silence=900)
    run(alice, [line(0, "6,1,1000,-;last words")], T0)
    assert quiet_together([alice], T0 + 100) == "", "one friend alone: its own silence"
    run(bob, [line(50, "6,1,1000,-;bob talks")], T0 + 50)
    assert quiet_together([alice, bob], T0 + 60) == "", "bob was heard 10 s ago"
    assert run(alice, [], T0 + 61)[0][0]["kind"] == "silence"
    assert quiet_together([alice, bob], T0 + 2000) == "", "alice is told silent: only bob is left talking"
    carol = Watcher("carol", silence=900)
    run(carol, [line(1500, "6,1,1000,-;carol talks")], T0 + 1500)
    assert quiet_together([alice, bob, carol], T0 + 1949) == "", "carol quiet for less than half her silence"
    assert "all 2 friends" in quiet_together([alice, bob, carol], T0 + 1950)


def test_quiet_time_paused_while_all_were_quiet_is_not_counted_and_carried_across_a_restart():
    watcher = Watcher("alice", silence=60)
    run(watcher, [line(0, "6,1,1000,-;last words")], T0)
    for second in range(30, 131):  # a spell from 30 s: her 30 s of quiet stay 30 s until 130 s
        watcher.pause(T0 + second)
    data = checkpoint(watcher, Outbox(), {}, 0, "other code")
    again, _outbox = restore(json.loads(json.dumps(data)), "alice", 60, ("silence",), "new code")
    again.pause(T0 + 200)  # restarted within the spell (down for 70 s of it): still paused
    again.resume()
    assert run(again, [], T0 + 229)[0] == []
    (silence,) = run(again, [], T0 + 231)[0]
    assert silence["time"] == at(230)
    run(again, [line(300, "6,2,2000,-;back")], T0 + 300)
    assert (again.unheard, again.frozen) == (0.0, None)


def test_a_spell_pauses_quiet_time_counted_from_the_receivers_boot():
    # the receiver booted at 1000 s into an outage beyond its first hop: quiet counts from its boot, then pauses
    watcher = Watcher("alice", silence=60)
    run(watcher, [line(0, "6,1,1000,-;before the receiver went down")], T0)
    watcher.up_since = T0 + 1000
    for second in range(1010, 1300):
        watcher.pause(T0 + second)
        assert run(watcher, [], T0 + second)[0] == [], second
    watcher.resume()
    assert run(watcher, [], T0 + 1348)[0] == []
    assert run(watcher, [], T0 + 1350)[0][0]["time"] == at(1349)  # 10 s before the spell, 50 s after


def test_alerts_waiting_for_a_dead_mail_system_are_bounded():
    outbox = Outbox()
    for number in range(1, PENDING_MAX + 6):
        incident = {"incident": number, "friend": "alice", "kinds": ["reboot"], "time": at(number), "boot": number}
        incident["events"] = [{"kind": "reboot", "time": at(number), "boot": number, "n": number, "by": "x"}]
        outbox.add(incident, ["mail"], T0 + number)
    pending = [entry for entry in outbox.entries if entry["state"] == "pending"]
    assert [entry["incident"] for entry in pending] == list(range(6, PENDING_MAX + 6)), "the newest are kept"
    given_up = [entry for entry in outbox.public() if entry["state"] == "given up"]
    assert len(given_up) == 5 and "more than" in given_up[0]["error"]
    assert all("body" not in entry for entry in outbox.entries if entry["state"] != "pending")


def test_an_incident_carries_a_bounded_number_of_events_and_says_how_many_more():
    watcher = Watcher("alice")
    rows = [line(0, f"5,0,0,-;{BANNER}")]
    for i in range(1, 41):  # an oops a second for 40 s: one incident
        rows.append(line(i, f"4,{2 * i - 1},{i * 1_000_000},-;Oops: {i} [#{i}] SMP"))
        rows.append(line(i, f"4,{2 * i},{i * 1_000_000 + 100},-;---[ end trace {i} ]---"))
    sent = []
    for second in range(0, 80):
        sent += run(watcher, [row for row in rows if parse_time(row.split(" ", 1)[0]) == T0 + second], T0 + second)[1]
    (incident,) = sent
    assert len(incident["events"]) == INCIDENT_EVENTS and incident["more"] == 40 - INCIDENT_EVENTS
    text = mail_message(incident, ["alice@example.org"], "", "recv", T0 + 80).decode()
    assert f"and {40 - INCIDENT_EVENTS} more events" in text
    assert json.loads(webhook_payload(incident, "recv"))["more_events"] == 40 - INCIDENT_EVENTS


# A pstore record as kmsgview.pstore_record reads it: the panic of the boot that started at T0 (crash()), taken at
# T0 + 30 by the server's clock, filed after the reboot.
def pstore_record(kinds: tuple[str, ...] = ("panic",)) -> dict:
    tail = ["[   30.000000] sysrq: Trigger a crash", "[   30.000100] Kernel panic - not syncing: sysrq triggered crash"]
    tail += ["[   30.000200] Call Trace:", "[   30.000300]  sysrq_handle_crash+0x16/0x20"]
    return {
        "id": "20261130T050030Z-0123456789ab",
        "time": "2026-11-30T05:00:30Z",
        "file": "pstore/20261130T050030Z-0123456789ab.txt",
        "lines": 4,
        "missing": 0,
        "kinds": list(kinds),
        "first_event": tail[1] if kinds else None,
        "tail": tail,
    }


def test_a_pstore_record_of_a_panic_netconsole_did_not_send_is_told_in_the_boot_it_ended_and_alerted():
    watcher = Watcher("alice", silence=600)
    run(watcher, reboot(0), T0 + 1)  # boot 1 from T0 (no panic arrived: the link was down)
    run(watcher, [line(60, f"5,0,0,-;{BANNER}"), line(60, "6,1,1500,-;boot two")], T0 + 61)  # boot 2 from T0 + 60
    watcher.take()
    run(watcher, [], T0 + 61 + SETTLE + 1)  # the reboot's incident goes first
    watcher.pstore(pstore_record(), T0 + 90, T0 + 90)
    events, incidents = run(watcher, [], T0 + 90 + SETTLE + 1)
    (event,) = events
    assert (event["kind"], event["boot"], event["in_console_log"]) == ("pstore", 1, False)
    assert event_line(event) == (
        "2026-11-30T05:01:30.000000+00:00 pstore boot=1 n=3 id=20261130T050030Z-0123456789ab at=2026-11-30T05:00:30Z"
        " kinds=panic lines=4 missing=0 console=no alert=panic"
        " | [   30.000100] Kernel panic - not syncing: sysrq triggered crash\n"
    )
    (incident,) = incidents
    assert incident["kinds"] == ["panic"] and not incident["stale"]
    text = incident_text(incident, "recv")
    assert "netconsole did not deliver it" in text and "sysrq_handle_crash+0x16/0x20" in text


def test_a_pstore_record_of_a_panic_netconsole_told_is_written_but_not_alerted_again():
    watcher = Watcher("alice", silence=600)
    panic = [line(0, f"5,0,0,-;{BANNER}"), line(30, "0,1,30000100,-;Kernel panic - not syncing: sysrq triggered crash")]
    run(watcher, [*panic, line(30, "4,2,30000200,-;---[ end Kernel panic - not syncing: sysrq ]---")], T0 + 31)
    run(watcher, reboot(60), T0 + 61)
    run(watcher, [], T0 + 61 + SETTLE + 1)
    watcher.take()
    watcher.pstore(pstore_record(), T0 + 90, T0 + 90)
    events, incidents = run(watcher, [], T0 + 90 + SETTLE + 1)
    assert [(e["kind"], e["boot"], e["in_console_log"]) for e in events] == [("pstore", 1, True)]
    assert incidents == []
    # a record without a kernel event (an oops kept from an earlier boot, say, or a WARNING): written, not alerted
    watcher.pstore(dict(pstore_record(()), id="20261130T050031Z-0123456789ab"), T0 + 100, T0 + 100)
    events, incidents = run(watcher, [], T0 + 100 + SETTLE + 1)
    assert [e["kinds"] for e in events] == [[]] and incidents == []
