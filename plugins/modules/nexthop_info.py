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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.logswap.netconsole.plugins.module_utils.discovery import (
    PYROUTE2_IMPORT_ERROR,
    discover,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    normalize_ip,
    validate_interface,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import NexthopError, names_for


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
