#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nexthop_info
short_description: Find the interface, source address and next-hop MAC netconsole needs to reach a receiver
version_added: 0.1.0
description:
  - Asks the kernel over netlink (with pyroute2) how it would reach O(destination) from O(source) through
    O(interface), the way C(ip route get DST from SRC oif DEV) does, and returns what a netconsole target needs.
  - Netconsole sends raw Ethernet frames without ARP, so the frames must carry the MAC of the next hop
    the destination's own MAC when it is on-link, the gateway's MAC when it is routed.
  - The route is looked up with the same source and interface the resolving datagram is then sent with, so under
    policy routing (C(ip rule add from SRC table N)) the gateway of table N is the one resolved.
  - When the neighbour entry of the next hop is missing, the module sends one UDP datagram to the discard port (9)
    of O(destination), bound to the source address and the outgoing interface, so that the kernel resolves it,
    and waits up to O(timeout) seconds for a confirmed (reachable or permanent) entry.
  - An entry that is stale, failed, incomplete, delayed or being probed is deleted first (C(ip neigh del)) and the
    datagram sent afresh; the kernel then broadcasts a new ARP request or neighbour solicitation at once, so a
    live next hop answers in milliseconds and a next hop whose MAC changed (router or receiver NIC replaced) is
    found with its new MAC. Left alone, the kernel waits delay_first_probe_time (5 s) and then asks the old MAC.
    Reachable entries are used as is; permanent entries an administrator set are never touched, and used as is.
  - Read-only as far as configuration goes; safe in check mode. The resolving datagram and the neighbour cache
    changes above happen in check mode too (they change no configuration).
  - Fails at once, naming the variable, for a multicast or broadcast destination, a destination of this host, a
    blackhole/unreachable/prohibit route or no route, an O(interface) no route to the destination uses (naming the
    interface and gateway the kernel does use), a O(source) that is not an address of this host or of the other IP
    version, and links netconsole cannot use (no Ethernet address, down, no carrier, enslaved).
  - An interface enslaved to a bridge or bond B(fails) and names the master to use, because netconsole stops
    logging on an interface when it joins a master.
author:
  - logswap.netconsole maintainers (@logswap)
requirements:
  - pyroute2 (Debian package C(python3-pyroute2)) on the managed host
options:
  destination:
    description: IPv4 or IPv6 unicast address of the receiver.
    type: str
    required: true
  interface:
    description:
      - Send through this interface instead of the one the routing table chooses. A route to O(destination) through
        it must exist (a connected network or a route with this device); otherwise the module fails and names the
        interface and gateway the kernel uses.
      - May be given as the interface's MAC address; the module returns the interface's name in RV(interface)
        (configfs and the kernel command line take only a name of at most 15 characters).
    type: str
  source:
    description:
      - Use this local address as source instead of the one the kernel would pick. Must be an address of this host,
        of the same IP version as O(destination).
    type: str
  timeout:
    description: Seconds to wait for the next hop's MAC to resolve.
    type: float
    default: 10
  variable:
    description:
      - How messages name the inputs. Unset, they name this module's options (V(destination), V(interface),
        V(source)). Set to the name of a variable that holds a netconsole target, such as V(sender_targets[1]),
        messages name its keys instead - V(sender_targets[1].remote_ip), V(sender_targets[1].dev_name),
        V(sender_targets[1].local_ip), V(sender_targets[1].remote_mac) - so a role's user knows what to change.
    type: str
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Run as root, so the resolving datagram can be bound to the outgoing interface and the neighbour cache changed.
seealso:
  - module: logswap.netconsole.target
"""

EXAMPLES = r"""
- name: Find how the kernel reaches the receiver
  logswap.netconsole.nexthop_info:
    destination: 203.0.113.2
  register: hop

- name: Show the netconsole parameter for it
  ansible.builtin.debug:
    msg: "netconsole=6665@{{ hop.source }}/{{ hop.interface }},6666@203.0.113.2/{{ hop.remote_mac }}"

- name: IPv6 receiver through a chosen interface
  logswap.netconsole.nexthop_info:
    destination: 2001:db8::2
    interface: eth1
    timeout: 5

- name: Interface given by its MAC, source selecting a policy-routing table; messages name the role's variable
  logswap.netconsole.nexthop_info:
    destination: 203.0.113.2
    interface: "52:54:00:12:34:56"
    source: 198.51.100.7
    variable: sender_targets[0]
  register: hop  # hop.interface is the interface's name, e.g. eth0
"""

RETURN = r"""
destination:
  description: The destination, normalized.
  returned: always
  type: str
  sample: 203.0.113.2
ip_version:
  description: 4 or 6.
  returned: always
  type: int
  sample: 4
interface:
  description: Outgoing interface, by name (also when O(interface) was given as a MAC address).
  returned: always
  type: str
  sample: eth0
interface_mac:
  description: MAC address of the outgoing interface (netconsole's local_mac).
  returned: always
  type: str
  sample: "52:54:00:12:34:56"
source:
  description: Source address towards the destination, O(source) when given, else the one the kernel picks.
  returned: always
  type: str
  sample: 198.51.100.1
on_link:
  description: Whether the destination is on a directly connected network.
  returned: always
  type: bool
  sample: false
gateway:
  description: The gateway the destination is routed through, null when on-link.
  returned: always
  type: str
  sample: 198.51.100.254
next_hop:
  description: The address whose MAC netconsole puts in its frames (destination or gateway).
  returned: always
  type: str
  sample: 198.51.100.254
remote_mac:
  description: MAC of the next hop, the value for netconsole's remote_mac.
  returned: always
  type: str
  sample: "00:1d:d4:e2:43:01"
neighbour_state:
  description: Kernel neighbour state of the next hop when the MAC was read.
  returned: always
  type: str
  sample: reachable
resolved:
  description: Whether the module had to make the kernel resolve the next hop (false for a reachable or permanent
    entry).
  returned: always
  type: bool
  sample: false
"""

import contextlib
import errno
import socket
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    is_mac,
    normalize_ip,
    validate_interface,
)
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
    names_for,
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
    ipr: IPRoute, address: str, link: Link, destination: str, source: str, timeout: float, names: Names
) -> tuple[str, str, bool]:
    mac, state = read_neighbour(ipr, address, link.index)
    if mac and nud_state_name(state) in CONFIRMED_STATES:
        return mac.lower(), nud_state_name(state), False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # stale, failed, incomplete, delay, probe: start afresh (again after each failed round)
        if must_reprobe(state):
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


def discover(destination: str, interface: str | None, source: str | None, timeout: float, names: Names) -> dict:
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
        mac, state, resolved = resolve_mac(ipr, hop, link, destination, source, timeout, names)
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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "destination": {"type": "str", "required": True},
            "interface": {"type": "str"},
            "source": {"type": "str"},
            "timeout": {"type": "float", "default": 10},
            "variable": {"type": "str"},
        },
        supports_check_mode=True,
    )
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib("pyroute2 (Debian: python3-pyroute2)"),
            exception=str(PYROUTE2_IMPORT_ERROR),
        )
    params = module.params
    names = names_for(params["variable"])
    try:
        destination = normalize_ip(params["destination"], names.destination)
        source = normalize_ip(params["source"], names.source) if params["source"] else None
        interface = (
            validate_interface(params["interface"], names.interface, allow_mac=True) if params["interface"] else None
        )
        if params["timeout"] <= 0:
            raise NetconsoleError(f"timeout: {params['timeout']!r} must be more than 0 seconds")
        result = discover(destination, interface, source, params["timeout"], names)
    except (NetconsoleError, NexthopError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
