# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reliable channel (kernel log over RELP with TLS): who pins whom, and the checked settings of each side.

Each host's certificate fingerprint is the fact ``netconsole_relp_fingerprint`` (set by the playbook from
logswap.netconsole.tls_identity). A receiver pins the fingerprints of the hosts that log to it; a sender pins the
fingerprint of each host it logs to. Nothing here knows rsyslog; the templates do.
"""

from __future__ import annotations

import re

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    NetconsoleError,
    as_bool,
    as_list,
    as_mapping,
    check_keys,
    check_pattern,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import normalize_ip, validate_port
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import (
    check_fingerprint,
    check_path,
    check_size,
)

DEFAULT_PORT = 2514
# where the roles keep this host's key and certificate by default (receiver_relp_key, receiver_relp_cert)
DEFAULT_KEY = "/etc/logswap-netconsole/relp-key.pem"
DEFAULT_CERT = "/etc/logswap-netconsole/relp-cert.pem"
TARGET_KEYS = ("name", "address", "port", "fingerprint")
# rsyslog action and queue file names are built from it
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def queue_name(name: str) -> str:
    """The rsyslog action and queue file name of a target: rsyslog takes letters, digits and '_' there."""
    return "logswap_relp_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def tcp_port(value: object, variable: str) -> int:
    """A TCP port as a number or its digits only (no sign, space or newline)."""
    try:
        if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
            raise NetconsoleError(variable)
        return validate_port(value, variable)
    except NetconsoleError:
        raise NetconsoleError(f"{variable}: {value!r} is not a TCP port; give a number from 1 to 65535") from None


def validate_relp_targets(value: object, variable: str = "sender_relp_targets", required: bool = False) -> list[dict]:
    """Checked sender RELP targets (name, address, port, fingerprint), names unique; at least one if required
    (the channel is on)."""
    checked = []
    for index, item in enumerate(as_list(value, variable)):
        where = f"{variable}[{index}]"
        target = as_mapping(item, where)
        check_keys(target, TARGET_KEYS, where)
        for key in ("name", "address", "fingerprint"):
            if key not in target:
                raise NetconsoleError(f"{where}: {key} is required")
        name = check_pattern(target["name"], _NAME, f"{where}.name", "a name (letters, digits, . _ -)")
        if any(t["name"] == name for t in checked):
            raise NetconsoleError(f"{where}.name: {name!r} is given twice; each receiver once")
        # the action and its queue file are named queue_name(name) (the sender's template uses the same)
        clash = [t["name"] for t in checked if queue_name(t["name"]) == queue_name(name)]
        if clash:
            raise NetconsoleError(
                f"{where}.name: {name!r} and {clash[0]!r} would share one queue file ({queue_name(name)}); "
                "give names that differ in more than '.', '-' and '_'"
            )
        checked.append(
            {
                "name": name,
                "address": normalize_ip(target["address"], f"{where}.address"),
                "port": tcp_port(target.get("port", DEFAULT_PORT), f"{where}.port"),
                "fingerprint": check_fingerprint(target["fingerprint"], f"{where}.fingerprint"),
            }
        )
    if required and not checked:
        raise NetconsoleError(
            f"sender_relp: the reliable channel is on but {variable} is empty; give each friend's name, address "
            "and certificate fingerprint, or set sender_relp to false"
        )
    return checked


def validate_sender_relp(settings: object) -> dict:
    """The sender's reliable-channel variables, each checked and named: ``on``, ``kmsg`` (forward the kernel log),
    ``targets`` (at least one when on), ``queue_max_disk`` (bytes), ``key``, ``cert``. ``settings`` maps each
    variable name (sender_relp, sender_relp_kernel_input, sender_relp_targets, sender_relp_queue_max_disk,
    sender_relp_key, sender_relp_cert) to its value."""
    given = as_mapping(settings, "sender reliable-channel settings")
    enabled = as_bool(given.get("sender_relp"), "sender_relp")
    return {
        "on": enabled,
        "kmsg": as_bool(given.get("sender_relp_kernel_input"), "sender_relp_kernel_input"),
        "targets": validate_relp_targets(given.get("sender_relp_targets"), "sender_relp_targets", enabled),
        "queue_max_disk": check_size(given.get("sender_relp_queue_max_disk"), "sender_relp_queue_max_disk"),
        "key": check_path(given.get("sender_relp_key"), "sender_relp_key"),
        "cert": check_path(given.get("sender_relp_cert"), "sender_relp_cert"),
    }
