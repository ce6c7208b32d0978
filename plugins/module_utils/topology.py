# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who logs to whom: a ring by default, or each host's own list; each fact stated once.

Plain values in, plain values out: the filter layer (plugins/filter/netconsole.py) reads the inventory and
names each value for the messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    as_bool,
    as_list,
    check_keys,
    check_unique,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    normalize_ip,
    normalize_mac,
    validate_interface,
    validate_port,
)

# What a host may set for all its targets; address and port come from each receiver.
TARGET_SETTINGS = ("dev_name", "local_ip", "local_port", "remote_mac", "extended", "release")


@dataclass(frozen=True)
class Sender:
    """A host that logs to a receiver, as the receiver's friends list needs it."""

    host: str  # for messages
    name: str  # the directory its friends file it under
    targets: tuple[dict, ...]  # its discovered targets (remote_ip, local_ip), normalized
    readers: tuple[str, ...]


def receivers_of(host: str, group: list[str], log_to: object, variable: str) -> list[str]:
    """The hosts ``host`` sends to: the list ``log_to`` if given, else the next host of the group."""
    if log_to is not None:
        names = as_list(log_to, variable)
        for name in names:
            if name not in group:
                raise NetconsoleError(f"{variable}: {name!r} is not in the netconsole group ({', '.join(group)})")
            if name == host:
                raise NetconsoleError(f"{variable}: a host cannot log to itself")
        try:
            check_unique(names, variable, "the receiver")
        except NetconsoleError as exc:
            raise NetconsoleError(f"{exc}; list each receiver once") from None
        return names
    if len(group) < 2:
        return []
    return [group[(group.index(host) + 1) % len(group)]]


def friends_of(receiver: str, address: str, senders: Iterable[Sender]) -> list[dict]:
    """The receiver's friends: each sender, filed by the source addresses it discovered towards ``address``."""
    friends = []
    for sender in senders:
        sources = [t["local_ip"] for t in sender.targets if t["remote_ip"] == address]
        if not sources:
            raise NetconsoleError(
                f"{sender.host} has no discovered target for {receiver} ({address}); run discovery first"
            )
        friends.append({"name": sender.name, "addresses": sorted(set(sources)), "readers": list(sender.readers)})
    return friends


def target_settings(settings: dict, receivers: int, variable: str) -> dict:
    """A host's extra target settings (a mapping without remote_ip and remote_port), checked and normalized."""
    check_keys(settings, TARGET_SETTINGS, variable)
    if settings.get("remote_mac") not in (None, "") and receivers > 1:
        raise NetconsoleError(
            f"{variable}.remote_mac: this host logs to {receivers} receivers, and one MAC cannot be the next hop "
            "of each; remove it so each next hop is discovered"
        )
    checks = {
        # a MAC is allowed here: the sender's discovery turns it into the interface's name
        "dev_name": lambda value, name: validate_interface(value, name, allow_mac=True),
        "local_ip": normalize_ip,
        "local_port": validate_port,
        "remote_mac": normalize_mac,
        "extended": as_bool,
        "release": as_bool,
    }
    return {key: checks[key](value, f"{variable}.{key}") for key, value in settings.items() if value not in (None, "")}


def targets_to(receivers: list[tuple[str, int]], settings: dict) -> list[dict]:
    """Sender targets for receivers given as (checked address, checked port), plus checked ``settings``."""
    return [{"remote_ip": address, "remote_port": port, **settings} for address, port in receivers]
