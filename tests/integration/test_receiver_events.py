"""The events service against the real rsyslogd running the role's drop-in, with a real SMTP server and a webhook.

tx: alice 10.98.0.2 sends netconsole datagrams (real UDP) to the receiver 10.98.0.1 (rx), where rsyslogd writes
<log root>/alice/console.log. netconsole-events (the role's configuration, rendered through the role's own check)
follows it: events.log and events.json appear in alice's directory, readable by her reader only; each incident is
one mail, through msmtp's sendmail interface to an SMTP server this test starts (aiosmtpd), and one POST to a
local http.server, which fails the first try. Then: the service killed and started again counts nothing twice;
a rotation (rename, HUP, new file) is followed; a silence fires once, and lines coming back end it; while the
receiver itself has no route to alice, her quiet time is not counted.

The service runs in this machine's own namespace (it mails the test's SMTP server on 127.0.0.1), where the test
routes alice's address to lo for the time of the test, so whether it can hear her depends on no outside route.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import ClassVar

import pytest
from logswap_testlib import (
    MODULE_UTILS,
    EventsService,
    need_program,
    need_root,
    render_receiver,
    rsyslogd_in,
    run_module,
    sh,
    veth_namespaces,
)

from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgevents import SETTLE
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgview import parse_time

PREFIX = "lse" + uuid.uuid4().hex[:5]
TX, RX = f"{PREFIX}-tx", f"{PREFIX}-rx"
RX_IP, ALICE = "10.98.0.1", "10.98.0.2"
SILENCE = 30  # seconds, longer than any pause between the tests; the role allows 60 at least, set in the rendered file


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd): every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], bytes]] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook on loopback: the first POST gets 500, the others 200; every POST is kept."""

    posts: ClassVar[list[tuple[int, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 500 if not self.posts else 200
        self.posts.append((status, body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def send(payloads: list[str]) -> None:
    """Datagrams from alice's netconsole port, in order, as a kernel's burst leaves it."""
    code = (
        "import base64,json,socket,sys,time;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
        f"s.bind(({ALICE!r},6665));"
        "[(s.sendto(base64.b64decode(p),(sys.argv[1],6666)),time.sleep(0.01)) for p in json.loads(sys.argv[2])]"
    )
    encoded = json.dumps([base64.b64encode(p.encode() + b"\n").decode() for p in payloads])
    subprocess.run(["ip", "netns", "exec", TX, "python3", "-c", code, RX_IP, encoded], check=True)


def wait_for(what: str, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


BANNER = "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1"


def incident(tag: str) -> tuple[list[str], str]:
    """A boot, lines, a gap of two, an oops whose long first line came in two fragments (the second first, one
    twice), its trace; and the oops line whole."""
    rows = [f"5,0,0,-;{BANNER}"] + [f"6,{seq},{seq * 1000},-;ordinary line {seq} {tag}" for seq in range(1, 6)]
    rows += [f"6,{seq},{seq * 1000},-;after the gap {seq} {tag}" for seq in range(8, 11)]
    oops = f"BUG: kernel NULL pointer dereference, address: 0000000000000000 {tag} " + "m" * 1500 + " END"
    total = len(oops)
    pieces = [f"1,11,20000000,-,ncfrag={off}/{total};{oops[off : off + 969]}" for off in range(0, total, 969)]
    rows += [pieces[1], pieces[0], pieces[1]]
    rows += [
        "1,12,20000100,-;#PF: supervisor write access in kernel mode",
        "4,13,20000200,-;Oops: 0002 [#1] PREEMPT SMP NOPTI",
        "4,14,20000300,-;Call Trace:",
        "4,15,20000400,-; sysrq_handle_crash+0x16/0x20",
        "4,16,20000500,-;---[ end trace 0000000000000000 ]---",
    ]
    return rows, oops


@contextlib.contextmanager
def route_to_alice():
    """alice's address routed to lo in this namespace: the service can hear her (until a test says otherwise)."""
    sh("ip", "route", "replace", f"{ALICE}/32", "dev", "lo")
    try:
        yield
    finally:
        sh("ip", "route", "del", f"{ALICE}/32", check=False)


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    need_root()
    need_program("/usr/sbin/rsyslogd", "rsyslog")
    need_program("/usr/bin/msmtp", "msmtp")
    work = tmp_path_factory.mktemp("events")
    # outside pytest's 0700 directory, so the reader can reach the friend's directory as on a receiver
    log_root = Path(tempfile.mkdtemp(prefix="logswap-events-"))
    log_root.chmod(0o711)
    friend = log_root / "alice"
    friend.mkdir(parents=True)
    os.chmod(friend, 0o750)
    result = run_module("reader_acl", {"path": str(friend), "readers": ["nobody"]})
    assert not result.get("failed"), result
    mailbox = Mailbox()
    mailbox.controller.start()
    Hook.posts = []
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    # the MTA's sendmail interface: msmtp, relaying to the test's SMTP server
    sendmail = work / "sendmail"
    sendmail.write_text(
        f'#!/bin/sh\nexec /usr/bin/msmtp --host=127.0.0.1 --port={mailbox.port} --from=netconsole@recv.test "$@"\n'
    )
    sendmail.chmod(0o755)
    files = {name: work / name for name in ("role.conf", "cap", "events.json")}
    render_receiver(
        {
            "render_out": str(files["role.conf"]),
            "render_cap_out": str(files["cap"]),
            "render_events_out": str(files["events.json"]),
            "receiver_log_root": str(log_root),
            "render_friends": [{"name": "alice", "addresses": [ALICE]}],
            "receiver_alerts": {
                "alice": {"mail": ["alice@example.org"], "webhook": f"http://127.0.0.1:{hook.server_port}/hook"}
            },
            "receiver_alert_sendmail": str(sendmail),
            "__receiver_events_state": str(work / "state"),
        }
    )
    config = json.loads(files["events.json"].read_text())
    assert config["friends"][0]["silence"] == 900 and config["state_dir"] == str(work / "state")
    config["friends"][0]["silence"] = SILENCE
    config["retry"] = [2]  # the first retry after 2 s, not 30
    files["events.json"].write_text(json.dumps(config))
    (work / "spool").mkdir()
    main = work / "main.conf"
    main.write_text(f'global(workDirectory="{work / "spool"}")\ninclude(file="{files["role.conf"]}")\n')
    service = EventsService(work / "lib", files["events.json"], work / "service.log")
    with (
        veth_namespaces(PREFIX, [f"{ALICE}/24"], [f"{RX_IP}/24"]),
        rsyslogd_in(RX, main) as proc,
        route_to_alice(),
    ):
        service.start()
        try:
            yield {"dir": friend, "service": service, "mailbox": mailbox, "rsyslogd": proc, "work": work}
        finally:
            with contextlib.suppress(AssertionError):
                service.stop()
            mailbox.controller.stop()
            hook.shutdown()
            shutil.rmtree(log_root)


def events(friend: Path) -> list[str]:
    path = friend / "events.log"
    return path.read_text().splitlines() if path.exists() else []


def kinds(friend: Path) -> list[str]:
    return [line.split(" ", 2)[1] for line in events(friend)]


def state(friend: Path) -> dict:
    return json.loads((friend / "events.json").read_text())


def mails(mailbox: Mailbox) -> list[str]:
    """Each mail as its reader sees it: the subject line, then the body decoded (quoted-printable on the wire)."""
    out = []
    for _to, content in mailbox.messages:
        message = email.message_from_bytes(content, policy=email.policy.default)
        out.append(f"Subject: {message['Subject']}\n{message.get_content()}")
    return out


def sent(friend: Path, channel: str) -> list[dict]:
    return [a for a in state(friend)["alerts"] if a["channel"] == channel and a["state"] == "sent"]


def test_an_incident_is_one_line_per_event_one_mail_and_one_post_with_its_trace(receiver):
    friend, mailbox = receiver["dir"], receiver["mailbox"]
    tag = uuid.uuid4().hex[:8]
    rows, oops = incident(tag)
    send(rows)
    wait_for("the bug line in events.log", lambda: "bug" in kinds(friend))
    assert kinds(friend) == ["boot", "loss", "bug"]
    boot, loss, bug = events(friend)
    assert " boot boot=1 n=1 by=first-seen kernel=6.1.0-27-amd64 | Linux version 6.1.0-27-amd64" in boot
    assert loss.endswith(" loss boot=1 n=2 seq=2 msgid=0 incomplete=0")
    assert f" bug boot=1 n=3 also=oops trace=6 | [   20.000000] {oops}" in bug
    wait_for("the mail", lambda: mailbox.messages)
    wait_for("the webhook, retried", lambda: sent(friend, "webhook"), timeout=20)
    time.sleep(3)  # anything more would come now
    (mail,) = mails(mailbox)
    assert mailbox.messages[0][0] == ["alice@example.org"]
    assert "Subject: [netconsole] alice: oops at" in mail
    assert mail.count(f"BUG: kernel NULL pointer dereference, address: 0000000000000000 {tag}") == 1
    assert "sysrq_handle_crash+0x16/0x20" in mail and f"after the gap 10 {tag}" in mail
    assert [status for status, _body in Hook.posts] == [500, 200], "one failed try, then one delivery"
    body = Hook.posts[1][1]
    assert (body["friend"], body["kinds"], body["incident"]) == ("alice", ["oops"], 1)
    assert body["events"][0]["trace"][0] == f"[   20.000000] {oops}"
    assert body["events"][0]["trace"][-1] == "[   20.000500] ---[ end trace 0000000000000000 ]---"
    (hook,) = sent(friend, "webhook")
    assert hook["attempts"] == 2 and sent(friend, "mail")[0]["attempts"] == 1
    now = state(friend)
    assert now["boot"]["records"] == 15 and now["boot"]["seq_gaps"] == 2 and now["counts"]["bug"] == 1


def test_events_log_and_state_are_readable_by_the_friends_reader_only(receiver):
    friend = receiver["dir"]
    for name in ("events.log", "events.json"):
        path = friend / name
        acl = dict(entry.rsplit(":", 1) for entry in sh("getfacl", "-p", "-c", "-E", str(path)).stdout.split())
        assert acl.get("user:nobody", "").startswith("r") and acl.get("mask:", "").startswith("r"), (name, acl)
        assert acl["other:"] == "---", (name, acl)
        read = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(path)], capture_output=True, check=False)
        assert read.returncode == 0 and read.stdout, read.stderr
    assert "http://" not in (friend / "events.json").read_text(), "the friend's URL (maybe with a token) is not shown"
    refused = subprocess.run(["runuser", "-u", "daemon", "--", "cat", str(friend / "events.log")], check=False)
    assert refused.returncode != 0


def test_a_killed_service_started_again_counts_nothing_twice(receiver):
    friend, mailbox, service = receiver["dir"], receiver["mailbox"], receiver["service"]
    before = events(friend)
    service.stop(signal.SIGKILL)
    tag = uuid.uuid4().hex[:8]
    send([f"5,0,0,-;{BANNER}", f"6,1,1000,-;the next boot {tag}"])  # a reboot while the service is down
    time.sleep(1)
    service.start()
    wait_for("the reboot line", lambda: "reboot" in kinds(friend))
    wait_for("the reboot mail", lambda: len(mailbox.messages) == 2)
    time.sleep(4)
    after = events(friend)
    assert after[: len(before)] == before and kinds(friend) == ["boot", "loss", "bug", "reboot"]
    assert " reboot boot=2 n=4 by=sequence-reset kernel=6.1.0-27-amd64 " in after[-1]
    assert len(mailbox.messages) == 2 and "alice: reboot at" in mails(mailbox)[1]
    assert "last words before the reboot:" in mails(mailbox)[1] and "---[ end trace" in mails(mailbox)[1]
    assert [status for status, _body in Hook.posts] == [500, 200, 200]
    assert state(friend)["boot"]["records"] == 2


def test_a_rotation_is_followed_into_the_new_file(receiver):
    friend, mailbox = receiver["dir"], receiver["mailbox"]
    os.rename(friend / "console.log", friend / "console.log-20261130-1796014800")
    os.kill(receiver["rsyslogd"].pid, signal.SIGHUP)  # what logrotate's postrotate does
    time.sleep(0.5)
    send(["0,2,5000000,-;Kernel panic - not syncing: sysrq triggered crash", "0,3,5000100,-;CPU: 1 PID: 99 Comm: sh"])
    send(["0,4,5000200,-;---[ end Kernel panic - not syncing: sysrq triggered crash ]---"])
    wait_for("the new console.log", (friend / "console.log").exists)
    wait_for("the panic line", lambda: "panic" in kinds(friend))
    wait_for("the panic mail", lambda: len(mailbox.messages) == 3)
    assert "alice: panic at" in mails(mailbox)[2] and "CPU: 1 PID: 99 Comm: sh" in mails(mailbox)[2]
    assert kinds(friend) == ["boot", "loss", "bug", "reboot", "panic"]


def test_a_silence_fires_once_and_lines_coming_back_end_it(receiver):
    friend, mailbox = receiver["dir"], receiver["mailbox"]
    wait_for("the silence", lambda: "silence" in kinds(friend), timeout=SILENCE + 10)
    wait_for("the silence mail", lambda: len(mailbox.messages) == 4)
    time.sleep(SILENCE + 2)
    assert kinds(friend).count("silence") == 1 and len(mailbox.messages) == 4
    assert "SILENCE: nothing received for" in mails(mailbox)[3]
    assert state(friend)["silent"] is True
    send(["6,5,9000000,-;hello again"])
    wait_for("the line back", lambda: "back" in kinds(friend))
    # events.json is replaced just after events.log is appended to: read it once it caught up
    wait_for("the state no longer silent", lambda: state(friend)["silent"] is False)
    assert "Traceback" not in receiver["service"].log.read_text()


def test_quiet_time_while_the_receiver_has_no_route_to_alice_is_not_her_silence(receiver):
    """The receiver's own outage: its route to alice gone (a blackhole, as a lost uplink's routes leave it) for
    longer than her silence time, then back. No silence is told while it could not hear her; it is told once
    she stays quiet for her whole silence time after that."""
    friend, log = receiver["dir"], receiver["service"].log
    send(["6,6,9500000,-;a line before the receiver's outage"])
    wait_for("the line", lambda: state(friend)["lines"] >= 1 and not state(friend)["silent"])
    silences = kinds(friend).count("silence")
    sh("ip", "route", "replace", "blackhole", f"{ALICE}/32")
    try:
        wait_for("the service noticing", lambda: "this receiver cannot hear it" in log.read_text(), timeout=20)
        time.sleep(SILENCE + 5)
        assert kinds(friend).count("silence") == silences, "told as her silence while the receiver could not hear"
    finally:
        sh("ip", "route", "replace", f"{ALICE}/32", "dev", "lo")
    back = time.monotonic()
    wait_for("the service hearing again", lambda: "this receiver can hear it again" in log.read_text(), timeout=20)
    wait_for("her silence", lambda: kinds(friend).count("silence") == silences + 1, timeout=SILENCE + 30)
    assert time.monotonic() - back >= SILENCE - 1, "her quiet time counted from before the receiver heard again"
    said = log.read_text()
    assert f"alice: this receiver cannot hear it: no route to {ALICE}" in said  # ip route get refuses a blackhole


def test_a_pstore_record_filed_for_alice_is_told_once_and_mailed_where_console_log_had_none_of_it(receiver):
    """A record as the receiver's rsyslog files it after alice's reboot (docs/pstore.md), lines out of order and one
    twice: one events.log line; one mail for the oops that wrote it (console.log told no oops then); a record of the
    panic console.log told is written and not mailed again."""
    friend, mailbox = receiver["dir"], receiver["mailbox"]
    time.sleep(SETTLE + 2)  # the last test's silence has gone out on its own by then
    before = len(mailbox.messages)
    taken = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    lines = ["Oops#1 Part1", "<4>[  600.000100] Oops: 0002 [#1] PREEMPT SMP NOPTI", "<4>[  600.000200] Call Trace:"]
    lines += ["<4>[  600.000300]  logswap_pstore_test+0x16/0x20", "<4>[  600.000400] ---[ end trace 0 ]---"]
    (friend / "pstore").mkdir(exist_ok=True)
    text = "".join(f"{n}/{len(lines)} {lines[n - 1]}\n" for n in (2, 1, 3, 5, 4, 3))
    (friend / "pstore" / f"{taken}-00000000000a.txt").write_text(text)
    # the record of the panic console.log told (test_a_rotation_is_followed_into_the_new_file), taken when it came
    (told,) = (line for line in events(friend) if " panic " in line)
    panic_time = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(parse_time(told.split(" ", 1)[0])))
    panic = ["Panic#1 Part1", "<0>[  500.000100] Kernel panic - not syncing: sysrq triggered crash"]
    (friend / "pstore" / f"{panic_time}-00000000000b.txt").write_text(
        "".join(f"{n}/2 {line}\n" for n, line in enumerate(panic, 1))
    )
    wait_for("the records in events.log", lambda: kinds(friend).count("pstore") == 2, timeout=30)
    wait_for("the record's mail", lambda: len(mailbox.messages) == before + 1)
    time.sleep(SETTLE + 3)  # a second mail would come now
    told = [line for line in events(friend) if " pstore " in line]
    (oops,) = (line for line in told if "-00000000000a " in line)
    (panic_line,) = (line for line in told if "-00000000000b " in line)
    assert "kinds=oops lines=5 missing=0 console=no alert=oops | [  600.000100] Oops: 0002" in oops
    assert "kinds=panic lines=2 missing=0 console=yes alert=-" in panic_line
    assert len(mailbox.messages) == before + 1
    mail = mails(mailbox)[-1]
    assert mail.startswith("Subject: [netconsole] alice: oops at") and "netconsole did not deliver it" in mail
    assert "logswap_pstore_test+0x16/0x20" in mail


def test_a_receiver_whose_interface_towards_alice_is_down_says_so():
    """What the service asks, in a namespace whose only link goes down: no route, or no link."""
    need_root()
    prefix = "lsh" + uuid.uuid4().hex[:5]
    code = (
        f"import sys; sys.path.insert(0, {str(MODULE_UTILS)!r}); import kmsgfollow;"
        "print(kmsgfollow.Hearing().problem(sys.argv[1:]))"
    )
    with veth_namespaces(prefix, ["10.97.0.2/24"], ["10.97.0.1/24"]) as (tx, rx):

        def ask() -> str:
            return sh("ip", "netns", "exec", rx, "python3", "-I", "-c", code, "10.97.0.2").stdout.strip()

        assert ask() == ""
        sh("ip", "netns", "exec", rx, "ip", "link", "set", f"{prefix}r", "down")
        assert ask().startswith("no route to 10.97.0.2"), ask()
        sh("ip", "netns", "exec", rx, "ip", "link", "set", f"{prefix}r", "up")
        sh("ip", "netns", "exec", tx, "ip", "link", "set", f"{prefix}t", "down")  # the far end: no carrier here
        towards = f"{prefix}r, the interface towards 10.97.0.2, "
        # how a kernel tells a veth whose peer is down: operstate down (or lowerlayerdown), or a linkdown route
        assert ask() in (towards + "is down", towards + "is lowerlayerdown", towards + "has no link"), ask()
