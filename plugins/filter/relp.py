# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the reliable channel (kernel log over RELP with TLS): checks and who pins whom."""

from __future__ import annotations

from collections.abc import Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import Inventory
from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import (
    DEFAULT_PORT,
    queue_name,
    tcp_port,
    validate_relp_targets,
    validate_sender_relp,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import (
    check_fingerprint,
    check_fingerprints,
    check_path,
    check_size,
)


def _filter(function: Callable) -> Callable:
    """Turn a NetconsoleError into the error Ansible shows for a filter."""

    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except NetconsoleError as exc:
            raise AnsibleFilterError(str(exc)) from None

    wrapped.__name__ = function.__name__
    wrapped.__doc__ = function.__doc__
    return wrapped


def _fingerprint_of(inventory: Inventory, host: str) -> str:
    """The host's fingerprint; empty where it has the channel off (or, in check mode, no certificate yet)."""
    value = inventory.get(host, "netconsole_relp_fingerprint")
    if value is None:
        raise NetconsoleError(
            f"{host} has no netconsole_relp_fingerprint: its certificate was not read in this run (left out by "
            "--limit?). Run the playbook on a host together with its friends, or set netconsole_reliable: false"
        )
    return check_fingerprint(value, f"netconsole_relp_fingerprint of {host}") if value else ""


def relp_peers(receiver: str, group: list[str], hostvars: object) -> list[str]:
    """Fingerprints a receiver pins: those of every host that logs to it (and has one), in group order."""
    inventory = Inventory(group, hostvars)
    peers = []
    for sender in inventory.senders_to(receiver):
        fp = _fingerprint_of(inventory, sender)
        if fp and fp not in peers:
            peers.append(fp)
    return peers


def relp_targets(receivers: list[str], hostvars: object) -> list[dict]:
    """Sender RELP targets: each receiver's address, RELP port and fingerprint (receivers without one left out)."""
    inventory = Inventory(receivers, hostvars)
    targets = []
    for receiver in receivers:
        fingerprint = _fingerprint_of(inventory, receiver)
        if not fingerprint:
            continue
        port = inventory.get(receiver, "receiver_relp_port", DEFAULT_PORT)
        targets.append(
            {
                "name": inventory.name(receiver),
                "address": inventory.address(receiver),
                "port": tcp_port(port, f"receiver_relp_port of {receiver}"),
                "fingerprint": fingerprint,
            }
        )
    return targets


class FilterModule:
    """logswap.netconsole RELP filters."""

    def filters(self) -> dict:
        return {
            "relp_peers": _filter(relp_peers),
            "relp_targets": _filter(relp_targets),
            "relp_targets_checked": _filter(validate_relp_targets),
            "sender_relp_settings": _filter(validate_sender_relp),
            "relp_queue_name": _filter(queue_name),
            "tcp_port": _filter(tcp_port),
            "tls_fingerprints": _filter(check_fingerprints),
            "config_path": _filter(check_path),
            "disk_size": _filter(check_size),
        }
