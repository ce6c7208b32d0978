# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who logs to whom: a ring by default, or each host's own list; each fact stated once."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    as_bool,
    as_list,
    as_mapping,
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

# What a host may set for all its targets; address and port come from each receiver's own facts.
TARGET_SETTINGS = ("dev_name", "local_ip", "local_port", "remote_mac", "extended", "release")


def receivers_of(host: str, group: list[str], log_to: object) -> list[str]:
    """The hosts ``host`` sends to: ``netconsole_log_to`` if set, else the next host of the group."""
    if log_to is not None:
        variable = f"netconsole_log_to of {host}"
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


def friends_of(receiver: str, group: list[str], hostvars: Mapping) -> list[dict]:
    """The receiver's friends: each sender that logs to it, from the source address it discovered."""
    friends = []
    for sender in group:
        facts = hostvars[sender]
        if receiver not in receivers_of(sender, group, facts.get("netconsole_log_to")):
            continue
        address = normalize_ip(hostvars[receiver].get("netconsole_address"), f"netconsole_address of {receiver}")
        sources = [t["local_ip"] for t in facts.get("sender_discovered", []) if t["remote_ip"] == address]
        if not sources:
            raise NetconsoleError(f"{sender} has no discovered target for {receiver} ({address}); run discovery first")
        friends.append(
            {
                "name": facts.get("netconsole_name", sender),
                "addresses": sorted(set(sources)),
                # an INI inventory gives one reader as a string; list("ann") would be three readers
                "readers": as_list(facts.get("netconsole_readers"), f"netconsole_readers of {sender}"),
            }
        )
    return friends


def target_settings(extra: object, receivers: int, variable: str = "netconsole_target") -> dict:
    """A host's extra target settings, checked and normalized, named as the user wrote them."""
    if extra is None:
        return {}
    settings = dict(as_mapping(extra, variable, "a mapping such as {extended: true}"))
    for key in ("remote_ip", "remote_port"):
        if key in settings:
            raise NetconsoleError(
                f"{variable}.{key}: set by each receiver (its netconsole_address and receiver_port); remove it here"
            )
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


def targets_to(receivers: list[str], hostvars: Mapping, extra: object = None) -> list[dict]:
    """Sender targets for ``receivers``: their address and receiver port, plus this host's target settings."""
    settings = target_settings(extra, len(receivers))
    targets = []
    for receiver in receivers:
        facts = hostvars[receiver]
        # named as the user wrote them, on the receiver's side, not as the sender_targets they become
        target = {
            "remote_ip": normalize_ip(facts.get("netconsole_address"), f"netconsole_address of {receiver}"),
            "remote_port": validate_port(facts.get("receiver_port", 6666), f"receiver_port of {receiver}"),
        }
        target.update(settings)
        targets.append(target)
    return targets
