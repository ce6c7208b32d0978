# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who logs to whom: a ring by default, or each host's own list; each fact stated once."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError


def receivers_of(host: str, group: list[str], log_to: object) -> list[str]:
    """The hosts ``host`` sends to: ``netconsole_log_to`` if set, else the next host of the group."""
    if log_to is not None:
        names = [log_to] if isinstance(log_to, str) else list(log_to)
        for name in names:
            if name not in group:
                raise NetconsoleError(
                    f"netconsole_log_to of {host}: {name!r} is not in the netconsole group ({', '.join(group)})"
                )
            if name == host:
                raise NetconsoleError(f"netconsole_log_to of {host}: a host cannot log to itself")
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
        address = hostvars[receiver].get("netconsole_address")
        sources = [t["local_ip"] for t in facts.get("sender_discovered", []) if t["remote_ip"] == address]
        if not sources:
            raise NetconsoleError(f"{sender} has no discovered target for {receiver} ({address}); run discovery first")
        friends.append(
            {
                "name": facts.get("netconsole_name", sender),
                "addresses": sorted(set(sources)),
                "readers": list(facts.get("netconsole_readers", [])),
            }
        )
    return friends


def targets_to(receivers: list[str], hostvars: Mapping, extra: Mapping | None = None) -> list[dict]:
    """Sender targets for ``receivers``: their address and receiver port, plus this host's target settings."""
    targets = []
    for receiver in receivers:
        facts = hostvars[receiver]
        target = {"remote_ip": facts.get("netconsole_address"), "remote_port": facts.get("receiver_port", 6666)}
        target.update(extra or {})
        targets.append(target)
    return targets
