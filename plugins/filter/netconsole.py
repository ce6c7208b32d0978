# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the roles use to check their input and build the kernel parameter."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import as_bool, as_int, as_list, as_mapping
from ansible_collections.logswap.netconsole.plugins.module_utils.features import counter_change
from ansible_collections.logswap.netconsole.plugins.module_utils.friends import (
    receiver_state,
    refusals,
    validate_friends,
    validate_receiver,
    without_secrets,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.heartbeat import heartbeat_settings
from ansible_collections.logswap.netconsole.plugins.module_utils.logcap import cap_plan
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    DEFAULT_REMOTE_PORT,
    TARGET_FIELDS,
    NetconsoleError,
    Target,
    check_parameter_bound,
    check_release_support,
    check_same_receivers,
    format_parameter,
    is_mac,
    normalize_ip,
    validate_port,
    validate_targets,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.nftrules import blocking_chains
from ansible_collections.logswap.netconsole.plugins.module_utils.repair import repair_settings, repair_targets
from ansible_collections.logswap.netconsole.plugins.module_utils.topology import (
    Sender,
    friends_of,
    receivers_of,
    target_settings,
    targets_to,
)


class Inventory:
    """The group's inventory as the topology reads it: the one place that knows the variables' names.

    Each host's value is read and checked once per filter call and named in messages as the user wrote it
    (``netconsole_address of ben``); module_utils gets the plain, checked values.
    """

    def __init__(self, group: object, hostvars: object) -> None:
        self.group = list(group)
        self.hostvars = hostvars
        self._receivers: dict[str, list[str]] = {}
        self._addresses: dict[str, str] = {}

    def get(self, host: str, variable: str, default: object = None) -> object:
        return self.hostvars[host].get(variable, default)

    def receivers(self, host: str) -> list[str]:
        """Whom ``host`` logs to (netconsole_log_to, else the next host of the group)."""
        if host not in self._receivers:
            log_to = self.get(host, "netconsole_log_to")
            self._receivers[host] = receivers_of(host, self.group, log_to, f"netconsole_log_to of {host}")
        return self._receivers[host]

    def senders_to(self, receiver: str) -> list[str]:
        """The hosts that log to ``receiver``, in group order."""
        return [sender for sender in self.group if receiver in self.receivers(sender)]

    def address(self, host: str) -> str:
        """The address friends send to (netconsole_address, set by discover.yml where the inventory has none)."""
        if host not in self._addresses:
            value = self.get(host, "netconsole_address")
            self._addresses[host] = normalize_ip(value, f"netconsole_address of {host}")
        return self._addresses[host]

    def name(self, host: str) -> str:
        """The directory the friends file ``host`` under."""
        return str(self.get(host, "netconsole_name", host))

    def sender(self, host: str) -> Sender:
        return Sender(
            host=host,
            name=self.get(host, "netconsole_name", host),
            targets=tuple(self.get(host, "sender_discovered") or ()),
            # an INI inventory gives one reader as a string; list("ann") would be three readers
            readers=tuple(as_list(self.get(host, "netconsole_readers"), f"netconsole_readers of {host}")),
        )


def receiver_friends(friends: object, variable: str = "receiver_friends") -> list[dict]:
    """Checked, normalized friends (see module_utils.friends)."""
    try:
        return validate_friends(friends, variable)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def receiver_settings(settings: object, os_family: str = "Debian", secrets: object = True) -> dict:
    """Every receiver role variable checked in one place (see module_utils.friends.validate_receiver);
    secrets=false leaves the friends' webhook URLs out (for a fact that -v may print)."""
    try:
        if not isinstance(settings, dict):
            raise NetconsoleError(f"receiver settings: expected a mapping, got {type(settings).__name__}")
        checked = validate_receiver(settings, str(os_family))
        return checked if as_bool(secrets, "secrets") else without_secrets(checked)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def receiver_state_of(checked: object) -> dict:
    """The fact receiver_state (module_utils.friends.receiver_state) from receiver_settings' result."""
    if not isinstance(checked, dict) or "friends" not in checked or "relp" not in checked:
        raise AnsibleFilterError("receiver_state: expected the result of the receiver_settings filter")
    return receiver_state(checked)


def receiver_refusals(checked: object) -> dict:
    """config_check's refuse option for receiver_settings' result (module_utils.friends.refusals)."""
    if not isinstance(checked, dict) or "friends" not in checked:
        raise AnsibleFilterError("receiver_refusals: expected the result of the receiver_settings filter")
    return refusals(checked)


def _as_dicts(targets: list[Target]) -> list[dict]:
    return [{k: getattr(t, k) for k in TARGET_FIELDS} for t in targets]


def netconsole_targets(targets: object, variable: str = "sender_targets", extended: object = None) -> list[dict]:
    """Checked targets as dicts with every field filled and normalized (unknown keys and duplicates refused).

    ``extended``: the format of a target that does not say (the role's ``sender_extended``); None keeps the
    kernel's plain default.
    """
    try:
        if extended is not None and isinstance(targets, (list, tuple)):
            default = as_bool(extended, "sender_extended")
            targets = [
                dict(t, extended=default) if isinstance(t, dict) and t.get("extended") in (None, "") else t
                for t in targets
            ]
        # dev_name may still be a MAC here: discovery turns it into the interface's name
        return _as_dicts(validate_targets(targets, variable, allow_mac=True))
    except (NetconsoleError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from None


def netconsole_parameter_bound(targets: object, variable: str = "sender_targets") -> int:
    """The shortest the ``netconsole=`` value can be after discovery; fails when even that is over the limit."""
    try:
        return check_parameter_bound(validate_targets(targets, variable, allow_mac=True), variable)
    except (NetconsoleError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from None


def netconsole_release_check(
    targets: object,
    kernel_images: object,
    variable: str = "sender_targets",
    persist_hint: str = "set sender_persist: false",
) -> bool:
    """True when every installed kernel (image paths such as /boot/vmlinuz-6.1.0-18-amd64) takes ``r``."""
    try:
        check_release_support(
            validate_targets(targets, variable, allow_mac=True), list(kernel_images or []), variable, persist_hint
        )
    except (NetconsoleError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from None
    return True


def netconsole_same_receivers(
    targets: list[dict],
    given: list[dict],
    variable: str = "sender_self_repair_targets",
    given_variable: str = "sender_targets",
) -> list[dict]:
    """Checked targets (netconsole_targets) as they are, when they name the receivers of ``given`` (checked too) in
    the same order; otherwise fails naming both variables."""
    try:
        check_same_receivers(
            [t["remote_ip"] for t in targets], [t["remote_ip"] for t in given], variable, given_variable
        )
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None
    return targets


def netconsole_parameter(targets: object, variable: str = "sender_targets") -> str:
    """The ``netconsole=`` value for targets, within the kernel's 255-character limit."""
    try:
        checked = [
            Target(
                **{k: t[k] for k in TARGET_FIELDS if t.get(k) is not None}, variable=f"{variable}[{index}]"
            ).validated()
            for index, t in enumerate(targets)
        ]
        return format_parameter(checked, variable)
    except (NetconsoleError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from None


def netconsole_merge_discovery(targets: list[dict], hops: list[dict]) -> list[dict]:
    """Fill each target's missing interface, source and MAC from its nexthop_info result."""
    merged = []
    for target, hop in zip(targets, hops, strict=True):
        found = {} if hop.get("skipped") else hop
        given = target.get("dev_name")
        # a given name stays; a given MAC becomes its interface's name (and stays a MAC, refused, if not found)
        dev_name = given if given and not is_mac(given) else found.get("interface") or given
        merged.append(
            dict(
                target,
                dev_name=dev_name,
                local_ip=target.get("local_ip") or found.get("source"),
                remote_mac=target.get("remote_mac") or found.get("remote_mac"),
            )
        )
    return netconsole_targets(merged)


def netconsole_receivers(host: str, group: list[str], log_to: object = None) -> list[str]:
    """Whom ``host`` logs to: ``log_to`` (its netconsole_log_to) if set, else the next host of the group."""
    try:
        return receivers_of(host, list(group), log_to, f"netconsole_log_to of {host}")
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def netconsole_friends(receiver: str, group: list[str], hostvars: object) -> list[dict]:
    """The receiver's friends (receiver_friends): each host that logs to it, by the source it discovered."""
    try:
        inventory = Inventory(group, hostvars)
        senders = [inventory.sender(host) for host in inventory.senders_to(receiver)]
        if not senders:
            return []
        return friends_of(receiver, inventory.address(receiver), senders)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def netconsole_targets_to(receivers: list[str], hostvars: object, extra: object = None) -> list[dict]:
    """Targets for this host's receivers with its ``netconsole_target`` settings (checked, named as written)."""
    variable = "netconsole_target"
    try:
        settings = {} if extra is None else dict(as_mapping(extra, variable, "a mapping such as {extended: true}"))
        for key in ("remote_ip", "remote_port"):
            if key in settings:
                raise NetconsoleError(
                    f"{variable}.{key}: set by each receiver (its netconsole_address and receiver_port); remove it here"
                )
        checked = target_settings(settings, len(receivers), variable)
        inventory = Inventory(receivers, hostvars)
        addresses = [
            (
                inventory.address(receiver),
                validate_port(
                    inventory.get(receiver, "receiver_port", DEFAULT_REMOTE_PORT), f"receiver_port of {receiver}"
                ),
            )
            for receiver in receivers
        ]
        return targets_to(addresses, checked)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def udp_port(value: object, variable: str) -> int:
    try:
        return validate_port(value, variable)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def ip_address(value: object, variable: str, allow_empty: bool = False) -> str:
    if allow_empty and (value is None or str(value).strip() == ""):
        return ""
    try:
        return normalize_ip(value, variable)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def checked_bool(value: object, variable: str) -> bool:
    """A role boolean as it means: "false", "no" and "0" from INI inventories or ``-e`` are false."""
    try:
        return as_bool(value, variable)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sender_heartbeat(interval: object, loglevel: object) -> dict:
    """``{seconds, level}`` of the heartbeat (module_utils.heartbeat); seconds 0 is off."""
    try:
        return heartbeat_settings(interval, loglevel)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sender_self_repair(enabled: object, interval: object, loglevel: object) -> dict:
    """The self-repair check's settings (module_utils.repair): enabled, seconds, holddown, confirm, level."""
    try:
        return repair_settings(enabled, interval, loglevel)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def sender_repair_targets(given: list) -> list[dict]:
    """The checked targets as the self-repair check's list (what the user gave; the rest is found again)."""
    return repair_targets(given)


def sender_name(value: object, variable: str = "sender_name") -> str:
    """The name friends file this host under (sent as userdata host=); '' sends none."""
    text = "" if value is None else str(value)
    if text and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", text) or ".." in text):
        raise AnsibleFilterError(
            f"{variable}: {value!r} is not a host name as the friends' receivers file it (letters, digits, "
            "'_', '.', '-', at most 63 characters, starting with a letter or digit); or '' to send none"
        )
    return text


def netconsole_counter_change(current: object, previous: object = None) -> dict:
    """transmit_errors now and at the previous run, and the change (module_utils.features.counter_change)."""
    text = str(current).strip() if current is not None else ""
    return counter_change(previous, int(text) if text.isdigit() else None)


def checked_int(value: object, variable: str, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        return as_int(value, variable, minimum, maximum)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def receiver_cap(cap: object, log_root: object, variable: str = "receiver_friend_max_bytes") -> dict:
    """The per-friend cap split into the live file's size limit and the older files' budget (module_utils.logcap)."""
    try:
        return cap_plan(cap, log_root, variable)
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def receiver_nft_blockers(ruleset: object, port: int, friends: list[dict] | None = None) -> list[str]:
    """Other nftables input chains that drop the port whatever the role's table accepts (module_utils.nftrules)."""
    addresses = [a for f in friends or [] for a in f.get("addresses", [])]
    versions = {6 if ":" in a else 4 for a in addresses} or {4, 6}
    try:
        return blocking_chains(ruleset, int(port), versions)
    except ValueError as exc:
        raise AnsibleFilterError(f"receiver_firewall: cannot read the nftables ruleset: {exc}") from None


class FilterModule:
    """logswap.netconsole filters."""

    def filters(self) -> dict:
        return {
            "receiver_friends": receiver_friends,
            "receiver_refusals": receiver_refusals,
            "receiver_settings": receiver_settings,
            "receiver_state": receiver_state_of,
            "netconsole_targets": netconsole_targets,
            "netconsole_parameter": netconsole_parameter,
            "netconsole_parameter_bound": netconsole_parameter_bound,
            "netconsole_release_check": netconsole_release_check,
            "netconsole_same_receivers": netconsole_same_receivers,
            "netconsole_merge_discovery": netconsole_merge_discovery,
            "netconsole_receivers": netconsole_receivers,
            "netconsole_friends": netconsole_friends,
            "netconsole_targets_to": netconsole_targets_to,
            "udp_port": udp_port,
            "ip_address": ip_address,
            "checked_bool": checked_bool,
            "checked_int": checked_int,
            "sender_heartbeat": sender_heartbeat,
            "sender_name": sender_name,
            "sender_self_repair": sender_self_repair,
            "sender_repair_targets": sender_repair_targets,
            "netconsole_counter_change": netconsole_counter_change,
            "receiver_cap": receiver_cap,
            "receiver_nft_blockers": receiver_nft_blockers,
        }
