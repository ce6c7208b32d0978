"""The receiver role's nftables table, rendered from its template, loaded in a network namespace the test creates.

tx: carol (a friend) 10.96.0.2 and fd96::2, a stranger 10.96.0.66 and fd96::66
rx: 10.96.0.1 and fd96::1, the role's table and a UDP listener on 6666 that records who got through.
Then the host's own firewall as a user may tighten Debian's /etc/nftables.conf (an inet filter input chain with
policy drop): the role's accept cannot open the port past it, and the role's check says so before any change.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from logswap_testlib import (
    COLLECTIONS,
    ROOT,
    need_program,
    need_root,
    render_receiver,
    sh,
    veth_namespaces,
    wait_udp_port,
)

PREFIX = "lsf" + uuid.uuid4().hex[:5]
TX, RX = f"{PREFIX}-tx", f"{PREFIX}-rx"
RX_ADDRESSES = {4: "10.96.0.1", 6: "fd96::1"}
SOURCES = {"friend-v4": "10.96.0.2", "friend-v6": "fd96::2", "stranger-v4": "10.96.0.66", "stranger-v6": "fd96::66"}
FRIENDS = [{"name": "carol", "addresses": ["10.96.0.2", "fd96::2"]}]
HOST_FIREWALL = """\
table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        tcp dport 22 accept
    }
}
"""
LISTENER = """
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 6666))
while True:
    data, peer = s.recvfrom(2048)
    source = peer[0].removeprefix("::ffff:")
    print(source, data.decode(errors="replace").strip(), flush=True)
"""


def playbook(path: Path, extra: dict, netns: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run(
        [*prefix, "ansible-playbook", "-i", "localhost,", "-c", "local", str(path), "-e", json.dumps(extra)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def rx(tmp_path_factory):
    need_root()
    need_program("/usr/sbin/nft", "nftables")
    work = tmp_path_factory.mktemp("firewall")
    table = work / "logswap.nft"
    render_receiver({"render_nft_out": str(table), "render_friends": FRIENDS, "receiver_log_root": str(work / "log")})
    tx_addresses = [f"{a}/{64 if ':' in a else 24}" for a in SOURCES.values()]
    with veth_namespaces(PREFIX, tx_addresses, [f"{RX_ADDRESSES[4]}/24", f"{RX_ADDRESSES[6]}/64"]):
        sh("ip", "netns", "exec", RX, "nft", "-f", str(table))
        received = work / "received"
        with open(received, "w") as out:
            listener = subprocess.Popen(
                ["ip", "netns", "exec", RX, "python3", "-c", LISTENER], stdout=out, stderr=subprocess.DEVNULL
            )
        try:
            wait_udp_port(RX, 6666, ("udp6",), "the listener")
            yield {"received": received, "work": work, "table": table}
        finally:
            listener.terminate()
            listener.wait(10)


def send(source: str, text: str) -> None:
    address = SOURCES[source]
    version = 6 if ":" in address else 4
    family = "AF_INET6" if version == 6 else "AF_INET"
    code = (
        f"import socket; s = socket.socket(socket.{family}, socket.SOCK_DGRAM); s.bind(({address!r}, 6665)); "
        f"s.sendto({text.encode()!r}, ({RX_ADDRESSES[version]!r}, 6666))"
    )
    sh("ip", "netns", "exec", TX, "python3", "-c", code)


def arrived(rx: dict) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in rx["received"].read_text().splitlines()]


def wait_arrived(rx: dict, text: str, timeout: float = 5.0) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(t == text for _source, t in arrived(rx)):
            return arrived(rx)
        time.sleep(0.05)
    raise AssertionError(f"{text!r} did not arrive within {timeout} s; arrived: {arrived(rx)}")


def host_firewall(*rules: str) -> None:
    """Load (or replace) the host's own inet filter table with policy drop, plus ``rules`` in its input chain."""
    extra = "".join(f"        {rule}\n" for rule in rules)
    text = HOST_FIREWALL.replace("        tcp dport 22 accept\n", "        tcp dport 22 accept\n" + extra)
    subprocess.run(
        ["ip", "netns", "exec", RX, "nft", "-f", "-"],
        input=f"table inet filter\ndelete table inet filter\n{text}",
        text=True,
        check=True,
    )


def role_check(rx: dict) -> subprocess.CompletedProcess:
    """The role's own check (tasks/firewall_check.yml) run on the namespace's ruleset."""
    return playbook(
        ROOT / "tests" / "lib" / "firewall_check.yml",
        {"render_friends": FRIENDS, "receiver_port": 6666},
        netns=RX,
    )


@pytest.mark.parametrize("version", [4, 6])
def test_the_roles_table_admits_a_friend_and_drops_a_stranger(rx, version):
    tag = uuid.uuid4().hex[:8]
    send(f"stranger-v{version}", f"stranger {tag}")
    send(f"friend-v{version}", f"friend {tag}")
    got = wait_arrived(rx, f"friend {tag}")
    assert (SOURCES[f"friend-v{version}"], f"friend {tag}") in got
    assert not [g for g in got if g[1] == f"stranger {tag}"], "the stranger's datagram reached the socket"


def test_the_table_text_holds_only_normalized_addresses_and_the_port(rx):
    text = rx["table"].read_text()
    assert "udp dport 6666 ip saddr { 10.96.0.2 } accept" in text
    assert "udp dport 6666 ip6 saddr { fd96::2 } accept" in text
    assert "udp dport 6666 drop" in text


@pytest.mark.parametrize(
    "friends",
    [
        [{"name": "x", "addresses": ["10.0.0.1 } accept\n udp dport 22 accept #"]}],
        [{"name": "x", "addresses": ["10.0.0.0/8"]}],
    ],
    ids=["rule-in-address", "network-not-address"],
)
def test_a_crafted_address_never_reaches_the_table(rx, friends):
    out = rx["work"] / "crafted.nft"
    result = playbook(
        ROOT / "tests" / "lib" / "render_receiver.yml",
        {"render_nft_out": str(out), "render_friends": friends, "receiver_log_root": str(rx["work"] / "log")},
    )
    assert result.returncode != 0 and not out.exists()
    assert "receiver_friends" in result.stdout


def test_a_host_policy_drop_chain_drops_the_friend_and_the_role_says_so(rx):
    assert role_check(rx).returncode == 0, "no other chain yet: the check must pass"
    host_firewall()
    try:
        tag = uuid.uuid4().hex[:8]
        send("friend-v4", f"friend {tag}")
        time.sleep(1.0)
        assert not [g for g in arrived(rx) if g[1] == f"friend {tag}"], "the host's policy drop did not apply"
        check = role_check(rx)
        assert check.returncode != 0
        assert "receiver_firewall: the nftables chain inet filter input drops by default" in check.stdout
        # the fix the message gives: accept the port in that chain; the role's table still keeps strangers out
        host_firewall("udp dport 6666 accept")
        assert role_check(rx).returncode == 0
        send("stranger-v6", f"stranger {tag}")
        send("friend-v6", f"friend-after {tag}")
        got = wait_arrived(rx, f"friend-after {tag}")
        assert not [g for g in got if g[1] == f"stranger {tag}"]
    finally:
        sh("ip", "netns", "exec", RX, "nft", "delete", "table", "inet", "filter", check=False)
