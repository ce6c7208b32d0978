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
  - Asks the kernel over netlink (with pyroute2) how it would reach O(destination), the way
    C(ip route get) does, and returns what a netconsole target needs.
  - Netconsole sends raw Ethernet frames without ARP, so the frames must carry the MAC of the next hop
    the destination's own MAC when it is on-link, the gateway's MAC when it is routed.
  - When the neighbour entry of the next hop is missing, incomplete, stale, or still being probed, the module
    sends one UDP datagram to the discard port (9) of O(destination) so that the kernel resolves it, and waits up
    to O(timeout) seconds for a confirmed (reachable or permanent) entry.
  - Read-only; safe in check mode (the resolving datagram is still sent, it changes no configuration).
  - Fails for links netconsole cannot use. An interface enslaved to a bridge or bond B(fails) and names the master
    to use, because netconsole stops logging on an interface when it joins a master.
author:
  - logswap.netconsole maintainers (@logswap)
requirements:
  - pyroute2 (Debian package C(python3-pyroute2)) on the managed host
options:
  destination:
    description: IPv4 or IPv6 address of the receiver.
    type: str
    required: true
  interface:
    description:
      - Send through this interface instead of the one the routing table chooses.
    type: str
  source:
    description:
      - Use this local address as source instead of the one the kernel would pick.
    type: str
  timeout:
    description: Seconds to wait for the next hop's MAC to resolve.
    type: float
    default: 10
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Run as root, so the resolving datagram can be bound to O(interface).
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
  description: Outgoing interface.
  returned: always
  type: str
  sample: eth0
interface_mac:
  description: MAC address of the outgoing interface (netconsole's local_mac).
  returned: always
  type: str
  sample: "52:54:00:12:34:56"
source:
  description: Source address the kernel uses towards the destination.
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
  description: Whether the module had to make the kernel resolve the next hop.
  returned: always
  type: bool
  sample: false
"""

import contextlib
import socket
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    normalize_ip,
    validate_interface,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import (
    CONFIRMED_STATES,
    RTN_LOCAL,
    Link,
    NexthopError,
    check_link,
    next_hop,
    nud_state_name,
    unresolved_message,
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
DISCARD_PORT = 9


def read_link(ipr: IPRoute, index: int) -> Link:
    msg = ipr.get_links(index)[0]
    master_index = msg.get_attr("IFLA_MASTER")
    master = master_kind = None
    if master_index:
        master_msg = ipr.get_links(master_index)[0]
        master = master_msg.get_attr("IFLA_IFNAME")
        info = master_msg.get_attr("IFLA_LINKINFO")
        master_kind = info.get_attr("IFLA_INFO_KIND") if info else None
    return Link(
        index=index,
        name=msg.get_attr("IFLA_IFNAME"),
        mac=msg.get_attr("IFLA_ADDRESS"),
        link_type=msg["ifi_type"],
        up=bool(msg["flags"] & IFF_UP),
        master=master,
        master_kind=master_kind,
    )


def lookup_route(ipr: IPRoute, destination: str, interface_index: int | None, source: str | None) -> object:
    query = {"dst": destination}
    if interface_index is not None:
        query["oif"] = interface_index
    if source:
        query["src"] = source
    try:
        routes = ipr.route("get", **query)
    except NetlinkError as exc:
        raise NexthopError(
            f"the kernel has no usable route to {destination}"
            f"{' through the given interface/source' if len(query) > 1 else ''}: {exc}"
        ) from None
    return routes[0]


def read_neighbour(ipr: IPRoute, address: str, index: int) -> tuple[str | None, str]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for entry in ipr.get_neighbours(family=family, ifindex=index):
        if entry.get_attr("NDA_DST") == address:
            return entry.get_attr("NDA_LLADDR"), nud_state_name(entry["state"])
    return None, "none"


def poke(destination: str, interface: str) -> None:
    """One datagram to the discard port makes the kernel resolve the next hop."""
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # Not root: the routing table picks the interface, as it did for the lookup.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        # EHOSTUNREACH and the like: the wait below reports it with the neighbour state.
        with contextlib.suppress(OSError):
            sock.sendto(b"", (destination, DISCARD_PORT))


def resolve_mac(ipr: IPRoute, address: str, link: Link, destination: str, timeout: float) -> tuple[str, str, bool]:
    mac, state = read_neighbour(ipr, address, link.index)
    if mac and state in CONFIRMED_STATES:
        return mac.lower(), state, False
    deadline = time.monotonic() + timeout
    poke(destination, link.name)
    while time.monotonic() < deadline:
        time.sleep(0.05)
        mac, state = read_neighbour(ipr, address, link.index)
        if mac and state in CONFIRMED_STATES:
            return mac.lower(), state, True
    raise NexthopError(unresolved_message(address, link.name, state, timeout))


def discover(destination: str, interface: str | None, source: str | None, timeout: float) -> dict:
    with IPRoute() as ipr:
        index = None
        if interface:
            found = ipr.link_lookup(ifname=interface)
            if not found:
                raise NexthopError(f"interface: {interface!r} does not exist on this host")
            index = found[0]
            check_link(read_link(ipr, index), destination)
        route = lookup_route(ipr, destination, index, source)
        if route["type"] == RTN_LOCAL:
            raise NexthopError(
                f"destination {destination} is an address of this host; netconsole must send to another machine"
            )
        link = read_link(ipr, route.get_attr("RTA_OIF"))
        check_link(link, destination)
        gateway = route.get_attr("RTA_GATEWAY")
        if route.get_attr("RTA_VIA"):
            raise NexthopError(
                f"{destination} is routed through a gateway of the other IP version (RTA_VIA); "
                "netconsole cannot use such a route. Give remote_mac and interface by hand"
            )
        hop, on_link = next_hop(destination, gateway)
        mac, state, resolved = resolve_mac(ipr, hop, link, destination, timeout)
        return {
            "destination": destination,
            "ip_version": 6 if ":" in destination else 4,
            "interface": link.name,
            "interface_mac": link.mac.lower(),
            "source": source or route.get_attr("RTA_PREFSRC"),
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
        },
        supports_check_mode=True,
    )
    if PYROUTE2_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib("pyroute2 (Debian: python3-pyroute2)"),
            exception=str(PYROUTE2_IMPORT_ERROR),
        )
    params = module.params
    try:
        destination = normalize_ip(params["destination"], "destination")
        source = normalize_ip(params["source"], "source") if params["source"] else None
        interface = validate_interface(params["interface"], "interface") if params["interface"] else None
        if params["timeout"] <= 0:
            raise NetconsoleError(f"timeout: {params['timeout']!r} must be more than 0 seconds")
        result = discover(destination, interface, source, params["timeout"])
    except (NetconsoleError, NexthopError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
