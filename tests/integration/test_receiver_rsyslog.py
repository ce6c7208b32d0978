"""The receiver role's rsyslog configuration, rendered by Ansible, run by the real rsyslogd in a network namespace.

tx: carol 10.98.0.2 and fd98::2 (one friend, two addresses), dave 10.98.0.3, a stranger 10.98.0.66,
    erin 10.98.0.4 (configured as ::ffff:10.98.0.4), frank fe80::5 (link-local, configured with the rx zone)
rx: 10.98.0.1, fd98::1, rsyslogd with the role's template and the documented kind of receiver_input_options
    (device: the rx interface); each friend's lines go to <root>/<friend>/console.log
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from logswap_testlib import need_program, need_root, render_receiver, rsyslogd_in, sh, veth_namespaces

PREFIX = "lsr" + uuid.uuid4().hex[:5]
TX, RX = f"{PREFIX}-tx", f"{PREFIX}-rx"
RX_V4, RX_V6 = "10.98.0.1", "fd98::1"
RX_DEV = f"{PREFIX}r"
SOURCES = {
    "carol-v4": "10.98.0.2",
    "carol-v6": "fd98::2",
    "dave": "10.98.0.3",
    "erin": "10.98.0.4",
    "frank": "fe80::5",
    "stranger": "10.98.0.66",
}
FRIENDS = [
    {"name": "carol", "addresses": ["10.98.0.2", "FD98:0:0::2"]},  # written unnormalized on purpose
    {"name": "dave", "addresses": ["10.98.0.3"]},
    {"name": "erin", "addresses": ["::ffff:10.98.0.4"]},  # IPv4-mapped: the role files it as 10.98.0.4
    {"name": "frank", "addresses": [f"fe80::5%{RX_DEV}"]},  # link-local, with the receiver's interface
]
V4_SOURCES = ("10.98.0.2", "10.98.0.3", "10.98.0.4", "10.98.0.66")
# What %fromhost-ip% shows for each source: getnameinfo() names a link-local sender's interface.
SHOWN = dict(SOURCES, frank=f"fe80::5%{RX_DEV}")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d (?P<source>\S+) (?P<text>.*)$")


def netns(ns: str, *args: str) -> subprocess.CompletedProcess:
    return sh("ip", "netns", "exec", ns, *args)


def render(out: Path, log_root: Path, template: str = "rsyslog.conf.j2") -> None:
    render_receiver(
        {
            "render_out": str(out),
            "receiver_log_root": str(log_root),
            "render_friends": FRIENDS,
            "receiver_input_options": {"device": RX_DEV},
            "render_template": template,
        }
    )


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    need_root()
    need_program("/usr/sbin/rsyslogd", "rsyslog")
    work = tmp_path_factory.mktemp("rsyslog")
    log_root = work / "remote"
    render(work / "role.conf", log_root)
    (work / "spool").mkdir()
    main = work / "main.conf"
    main.write_text(f'global(workDirectory="{work / "spool"}")\ninclude(file="{work / "role.conf"}")\n')
    tx_addresses = [f"{a}/24" for a in V4_SOURCES] + ["fd98::2/64", "fe80::5/64"]
    with (
        veth_namespaces(PREFIX, tx_addresses, [f"{RX_V4}/24", f"{RX_V6}/64"]),
        rsyslogd_in(RX, main, tables=("udp", "udp6")),
    ):
        yield log_root


def send(source: str, payload: bytes) -> None:
    """One datagram from the source address's port 6665 to the receiver, as netconsole sends it."""
    address = SOURCES[source]
    family, destination = ("AF_INET6", RX_V6) if ":" in address else ("AF_INET", RX_V4)
    # an IPv6 source is bound on the tx interface (a link-local one needs it)
    scope = f"socket.if_nametoindex({PREFIX + 't'!r})"
    local = f"({address!r}, 6665, 0, {scope})" if ":" in address else f"({address!r}, 6665)"
    code = (
        f"import socket, sys; s = socket.socket(socket.{family}, socket.SOCK_DGRAM); s.bind({local}); "
        f"s.sendto(sys.stdin.buffer.read(), ({destination!r}, 6666))"
    )
    subprocess.run(["ip", "netns", "exec", TX, "python3", "-c", code], input=payload, check=True)


def wait_for(path: Path, text: str, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # a friend may send bytes that are not UTF-8 (test_what_reaches_...)
        if path.exists() and text in path.read_text(errors="replace"):
            return path.read_text(errors="replace").splitlines()
        time.sleep(0.05)
    raise AssertionError(f"{text!r} did not reach {path} within {timeout} s")


@pytest.mark.parametrize(
    ("source", "friend"),
    [("carol-v4", "carol"), ("carol-v6", "carol"), ("dave", "dave"), ("erin", "erin"), ("frank", "frank")],
    ids=lambda v: v,
)
def test_each_address_of_a_friend_lands_verbatim_in_that_friends_file(receiver, source, friend):
    text = f"6,{uuid.uuid4().int % 10**6},123456789,-;from {source}: usb 1-1: new high-speed USB device"
    send(source, f"{text}\n".encode())
    lines = [LINE.match(line) for line in wait_for(receiver / friend / "console.log", text)]
    mine = [m for m in lines if m and m["text"] == text]
    assert len(mine) == 1, lines
    assert mine[0]["source"] == SHOWN[source]


def test_a_strangers_datagram_is_written_nowhere(receiver):
    tag = f"stranger-{uuid.uuid4().hex}"
    send("stranger", f"[   1.000000] {tag}\n".encode())
    # a friend's line sent after it has arrived, so the stranger's has been through the ruleset too
    send("dave", f"[   1.000001] after-{tag}\n".encode())
    wait_for(receiver / "dave" / "console.log", f"after-{tag}")
    files = [p for p in receiver.rglob("*") if p.is_file()]
    written = [p for p in files if tag in p.read_text(errors="replace").replace(f"after-{tag}", "")]
    assert written == []
    assert {p.name for p in receiver.iterdir()} <= {"carol", "dave", "erin", "frank"}


def test_what_reaches_a_friends_file_of_control_characters_and_utf8(receiver):
    """The exact guarantee docs/receiver.md states: bytes below 0x20 arrive escaped as #ooo (octal); DEL, C1
    controls (raw 0x80-0x9f, or U+0080-U+009F in UTF-8) and any other byte arrive as sent; UTF-8 text is kept."""
    tag = uuid.uuid4().hex[:8]
    payload = (
        b"[   2.000000] " + tag.encode() + b" esc\x1b[2J bel\x07 tab\t cr\r del\x7f c1raw\x9b[2J"
        b" c1utf8\xc2\x9b[2J text \xc3\xa9\xe6\x97\xa5\xe6\x9c\xac end\n"
    )
    send("dave", payload)
    wait_for(receiver / "dave" / "console.log", tag)
    line = next(raw for raw in (receiver / "dave" / "console.log").read_bytes().splitlines() if tag.encode() in raw)
    assert line.endswith(
        tag.encode() + b" esc#033[2J bel#007 tab#011 cr#015 del\x7f c1raw\x9b[2J"
        b" c1utf8\xc2\x9b[2J text \xc3\xa9\xe6\x97\xa5\xe6\x9c\xac end"
    ), line
    assert not any(byte < 0x20 for byte in line)


def test_the_firewall_table_admits_a_link_local_friend_on_its_interface(tmp_path):
    """nft accepts the role's table with a link-local friend: the zone becomes the input interface."""
    need_root()
    render(tmp_path / "table.nft", tmp_path / "remote", "nftables.nft.j2")
    table = (tmp_path / "table.nft").read_text()
    assert f'iifname "{RX_DEV}" udp dport 6666 ip6 saddr fe80::5 accept' in table
    assert "%" not in table
    sh("nft", "-c", "-f", str(tmp_path / "table.nft"))
