# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions about the next hop netconsole must address, from plain netlink facts.

The nexthop_info module collects the facts with pyroute2; the rules that turn them
into an answer (or into an error a user can act on) live here and are unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass

ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
ARPHRD_NONE = 65534
RTN_UNICAST = 1
RTN_LOCAL = 2

# include/uapi/linux/neighbour.h
NUD_STATES = {
    0x01: "incomplete",
    0x02: "reachable",
    0x04: "stale",
    0x08: "delay",
    0x10: "probe",
    0x20: "failed",
    0x40: "noarp",
    0x80: "permanent",
}
# A MAC the kernel has confirmed (or an administrator pinned) is used as is.
CONFIRMED_STATES = frozenset({"reachable", "permanent"})


class NexthopError(Exception):
    """Discovery cannot give netconsole a usable next hop; the text says what to do."""


@dataclass
class Link:
    index: int
    name: str
    mac: str | None
    link_type: int
    up: bool
    master: str | None = None
    master_kind: str | None = None


def nud_state_name(state: int) -> str:
    names = [name for bit, name in NUD_STATES.items() if state & bit]
    return ",".join(names) if names else "none"


def check_link(link: Link, destination: str) -> None:
    """Fail for links netconsole cannot send on."""
    if link.link_type == ARPHRD_LOOPBACK:
        raise NexthopError(
            f"destination {destination} is reached through loopback ({link.name}): it is an "
            "address of this host. netconsole must send to another machine"
        )
    if link.link_type != ARPHRD_ETHER or not link.mac or link.mac == "00:00:00:00:00:00":
        raise NexthopError(
            f"interface {link.name} (towards {destination}) has no Ethernet link-layer address "
            f"(link type {link.link_type}): netconsole sends raw Ethernet frames and cannot use "
            "tunnels such as WireGuard, tun or ipip. Route the receiver through an Ethernet "
            "interface, or set interface to one"
        )
    if link.master:
        kind = link.master_kind or "master"
        raise NexthopError(
            f"interface {link.name} is enslaved to {kind} {link.master}: netconsole on an "
            f"enslaved interface stops logging when it joins the master. Use interface: "
            f"{link.master} instead"
        )
    if not link.up:
        raise NexthopError(f"interface {link.name} (towards {destination}) is down; netconsole needs it up")


def next_hop(destination: str, gateway: str | None) -> tuple[str, bool]:
    """The address whose MAC goes into the frames, and whether the destination is on-link."""
    return (gateway, False) if gateway else (destination, True)


def unresolved_message(address: str, interface: str, state: str, timeout: float) -> str:
    return (
        f"the MAC address of {address} on {interface} did not resolve within {timeout:g} s "
        f"(neighbour state: {state}). Check that {address} is up and answers ARP/neighbour "
        "discovery, or give remote_mac by hand"
    )
