# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sender's self-repair check: find each live target's next hop again and fix what changed.

The sender role installs this file on the host (with the module_utils it imports) and runs :func:`main` from
logswap-netconsole-repair.service, on a timer and once after boot when the network is online. The next hop is
found by module_utils.discovery, the nexthop_info module's own code; a change goes through
configfs.TargetReconciler, whose rollback puts back what ran when the kernel refuses a value. The rules that keep
the check from looping or flapping:

- one pass per run and no retries: the timer is the only repetition;
- a difference counts only when two looks, ``confirm`` seconds apart, both see it with the same new values;
- a look that fails changes nothing;
- a target this check changed (or tried to) is not changed again within ``holddown`` seconds;
- what the user gave (dev_name, local_ip, remote_mac) is handed to discovery as given, and a given remote_mac is
  never replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    NetconsoleError,
    as_bool,
    as_duration,
    as_int,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import (
    CONFIGFS_ROOT,
    WRITE_ORDER,
    ConfigfsStore,
    TargetReconciler,
    normalize_live,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import is_mac
from ansible_collections.logswap.netconsole.plugins.module_utils.nexthop import NexthopError, names_for

# What discovery decides and the check may change; the other attributes are the user's and stay as they are.
REPAIRED = ("dev_name", "local_ip", "remote_mac")
MINIMUM_INTERVAL = 10
MAXIMUM_INTERVAL = 86400
# The second look comes this long after the first: long enough for a VRRP or ARP transient to settle.
CONFIRM_SECONDS = 5
# A target is changed at most once in this many intervals.
HOLDDOWN_INTERVALS = 3
NOTICE = 5
PREFIX = "logswap-netconsole-repair"


@dataclass(frozen=True)
class RepairTarget:
    """One live target as the user asked for it (what discovery filled in is not here)."""

    name: str
    remote_ip: str
    interface: str | None = None
    source: str | None = None
    remote_mac: str | None = None
    variable: str = "sender_targets[0]"


@dataclass
class Outcome:
    """What the check did for one target: ``action`` is ok, skipped, failed, held, unconfirmed, repaired or refused."""

    name: str
    action: str
    message: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changed_something(self) -> bool:
        return self.action == "repaired"


Look = Callable[[RepairTarget], Mapping[str, str]]


def repair_settings(
    enabled: object,
    interval: object,
    loglevel: object,
    variable: str = "sender_self_repair",
    interval_variable: str = "sender_self_repair_interval",
) -> dict:
    """The checked settings: ``enabled``, ``seconds``, ``holddown``, ``confirm`` and the kernel log ``level``.

    ``level`` is the level of the line written into the kernel log for a change (notice, or the most important
    level below the console's so netconsole sends it), None when only alert or emergency would reach the
    console: then the journal alone says what changed.
    """
    on = as_bool(enabled, variable)
    # 0 turns it off too, as for the heartbeat (and as the duration check's own message says)
    seconds = as_duration(interval, interval_variable, MINIMUM_INTERVAL, MAXIMUM_INTERVAL)
    console = as_int(loglevel, "sender_loglevel", 0, 8)
    level = min(NOTICE, console - 1)
    return {
        "enabled": on and seconds > 0,
        "seconds": seconds,
        "holddown": HOLDDOWN_INTERVALS * seconds,
        "confirm": CONFIRM_SECONDS,
        "level": level if level >= 2 else None,
    }


def repair_targets(given: list[Mapping[str, object]]) -> list[dict]:
    """The role's checked targets (before discovery) as the check's list, cmdline0 first.

    A target whose interface, source and MAC were all given has nothing to find again and is left out.
    """
    targets = []
    for index, target in enumerate(given):
        interface = target.get("dev_name") or None
        source = target.get("local_ip") or None
        remote_mac = target.get("remote_mac") or None
        if interface and source and remote_mac and not is_mac(str(interface)):
            continue
        targets.append(
            {
                "name": f"cmdline{index}",
                "remote_ip": str(target["remote_ip"]),
                "interface": interface,
                "source": source,
                "remote_mac": remote_mac,
                "variable": f"sender_targets[{index}]",
            }
        )
    return targets


def differences(live: Mapping[str, str], found: Mapping[str, str], target: RepairTarget) -> dict[str, tuple[str, str]]:
    """attribute -> (live value, found value) for each of :data:`REPAIRED` that differs."""
    wanted = {"dev_name": found["interface"], "local_ip": found["source"], "remote_mac": found["remote_mac"]}
    if target.remote_mac:  # the user's: discovery ran for the interface and source only
        del wanted["remote_mac"]
    changes = {}
    for attribute, value in wanted.items():
        new = normalize_live(attribute, str(value))
        if live.get(attribute) != new:
            changes[attribute] = (live.get(attribute, ""), new)
    return changes


def describe(changes: Mapping[str, tuple[str, str]]) -> str:
    return ", ".join(f"{attribute} {old or '(none)'} -> {new}" for attribute, (old, new) in sorted(changes.items()))


def check_target(
    target: RepairTarget,
    store: ConfigfsStore,
    look: Look,
    state: dict,
    settings: Mapping[str, object],
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """One pass for one target; ``state`` (target name -> {"changed_at": seconds}) is updated on a change."""
    name = target.name
    reconciler = TargetReconciler(store, name)
    live = reconciler.snapshot()
    if live is None:
        return Outcome(
            name,
            "skipped",
            f"{name}: not in configfs (before Linux 6.7 a target the kernel command line started is not; "
            "nothing to check until the next playbook run)",
        )
    if live.get("remote_ip") != normalize_live("remote_ip", target.remote_ip):
        return Outcome(
            name,
            "skipped",
            f"{name}: sends to {live.get('remote_ip')}, not {target.remote_ip}: changed by someone else, left alone",
        )
    if live.get("enabled") != "1":
        return Outcome(name, "skipped", f"{name}: not enabled; left alone")
    try:
        first = look(target)
    except (NexthopError, NetconsoleError, OSError) as exc:
        return Outcome(name, "failed", f"{name}: the next hop could not be found, nothing changed: {exc}")
    changes = differences(live, first, target)
    where = f"next hop {first['next_hop']} on {first['interface']}"
    if not changes:
        return Outcome(name, "ok", f"{name}: as discovered ({where}, {live.get('remote_mac')})")
    changed_at = float(state.get(name, {}).get("changed_at", 0))
    holddown = float(settings["holddown"])
    if changed_at and now() - changed_at < holddown:
        return Outcome(
            name,
            "held",
            f"{name}: would change {describe(changes)}, but it was changed {now() - changed_at:.0f} s ago; held down "
            f"for {holddown:.0f} s, nothing changed",
            changes,
        )
    sleep(float(settings["confirm"]))
    try:
        second = look(target)
    except (NexthopError, NetconsoleError, OSError) as exc:
        return Outcome(name, "failed", f"{name}: the second look failed, nothing changed: {exc}", changes)
    live = reconciler.snapshot() or {}
    if differences(live, second, target) != changes:
        return Outcome(
            name,
            "unconfirmed",
            f"{name}: saw {describe(changes)}, but {settings['confirm']} s later "
            f"{describe(differences(live, second, target)) or 'no difference'}; nothing changed",
            changes,
        )
    wanted = {attribute: live[attribute] for attribute in WRITE_ORDER if attribute in live}
    wanted.update({attribute: new for attribute, (_old, new) in changes.items()})
    state[name] = {"changed_at": now()}
    try:
        reconciler.present(wanted, enabled=True, missing="skip")
    except NetconsoleError as exc:
        return Outcome(name, "refused", f"{name}: could not change {describe(changes)}: {exc}", changes)
    return Outcome(
        name,
        "repaired",
        f"{name}: {describe(changes)} ({where}; seen twice, {settings['confirm']} s apart)",
        changes,
    )


def run(
    targets: list[RepairTarget],
    store: ConfigfsStore,
    look: Look,
    state: dict,
    settings: Mapping[str, object],
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """One pass over every target (never more: the timer repeats the check)."""
    return [check_target(target, store, look, state, settings, now, sleep) for target in targets]


def discovery_look(timeout: float) -> Look:
    """The real look: module_utils.discovery (pyroute2), with the next hop's MAC asked of the wire."""
    # imported here: the filters import this file on the controller, which needs no netlink
    from ansible_collections.logswap.netconsole.plugins.module_utils.discovery import (
        PYROUTE2_IMPORT_ERROR,
        discover,
    )

    if PYROUTE2_IMPORT_ERROR is not None:
        raise NetconsoleError(f"pyroute2 is missing ({PYROUTE2_IMPORT_ERROR}); install python3-pyroute2")

    def look(target: RepairTarget) -> Mapping[str, str]:
        return discover(
            target.remote_ip, target.interface, target.source, timeout, names_for(target.variable), fresh=True
        )

    return look


def read_state(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(path: str, state: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(path + ".tmp", path)


def kernel_line(level: int, outcome: Outcome) -> bytes:
    """A line for /dev/kmsg (under its ~990-byte limit), so the friends see what changed on the wire."""
    return f"<{level}>{PREFIX}: {outcome.message}"[:900].encode("utf-8", "replace") + b"\n"


def load_config(path: str) -> tuple[list[RepairTarget], dict]:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    targets = [RepairTarget(**target) for target in config["targets"]]
    return targets, config


def main(argv: list[str] | None = None, look: Look | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PREFIX, description="Find each netconsole target's next hop again.")
    parser.add_argument("--config", default="/etc/logswap-netconsole/repair.json")
    parser.add_argument("--check", action="store_true", help="check the configuration and exit")
    args = parser.parse_args(argv)
    try:
        targets, config = load_config(args.config)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"{PREFIX}: {args.config}: {exc}\n")
        return 2
    if args.check:
        return 0
    store = ConfigfsStore(config.get("configfs", CONFIGFS_ROOT))
    state_path = config.get("state", "/run/logswap-netconsole/repair-state.json")
    state = read_state(state_path)
    try:
        look = look or discovery_look(float(config.get("timeout", 10)))
    except NetconsoleError as exc:
        sys.stderr.write(f"{PREFIX}: {exc}\n")
        return 1
    outcomes = run(targets, store, look, state, config)
    write_state(state_path, state)
    for outcome in outcomes:
        # one line per target and run: the journal's record of every check
        sys.stdout.write(f"{PREFIX}: {outcome.action}: {outcome.message}\n")
        sys.stdout.flush()
        if outcome.action in ("repaired", "refused") and config.get("level") is not None and config.get("kmsg"):
            try:
                with open(config["kmsg"], "wb", buffering=0) as kmsg:
                    kmsg.write(kernel_line(int(config["level"]), outcome))
            except OSError as exc:
                sys.stderr.write(f"{PREFIX}: could not write to {config['kmsg']}: {exc}\n")
    return 1 if any(outcome.action in ("failed", "refused") for outcome in outcomes) else 0
