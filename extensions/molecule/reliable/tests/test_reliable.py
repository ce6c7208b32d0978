"""The reliable channel end to end: 10,000 numbered records through receiver, sender and network outages.

Real rsyslog, real RELP, real TLS between two containers (amy sends, bob receives; bob also sends to amy).
The kernel input cannot run in a container, so a file input on amy is bound to the same forwarding ruleset
the kernel input uses. A stranger (eve) with its own self-signed certificate is refused at the handshake.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

NETWORK = "logswap-reliable"
AMY_IP = "172.30.80.11"
COUNT = 10_000
OUTAGE = 30  # seconds, as the issue asks
NUMBERS = "/var/tmp/relp-numbers"
RSYSLOG = "syslog.socket rsyslog.service"

# the forwarding ruleset fed from a file, as in the integration test and bench/relp.py (tests/lib)
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "lib"))
from logswap_testlib import receiver_states, relp_test_input  # noqa: E402

TEST_INPUT = relp_test_input(NUMBERS)


@functools.cache
def kernel_log() -> str:
    """Where bob files amy's reliable channel, as the receiver role says (receiver_state.files)."""
    return receiver_states(os.environ["MOLECULE_INVENTORY_FILE"])["bob"]["files"]["amy"]["kernel"]


def sh(container: str, script: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", "exec", container, "bash", "-c", script], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{container}: {script!r} failed: {done.stderr}{done.stdout}")
    return done.stdout


def docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True)


def numbers_at_bob() -> list[int]:
    text = sh("bob", f"cat {kernel_log()} 2>/dev/null || true")
    found = []
    for line in text.splitlines():
        match = re.search(r" \d+,(\d+),[^;]*;relp-number (\d+)$", line)
        if match:
            assert match.group(1) == match.group(2), f"sequence number not kept: {line}"
            found.append(int(match.group(2)))
    return found


@pytest.fixture(scope="module")
def amy_fingerprint() -> str:
    fp = sh("amy", "openssl x509 -in /etc/logswap-netconsole/relp-cert.pem -noout -fingerprint -sha512")
    return "SHA512:" + fp.strip().split("=", 1)[1]


def test_the_key_stays_private_and_each_side_pins_the_other():
    for me, friend in (("amy", "bob"), ("bob", "amy")):
        assert sh(me, "stat -c %a:%U /etc/logswap-netconsole/relp-key.pem").strip() == "600:root"
        fp = sh(friend, "openssl x509 -in /etc/logswap-netconsole/relp-cert.pem -noout -fingerprint -sha512")
        pinned = "SHA512:" + fp.strip().split("=", 1)[1]
        assert pinned in sh(me, "cat /etc/rsyslog.d/31-logswap-relp.conf")
        assert pinned in sh(me, "cat /etc/rsyslog.d/32-logswap-relp-send.conf")


def written_at_amy() -> int:
    return int(sh("amy", f"wc -l < {NUMBERS}").strip())


def test_every_number_arrives_through_three_outages(capsys):
    sh("amy", f"rm -f {NUMBERS}; touch {NUMBERS}; cat > /etc/rsyslog.d/40-relp-test.conf <<'EOF'\n{TEST_INPUT}\nEOF")
    sh("amy", "rsyslogd -N1 && systemctl restart rsyslog")
    sh("bob", f"rm -f {kernel_log()}; systemctl kill --kill-whom=main --signal=HUP rsyslog")
    # about 100 records/s for 100 s: the outages fall in the middle of the stream
    sh(
        "amy",
        f'nohup bash -c \'for i in $(seq 1 {COUNT}); do echo "relp-number $i"; '
        f"if ((i % 100 == 0)); then sleep 1; fi; done >> {NUMBERS}' >/dev/null 2>&1 &",
    )
    start = time.monotonic()
    time.sleep(5)
    # 1. the receiver is down for 30 s (syslog.socket too: journald's forwarding would start rsyslog again)
    sh("bob", f"systemctl stop {RSYSLOG}")
    time.sleep(OUTAGE)
    sh("bob", f"systemctl start {RSYSLOG}")
    time.sleep(5)
    # 2. the path between them is cut for 30 s
    at_cut = written_at_amy()
    docker("network", "disconnect", NETWORK, "amy")
    time.sleep(OUTAGE)
    docker("network", "connect", "--ip", AMY_IP, NETWORK, "amy")
    time.sleep(5)
    # 3. the receiver is down again and the sender stops meanwhile: its queue goes to disk
    before_third = written_at_amy()
    sh("bob", f"systemctl stop {RSYSLOG}")
    after_third = written_at_amy()
    time.sleep(10)
    sh("amy", f"systemctl stop {RSYSLOG}")
    queue_files = sh("amy", "ls /var/spool/rsyslog/ | grep -c '^logswap_relp_bob' || true").strip()
    assert int(queue_files or 0) > 0, "the sender's queue was not saved to disk when it stopped"
    time.sleep(OUTAGE - 10)
    sh("bob", f"systemctl start {RSYSLOG}")
    sh("amy", f"systemctl start {RSYSLOG}")

    # until every number is there, or nothing more has come for 30 s after the last was written
    deadline, settled, last = time.monotonic() + 300, 0, -1
    while time.monotonic() < deadline and settled < 6:
        written = written_at_amy()
        received = numbers_at_bob()
        if written == COUNT and set(received) >= set(range(1, COUNT + 1)):
            break
        settled = settled + 1 if written == COUNT and len(received) == last else 0
        last = len(received)
        time.sleep(5)
    missing = sorted(set(range(1, COUNT + 1)) - set(received))
    duplicates = len(received) - len(set(received))
    # Records omrelp wrote on the connection as it broke, not yet acknowledged, live only in librelp's window
    # (128 records). Stopping the sender before the friend is back drops them (rsyslog issue 3820, open
    # upstream). The 165 and 200 "cut window" records of earlier runs were the same loss: the window left on the
    # cut connection waited for TCP's retransmission and the third outage's stop dropped it (docs/reliable.md,
    # "A path cut"); the role's omrelp timeout="10" sends it again within seconds. Still tolerated until a run
    # in containers shows none. Anything else lost, or more than that, fails.
    cut_window = [n for n in missing if at_cut - 200 < n <= at_cut + 400]
    stop_window = [n for n in missing if before_third - 200 < n <= after_third + 100]
    with capsys.disabled():
        print(
            f"\nreliable channel: {COUNT} numbered, {len(set(received))} distinct arrived, {duplicates} duplicates,"
            f" {len(missing)} missing ({len(cut_window)} as the path was cut, {len(stop_window)} in the RELP window"
            f" at the sender's stop), {time.monotonic() - start:.0f} s"
        )
    assert written == COUNT
    lost_elsewhere = sorted(set(missing) - set(cut_window) - set(stop_window))
    assert not lost_elsewhere, f"lost: {lost_elsewhere[:20]}{' ...' if len(lost_elsewhere) > 20 else ''}"
    assert len(cut_window) <= 256, f"more than two RELP windows lost as the path was cut: {cut_window[:20]} ..."
    assert len(stop_window) <= 128, f"more than one RELP window lost at the sender's stop: {stop_window[:20]} ..."

    # The kernel input reads the whole ring buffer again at every start of rsyslog (imkmsg; readMode
    # "full-always" where rsyslog has it), so a kernel record lost in that window is sent again at the next
    # start while the ring buffer still holds it. The file input does the same once its read position is
    # forgotten: every number must then be there, the window's too.
    sh("amy", f"systemctl stop {RSYSLOG}; rm -f /var/spool/rsyslog/imfile-state:*; systemctl start {RSYSLOG}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not set(received) >= set(range(1, COUNT + 1)):
        time.sleep(5)
        received = numbers_at_bob()
    still_missing = sorted(set(range(1, COUNT + 1)) - set(received))
    with capsys.disabled():
        print(
            f"reliable channel, after a start that reads its input again as imkmsg does: {len(still_missing)}"
            f" missing, {len(received) - len(set(received))} duplicates"
        )
    assert not still_missing, f"lost even after reading the input again: {still_missing[:20]}"


def test_the_friends_readers_read_kernel_log_and_nobody_else():
    assert sh("bob", f"runuser -u amy -- head -1 {kernel_log()}")
    mallory = sh("bob", f"runuser -u mallory -- cat {kernel_log()} >/dev/null 2>&1 && echo read || echo refused")
    assert mallory.strip() == "refused"
    assert "kernel.log" in sh("bob", "cat /etc/logrotate.d/logswap-netconsole")


def test_a_stranger_with_its_own_certificate_is_refused_and_appears_nowhere(amy_fingerprint):
    canary = f"stranger-canary-{time.time_ns()}"
    sh(
        "eve",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /etc/eve-key.pem "
        "-out /etc/eve-cert.pem -days 2 -subj /CN=amy 2>/dev/null",
    )
    # eve pins amy's real certificate, so only amy's side can refuse the connection
    config = f"""
module(load="omrelp" tls.tlslib="gnutls")
module(load="imfile")
ruleset(name="stranger") {{
    action(type="omrelp" target="{AMY_IP}" port="2514" tls="on" tls.authMode="fingerprint"
           tls.permittedPeer=["{amy_fingerprint}"] tls.myCert="/etc/eve-cert.pem" tls.myPrivKey="/etc/eve-key.pem"
           action.resumeInterval="1")
}}
input(type="imfile" file="/var/tmp/stranger" tag="kernel" ruleset="stranger")
"""
    sh(
        "eve",
        f"cat > /etc/rsyslog.d/40-stranger.conf <<'EOF'\n{config}\nEOF\nrsyslogd -N1 && systemctl restart rsyslog",
    )
    sh("eve", f"for i in 1 2 3; do echo '{canary} '$i >> /var/tmp/stranger; sleep 1; done")
    time.sleep(10)
    assert sh("amy", f"grep -rl '{canary}' /var/log /var/spool/rsyslog || true").strip() == ""
    # it did reach amy's TLS handshake and was refused there (not merely unreachable)
    refusals = sh(
        "amy", "grep -h 'imrelp' /var/log/syslog /var/log/messages 2>/dev/null | grep -ci 'fingerprint' || true"
    )
    assert int(refusals.strip() or 0) > 0, "amy did not log refusing the stranger's certificate"
