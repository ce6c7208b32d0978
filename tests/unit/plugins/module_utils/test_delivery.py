"""What verify.yml prints and fails with, from what its commands returned (module_utils.delivery)."""

from __future__ import annotations

from datetime import datetime

from ansible_collections.logswap.netconsole.plugins.module_utils.delivery import (
    counter_line,
    delivery_line,
    failure_message,
    latency_ms,
    pair_result,
    rcvbuf_errors,
    receiver_side,
    sender_side,
)

PAIR = {"receiver": "ben", "file": "/var/log/remote/ann/console.log", "port": 6666}
SENT = datetime.fromisoformat("2026-11-30T14:00:00.000000+00:00").timestamp()
LINE = "2026-11-30T14:00:00.012345+00:00 ann [   12.000000] logswap-canary ann to ben 1\n"
SNMP = (
    "Ip: Forwarding DefaultTTL\nIp: 1 64\n"
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
    "Udp: 10 0 3 4 3 0\n"
    "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdpLite: 0 0 0 0 9 0\n"
)


def test_latency_is_rsyslogs_receive_time_minus_the_emit_time():
    assert latency_ms(LINE, SENT) == 12.3
    # any zone: the receiver's clock may be written in its local time
    assert latency_ms("2026-11-30T15:00:00.500000+01:00 x", SENT) == 500.0
    assert latency_ms("not a time", SENT) is None
    assert latency_ms("", SENT) is None


def test_a_pair_delivered_or_not_reads_as_such():
    ok = pair_result("ann", PAIR, {"emulated": True, "sent_at": SENT}, {"rc": 0, "stdout": LINE})
    assert ok["delivered"] and ok["latency_ms"] == 12.3
    assert delivery_line(ok, 30) == "ann -> ben: delivered in 12.3 ms (emulated datagram)"
    lost = pair_result("ann", PAIR, {"emulated": False, "sent_at": SENT}, {"rc": 124, "stdout": ""})
    assert not lost["delivered"] and lost["latency_ms"] is None
    assert delivery_line(lost, 30) == "ann -> ben: NOT DELIVERED within 30 s"
    kernel = pair_result("ann", PAIR, {"emulated": False, "sent_at": SENT}, {"rc": 0, "stdout": LINE})
    assert delivery_line(kernel, 30).endswith("(kernel netconsole)")


def counter(now, previous=None, change=None, reset=False):
    return {"transmit_errors": now, "previous": previous, "change": change, "reset": reset}


def test_the_counter_line_tells_each_case_apart():
    targets = [
        {"name": "cmdline0", "transmit_errors": counter(3, 1, 2)},
        {"name": "cmdline1", "transmit_errors": counter(1, 5, 1, reset=True)},
        {"name": "t2", "transmit_errors": counter(0)},
        {"name": "t3", "transmit_errors": counter(None)},
    ]
    assert counter_line("ann", targets) == (
        "ann cmdline0: transmit_errors 3 (+2 since the last sender run); "
        "ann cmdline1: transmit_errors 1 (+1 since the counter was reset); "
        "ann t2: transmit_errors 0 (no earlier reading); "
        "ann t3: transmit_errors not offered by this kernel (Linux 6.13+)"
    )
    assert counter_line("ann", []).startswith("ann: no live target in configfs")


def test_the_sender_side_lists_targets_and_netconsoles_last_kernel_messages():
    state = {"enabled": "1", "dev_name": "eth0", "local_ip": "10.0.0.1", "local_port": "6665"}
    state |= {"remote_ip": "10.0.0.2", "remote_port": "6666", "remote_mac": "52:54:00:00:00:02"}
    dmesg = "\n".join(["boot", *(f"netpoll: line {i}" for i in range(7)), "other", "NETCONSOLE: last"])
    text = sender_side([{"name": "cmdline0", "state": state}], dmesg).splitlines()
    assert text[0] == "target cmdline0: enabled=1 dev=eth0 10.0.0.1:6665 -> 10.0.0.2:6666 mac 52:54:00:00:00:02"
    assert text[1:] == ["netpoll: line 3", "netpoll: line 4", "netpoll: line 5", "netpoll: line 6", "NETCONSOLE: last"]
    assert sender_side([], "").startswith("no netconsole target in configfs")


def test_receive_buffer_drops_are_udps_not_udplites():
    assert rcvbuf_errors(SNMP) == 3
    assert rcvbuf_errors("Ip: a\nIp: 1\n") is None


def test_the_receiver_side_reads_the_three_parts_of_the_diagnosis():
    output = "UNCONN 0      0      0.0.0.0:6666     0.0.0.0:*\n===\n" + SNMP + "===\nline 1\n===\nline 3\n"
    assert receiver_side(output, "/f").splitlines() == [
        "listening: UNCONN 0 0 0.0.0.0:6666 0.0.0.0:*",
        "UDP datagrams dropped for a full receive buffer since boot: 3",
        "last lines of /f:",
        "line 1",
        "===",
        "line 3",
    ]
    # nothing listening: ss prints nothing
    assert receiver_side("===\n===\ntail: cannot open\n", "/f").splitlines() == [
        "listening: ",
        "last lines of /f:",
        "tail: cannot open",
    ]


def test_the_failure_names_every_failed_pair_and_both_sides():
    results = [
        {"receiver": "ben", "delivered": False},
        {"receiver": "cat", "delivered": True},
        {"receiver": "dan", "delivered": False},
    ]
    text = failure_message("ann", results, 30, "target cmdline0: ...", {"ben": "listening: ", "dan": "x"})
    assert text.splitlines() == [
        "No canary arrived within 30 s for: ann -> ben, ann -> dan",
        "Sender ann:",
        "target cmdline0: ...",
        "Receiver ben:",
        "listening: ",
        "Receiver dan:",
        "x",
    ]
