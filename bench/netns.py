"""Two network namespaces joined by a veth pair: the benches' stand-in for two hosts on one link."""

from __future__ import annotations

import subprocess


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def veth_pair(ends: tuple[tuple[str, str, str], tuple[str, str, str]]) -> None:
    """(namespace, device, IPv4 address) for each end, made afresh (a leftover pair is removed first)."""
    remove(ends[0][0], ends[1][0])
    (ns_a, dev_a, _address_a), (ns_b, dev_b, _address_b) = ends
    _ip("netns", "add", ns_a)
    _ip("netns", "add", ns_b)
    _ip("link", "add", dev_a, "netns", ns_a, "type", "veth", "peer", "name", dev_b, "netns", ns_b)
    for ns, dev, address in ends:
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
        _ip("-n", ns, "link", "set", dev, "up")
        _ip("-n", ns, "link", "set", "lo", "up")


def remove(*namespaces: str) -> None:
    for ns in namespaces:
        _ip("netns", "del", ns, check=False)
