# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the reliable channel (kernel log over RELP with TLS): checks and who pins whom."""

from __future__ import annotations

from collections.abc import Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import (
    peers_of,
    queue_name,
    relp_targets_to,
    tcp_port,
    validate_relp_targets,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import (
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


def relp_peers(receiver: str, group: list[str], hostvars: object) -> list[str]:
    return peers_of(receiver, list(group), hostvars)


def relp_targets(receivers: list[str], hostvars: object) -> list[dict]:
    return relp_targets_to(list(receivers), hostvars)


class FilterModule:
    """logswap.netconsole RELP filters."""

    def filters(self) -> dict:
        return {
            "relp_peers": _filter(relp_peers),
            "relp_targets": _filter(relp_targets),
            "relp_targets_checked": _filter(validate_relp_targets),
            "relp_queue_name": _filter(queue_name),
            "tcp_port": _filter(tcp_port),
            "tls_fingerprints": _filter(check_fingerprints),
            "config_path": _filter(check_path),
            "disk_size": _filter(check_size),
        }
