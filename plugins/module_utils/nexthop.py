# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions about the next hop netconsole must address, from plain netlink facts.

The nexthop_info module collects the facts with pyroute2; the rules that turn them
into an answer (or into an error a user can act on) live here and are unit-tested.
Every message names the variable that holds the value: the module's own options, or the
role's ``sender_targets[i].remote_ip/dev_name/local_ip`` when the caller says so.
"""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass

ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
ARPHRD_NONE = 65534

# include/uapi/linux/rtnetlink.h, enum rtn_type
RTN_UNICAST = 1
RTN_LOCAL = 2
RTN_BROADCAST = 3
RTN_ANYCAST = 4
RTN_MULTICAST = 5
RTN_BLACKHOLE = 6
RTN_UNREACHABLE = 7
RTN_PROHIBIT = 8
RTN_THROW = 9
RTN_NAT = 10
ROUTE_TYPES = {
    RTN_UNICAST: "unicast",
    RTN_LOCAL: "local",
    RTN_BROADCAST: "broadcast",
    RTN_ANYCAST: "anycast",
    RTN_MULTICAST: "multicast",
    RTN_BLACKHOLE: "blackhole",
    RTN_UNREACHABLE: "unreachable",
    RTN_PROHIBIT: "prohibit",
    RTN_THROW: "throw",
    RTN_NAT: "nat",
}
# What `ip route get` answers when a reject route covers the destination (fib_props in net/ipv4/fib_semantics.c;
# IPv6 answers the same errors). EHOSTUNREACH is also the answer when a route lookup bound to an interface
# (RTM_F_FIB_MATCH with oif) finds no route through it.
REJECT_ERRNOS = {
    errno.EINVAL: "blackhole",
    errno.EHOSTUNREACH: "unreachable",
    errno.EACCES: "prohibit",
}

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
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
# A MAC the kernel has confirmed (or an administrator pinned) is used as is.
CONFIRMED_STATES = frozenset({"reachable", "permanent"})


class NexthopError(Exception):
    """Discovery cannot give netconsole a usable next hop; the text says what to do."""


@dataclass(frozen=True)
class Names:
    """How messages name the three inputs: the module's options or the role's target keys."""

    destination: str = "destination"
    interface: str = "interface"
    source: str = "source"
    remote_mac: str = "remote_mac"


def names_for(variable: str | None) -> Names:
    """``sender_targets[1]`` -> sender_targets[1].remote_ip, .dev_name, .local_ip; None -> the module's options."""
    if not variable:
        return Names()
    return Names(f"{variable}.remote_ip", f"{variable}.dev_name", f"{variable}.local_ip", f"{variable}.remote_mac")


@dataclass
class Link:
    index: int
    name: str
    mac: str | None
    link_type: int
    up: bool
    master: str | None = None
    master_kind: str | None = None
    carrier: bool = True
    operstate: str = "up"


def nud_state_name(state: int) -> str:
    names = [name for bit, name in NUD_STATES.items() if state & bit]
    return ",".join(names) if names else "none"


def must_reprobe(state: int, fresh: bool = False) -> bool:
    """Whether an existing neighbour entry is removed so the kernel resolves it afresh.

    A stale entry would otherwise wait delay_first_probe_time (5 s) and then probe the old MAC by
    unicast; a failed or half-probed one may never settle within the timeout. Removing it makes the
    next datagram start a fresh broadcast solicitation, which a live next hop answers at once with
    its current MAC. Entries an administrator pinned (permanent) or that need no resolution (noarp)
    are never touched; a reachable one was confirmed recently and is used as is, unless ``fresh`` asks for
    the answer of the wire (the self-repair check: a next hop whose MAC changed may still be "reachable" with
    the old one for up to 45 s, and that check exists to notice exactly that).
    """
    if not state or state & (NUD_PERMANENT | NUD_NOARP):
        return False
    return fresh or nud_state_name(state) != "reachable"


def check_destination(destination: str, names: Names = Names()) -> None:
    """netconsole sends to one host: refuse addresses that are not a unicast host address."""
    address = ipaddress.ip_address(destination)
    if address.is_multicast:
        raise NexthopError(
            f"{names.destination}: {destination} is a multicast address; netconsole needs the unicast address "
            "of one receiver"
        )
    if address.version == 4 and address == ipaddress.IPv4Address("255.255.255.255"):
        raise NexthopError(
            f"{names.destination}: {destination} is the broadcast address; netconsole needs the unicast address "
            "of one receiver"
        )
    if address.is_unspecified:
        raise NexthopError(f"{names.destination}: {destination} is the unspecified address; give the receiver's")


def check_versions(destination: str, source: str | None, names: Names = Names()) -> None:
    if source and ipaddress.ip_address(source).version != ipaddress.ip_address(destination).version:
        raise NexthopError(
            f"{names.source}: {source} is IPv{ipaddress.ip_address(source).version} but {names.destination} "
            f"{destination} is IPv{ipaddress.ip_address(destination).version}; netconsole sends from and to "
            "addresses of one IP version. Give a source of the destination's version, or leave it out"
        )


def check_source_is_local(source: str, local_addresses: list[str], names: Names = Names()) -> None:
    if ipaddress.ip_address(source) not in {ipaddress.ip_address(a.split("%")[0]) for a in local_addresses}:
        raise NexthopError(
            f"{names.source}: {source} is not an address of this host (ip -br addr shows them); netconsole "
            "sends from an address of the sender. Give one of its addresses, or leave it out"
        )


def check_route_type(route_type: int, destination: str, names: Names = Names()) -> None:
    """The route the kernel chose must deliver to one host through a link."""
    if route_type == RTN_UNICAST:
        return
    if route_type == RTN_LOCAL:
        raise NexthopError(
            f"{names.destination}: {destination} is an address of this host; netconsole must send to another machine"
        )
    kind = ROUTE_TYPES.get(route_type, f"type {route_type}")
    if route_type in (RTN_BROADCAST, RTN_MULTICAST, RTN_ANYCAST):
        raise NexthopError(
            f"{names.destination}: {destination} is a {kind} address on this host's network; netconsole needs "
            "the unicast address of one receiver"
        )
    raise NexthopError(route_refused_message(kind, destination, names))


def route_refused_message(kind: str, destination: str, names: Names = Names()) -> str:
    return (
        f"{names.destination}: this host has {'an' if kind[0] in 'aeiou' else 'a'} {kind} route covering {destination} "
        f"(ip route get {destination} refuses it), so nothing can be sent there. Remove that route "
        f"or add a more specific one towards the receiver"
    )


def route_error_message(code: int, text: str, destination: str, names: Names = Names()) -> str:
    """What a failed route lookup means, from the kernel's error."""
    if code in REJECT_ERRNOS:
        return route_refused_message(f"{REJECT_ERRNOS[code]} (or similar reject)", destination, names)
    if code == errno.ENETUNREACH:
        return (
            f"{names.destination}: this host has no route to {destination} (ip route get: network is "
            "unreachable). Add a route or a default gateway towards the receiver"
        )
    return f"{names.destination}: the kernel has no usable route to {destination}: {text}"


def wrong_interface_message(
    names: Names, interface: str, destination: str, actual: str | None, gateway: str | None
) -> str:
    """dev_name given, but no route through it reaches the destination."""
    if actual:
        used = f"this host reaches it through {actual}" + (f" via gateway {gateway}" if gateway else " (on-link)")
        hint = f"Set {names.interface}: {actual}, leave it out, or add a route to {destination} through {interface}"
    else:
        used = "this host has no route to it at all"
        hint = f"Add a route to {destination} through {interface}"
    return (
        f"{names.interface}: {interface} does not reach {names.destination} {destination}: no route sends "
        f"it through {interface}, {used}. {hint}"
    )


def check_link(link: Link, destination: str, names: Names = Names()) -> None:
    """Fail for links netconsole cannot send on."""
    if link.link_type == ARPHRD_LOOPBACK:
        raise NexthopError(
            f"{names.destination}: {destination} is reached through loopback ({link.name}): it is an "
            "address of this host. netconsole must send to another machine"
        )
    if link.link_type != ARPHRD_ETHER or not link.mac or link.mac == "00:00:00:00:00:00":
        raise NexthopError(
            f"interface {link.name} (towards {destination}) has no Ethernet link-layer address "
            f"(link type {link.link_type}): netconsole sends raw Ethernet frames and cannot use "
            "tunnels such as WireGuard, tun or ipip. Route the receiver through an Ethernet "
            f"interface, or set {names.interface} to one"
        )
    if link.master:
        kind = link.master_kind or "master"
        raise NexthopError(
            f"interface {link.name} is enslaved to {kind} {link.master}: netconsole on an "
            f"enslaved interface stops logging when it joins the master. Use {names.interface}: "
            f"{link.master} instead"
        )
    if not link.up:
        raise NexthopError(
            f"interface {link.name} (towards {destination}) is down; netconsole needs it up "
            f"(ip link set {link.name} up), or set {names.interface} to another"
        )
    if not link.carrier:
        raise NexthopError(
            f"interface {link.name} (towards {destination}) has no carrier (operstate {link.operstate}): "
            "the cable, switch port or peer is down, so nothing sent there arrives. Connect it, "
            f"or set {names.interface} to an interface with a link"
        )


def find_interface_by_mac(mac: str, links: list[Link], names: Names = Names()) -> Link:
    """The one interface that has ``mac``; a MAC several interfaces share (bond, VLANs) is ambiguous."""
    found = [link for link in links if (link.mac or "").lower() == mac and link.link_type == ARPHRD_ETHER]
    if not found:
        raise NexthopError(
            f"{names.interface}: {mac} is the MAC address of no interface on this host (ip -br link shows them); "
            "give an interface name"
        )
    # A bond's or bridge's ports carry its MAC: the master is the interface netconsole can use.
    masters = [link for link in found if not link.master]
    if len(masters) != 1:
        listed = ", ".join(sorted(link.name for link in (masters or found)))
        raise NexthopError(
            f"{names.interface}: {mac} belongs to several interfaces ({listed}); give the interface name instead"
        )
    return masters[0]


def next_hop(destination: str, gateway: str | None) -> tuple[str, bool]:
    """The address whose MAC goes into the frames, and whether the destination is on-link."""
    return (gateway, False) if gateway else (destination, True)


def unresolved_message(address: str, interface: str, state: str, timeout: float, names: Names = Names()) -> str:
    return (
        f"the MAC address of {address} on {interface} did not resolve within {timeout:g} s "
        f"(neighbour state: {state}). Check that {address} is up and answers ARP/neighbour "
        f"discovery, or give {names.remote_mac} by hand"
    )
