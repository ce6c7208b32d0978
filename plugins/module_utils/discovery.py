# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Next-hop discovery over netlink (pyroute2): the facts, read and resolved the way netconsole needs them.

The nexthop_info module and the sender's self-repair check (module_utils/repair.py, run by a timer on the
host) both call :func:`discover`, so a next hop is found one way only; the rules that turn the facts into an
answer or an error live in module_utils/nexthop.py.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import is_mac
from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import (
    CONFIRMED_STATES,
    Link,
    Names,
    NexthopError,
    check_destination,
    check_link,
    check_route_type,
    check_source_is_local,
    check_versions,
    find_interface_by_mac,
    must_reprobe,
    next_hop,
    nud_state_name,
    route_error_message,
    unresolved_message,
    wrong_interface_message,
)

try:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError

    PYROUTE2_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the managed host
    IPRoute = None
    NetlinkError = OSError
    PYROUTE2_IMPORT_ERROR = exc

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
RTM_F_FIB_MATCH = 0x2000
DISCARD_PORT = 9
POLL_SECONDS = 0.02
# include/uapi/linux/if.h, IF_OPER_*
OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")


def family_of(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def operstate_name(value: int | str) -> str:
    """pyroute2 decodes IFLA_OPERSTATE to a name ("UP"); older versions may give the number."""
    if isinstance(value, int):
        return OPERSTATES[value] if value < len(OPERSTATES) else str(value)
    return str(value).lower()


def read_link(ipr: IPRoute, index: int) -> Link:
    msg = ipr.get_links(index)[0]
    master_index = msg.get_attr("IFLA_MASTER")
    master = master_kind = None
    if master_index:
        master_msg = ipr.get_links(master_index)[0]
        master = master_msg.get_attr("IFLA_IFNAME")
        info = master_msg.get_attr("IFLA_LINKINFO")
        master_kind = info.get_attr("IFLA_INFO_KIND") if info else None
    operstate = msg.get_attr("IFLA_OPERSTATE") or "unknown"
    return Link(
        index=index,
        name=msg.get_attr("IFLA_IFNAME"),
        mac=msg.get_attr("IFLA_ADDRESS"),
        link_type=msg["ifi_type"],
        up=bool(msg["flags"] & IFF_UP),
        master=master,
        master_kind=master_kind,
        carrier=bool(msg["flags"] & IFF_LOWER_UP),
        operstate=operstate_name(operstate),
    )


def find_link(ipr: IPRoute, interface: str, names: Names) -> Link:
    """The interface given by name, or by MAC (resolved to the name configfs needs)."""
    if is_mac(interface):
        return find_interface_by_mac(interface, [read_link(ipr, msg["index"]) for msg in ipr.get_links()], names)
    found = ipr.link_lookup(ifname=interface)
    if not found:
        raise NexthopError(f"{names.interface}: {interface!r} does not exist on this host")
    return read_link(ipr, found[0])


def local_addresses(ipr: IPRoute, family: int) -> list[str]:
    return [msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS") for msg in ipr.get_addr(family=family)]


def route_query(destination: str, oif: int | None, source: str | None, flags: int = 0) -> dict:
    query = {"dst": destination}
    if oif is not None:
        query["oif"] = oif
    if source:
        query["src"] = source
    if flags:
        query["flags"] = flags
    return query


def lookup_route(ipr: IPRoute, destination: str, oif: int | None, source: str | None, names: Names) -> object:
    """``ip route get DST [from SRC] [oif DEV]``: the route a datagram with exactly these keys takes."""
    try:
        route = ipr.route("get", **route_query(destination, oif, source))[0]
    except NetlinkError as exc:
        raise NexthopError(route_error_message(exc.code, str(exc), destination, names)) from None
    check_route_type(route["type"], destination, names)
    return route


def routes_through(ipr: IPRoute, destination: str, oif: int, source: str | None, names: Names) -> bool:
    """Whether a real route sends ``destination`` through ``oif``.

    A plain lookup with an oif never says no: the kernel then assumes the destination is on that
    link (ip_route_output_key_hash_rcu), and discovery would wait for an ARP answer that never
    comes. The FIB match (``ip route get ... fibmatch``) answers EHOSTUNREACH instead.
    """
    try:
        ipr.route("get", **route_query(destination, oif, source, RTM_F_FIB_MATCH))
    except NetlinkError as exc:
        if exc.code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return False
        raise NexthopError(route_error_message(exc.code, str(exc), destination, names)) from None
    return True


def refuse_wrong_interface(ipr: IPRoute, destination: str, link: Link, source: str | None, names: Names) -> None:
    """Name the interface and gateway the kernel really uses, so the user can fix dev_name."""
    actual = gateway = None
    with contextlib.suppress(NetlinkError, IndexError):
        route = ipr.route("get", **route_query(destination, None, source))[0]
        actual = read_link(ipr, route.get_attr("RTA_OIF")).name
        gateway = route.get_attr("RTA_GATEWAY")
    raise NexthopError(wrong_interface_message(names, link.name, destination, actual, gateway))


def read_neighbour(ipr: IPRoute, address: str, index: int) -> tuple[str | None, int]:
    for entry in ipr.get_neighbours(family=family_of(address), ifindex=index):
        if entry.get_attr("NDA_DST") == address:
            return entry.get_attr("NDA_LLADDR"), entry["state"]
    return None, 0


def forget_neighbour(ipr: IPRoute, address: str, index: int) -> None:
    """Remove a non-permanent entry so the next datagram starts a fresh solicitation (see must_reprobe)."""
    # Gone already (the kernel's garbage collector, or a race with it): nothing to remove.
    with contextlib.suppress(NetlinkError):
        ipr.neigh("del", dst=address, ifindex=index, family=family_of(address))


def poke(destination: str, interface: str, source: str) -> None:
    """One datagram to the discard port, sent the way netconsole sends: from ``source`` through ``interface``.

    Binding the source matters under policy routing (``ip rule from SRC table N``): only a datagram
    that carries SRC takes that table's route, whose gateway is the next hop to resolve.
    """
    with socket.socket(family_of(destination), socket.SOCK_DGRAM) as sock:
        # Not root: the routing table picks the interface, as it did for the lookup.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        # An address still tentative (IPv6 DAD) cannot be bound; the wait below reports the state.
        with contextlib.suppress(OSError):
            sock.bind((source, 0))
        # EHOSTUNREACH and the like: the wait below reports it with the neighbour state.
        with contextlib.suppress(OSError):
            sock.sendto(b"", (destination, DISCARD_PORT))


def resolve_mac(
    ipr: IPRoute,
    address: str,
    link: Link,
    destination: str,
    source: str,
    timeout: float,
    names: Names,
    fresh: bool = False,
) -> tuple[str, str, bool]:
    mac, state = read_neighbour(ipr, address, link.index)
    if mac and nud_state_name(state) in CONFIRMED_STATES and not must_reprobe(state, fresh):
        return mac.lower(), nud_state_name(state), False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # stale, failed, incomplete, delay, probe (and reachable when fresh): start afresh (again after each
        # failed round)
        if must_reprobe(state, fresh):
            forget_neighbour(ipr, address, link.index)
        poke(destination, link.name, source)
        round_end = min(deadline, time.monotonic() + 1)
        while time.monotonic() < round_end:
            time.sleep(POLL_SECONDS)
            mac, state = read_neighbour(ipr, address, link.index)
            if mac and nud_state_name(state) in CONFIRMED_STATES:
                return mac.lower(), nud_state_name(state), True
            if nud_state_name(state) == "failed":
                break
    raise NexthopError(unresolved_message(address, link.name, nud_state_name(state), timeout, names))


def discover(
    destination: str,
    interface: str | None,
    source: str | None,
    timeout: float,
    names: Names | None = None,
    fresh: bool = False,
) -> dict:
    """What ``ip route get`` and the neighbour table say netconsole needs; ``fresh`` re-resolves the MAC."""
    names = names or Names()
    check_destination(destination, names)
    check_versions(destination, source, names)
    with IPRoute() as ipr:
        if source:
            check_source_is_local(source, local_addresses(ipr, family_of(source)), names)
        oif = None
        if interface:
            given = find_link(ipr, interface, names)
            check_link(given, destination, names)
            if not routes_through(ipr, destination, given.index, source, names):
                refuse_wrong_interface(ipr, destination, given, source, names)
            oif = given.index
        first = lookup_route(ipr, destination, oif, source, names)
        link = read_link(ipr, first.get_attr("RTA_OIF"))
        check_link(link, destination, names)
        source = source or first.get_attr("RTA_PREFSRC")
        if not source:
            raise NexthopError(
                f"{names.source}: this host has no address to send to {destination} from through {link.name}; "
                f"add one to {link.name} or give {names.source}"
            )
        # The probe leaves from this source through this link: look the route up with the same keys,
        # so the gateway read here is the one the probe makes the kernel resolve.
        route = lookup_route(ipr, destination, link.index, source, names)
        if route.get_attr("RTA_VIA"):
            raise NexthopError(
                f"{destination} is routed through a gateway of the other IP version (RTA_VIA); "
                f"netconsole cannot use such a route. Give {names.remote_mac} and {names.interface} by hand"
            )
        gateway = route.get_attr("RTA_GATEWAY")
        hop, on_link = next_hop(destination, gateway)
        mac, state, resolved = resolve_mac(ipr, hop, link, destination, source, timeout, names, fresh)
        return {
            "destination": destination,
            "ip_version": 6 if ":" in destination else 4,
            "interface": link.name,
            "interface_mac": link.mac.lower(),
            "source": source,
            "on_link": on_link,
            "gateway": gateway,
            "next_hop": hop,
            "remote_mac": mac,
            "neighbour_state": state,
            "resolved": resolved,
        }
