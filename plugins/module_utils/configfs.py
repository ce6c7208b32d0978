# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile one netconsole target in configfs, the way the kernel allows it.

The kernel refuses writes to an enabled target, so a change is always
disable -> write every differing attribute -> enable, and nothing is touched
when every attribute already holds the wanted value (as Debian's netconsole-setup does).
"""

from __future__ import annotations

import errno
import ipaddress
import os

from ansible_collections.logswap.netconsole.plugins.module_utils.features import (
    COUNTERS,
    SYSDATA_FILES,
    FeaturePlan,
    Offered,
    counter_change,
    offered_features,
    plan_features,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    Target,
)

CONFIGFS_ROOT = "/sys/kernel/config/netconsole"
# Written in this order; `enabled` always last.
WRITE_ORDER = (
    "dev_name",
    "local_port",
    "remote_port",
    "local_ip",
    "remote_ip",
    "remote_mac",
    "extended",
    "release",
)
BOOLEAN_ATTRIBUTES = ("enabled", "extended", "release")
MAX_USERDATA_ITEMS = 16
MAX_USERDATA_KEY_LENGTH = 53
# The kernel refuses a write of 200 bytes or more (EMSGSIZE); the write carries a newline.
MAX_USERDATA_VALUE_LENGTH = 198
# The kernel's internal "operation not supported" (include/linux/errno.h), which netpoll returns for a device
# without polling; userspace sees the bare number.
ENOTSUPP = 524


class ConfigfsStore:
    """Netconsole targets as directories of attribute files under ``root``."""

    def __init__(self, root: str = CONFIGFS_ROOT) -> None:
        self.root = root

    def path(self, name: str, *parts: str) -> str:
        return os.path.join(self.root, name, *parts)

    def names(self) -> list[str]:
        return sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []

    def exists(self, name: str) -> bool:
        return os.path.isdir(self.path(name))

    def create(self, name: str) -> None:
        os.mkdir(self.path(name))

    def remove(self, name: str) -> None:
        for key in self.userdata(name) or {}:
            os.rmdir(self.path(name, "userdata", key))
        os.rmdir(self.path(name))

    def attributes(self, name: str) -> set[str]:
        return {entry for entry in os.listdir(self.path(name)) if os.path.isfile(self.path(name, entry))}

    def read(self, name: str, attribute: str) -> str:
        with open(self.path(name, attribute), encoding="ascii") as handle:
            return handle.read().strip()

    def write(self, name: str, attribute: str, value: str) -> None:
        # One write() per attribute: configfs takes the whole value in one store call. The kernel's refusal
        # comes back from that write; raise it naming the file (a buffered close() would not).
        path = self.path(name, attribute)
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, (value + "\n").encode("ascii"))
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, path) from None
        finally:
            os.close(fd)

    def userdata(self, name: str) -> dict[str, str] | None:
        """Userdata entries, or None when the kernel has no userdata (before 6.9)."""
        base = self.path(name, "userdata")
        if not os.path.isdir(base):
            return None
        return {
            key: self.read(name, os.path.join("userdata", key, "value"))
            for key in sorted(os.listdir(base))
            if os.path.isdir(os.path.join(base, key))
        }

    def sysdata_files(self, name: str) -> set[str] | None:
        """The files of ``userdata/`` (sysdata switches, 6.15+), or None when there is no ``userdata/``."""
        base = self.path(name, "userdata")
        if not os.path.isdir(base):
            return None
        return {entry for entry in os.listdir(base) if os.path.isfile(os.path.join(base, entry))}

    def counter(self, name: str, attribute: str) -> int | None:
        """A read-only counter such as transmit_errors (6.13+), or None where the kernel has none."""
        if attribute not in self.attributes(name):
            return None
        text = self.read(name, attribute)
        return int(text) if text.isdecimal() else None

    def set_userdata(self, name: str, key: str, value: str) -> None:
        entry = self.path(name, "userdata", key)
        if not os.path.isdir(entry):
            os.mkdir(entry)
        self.write(name, os.path.join("userdata", key, "value"), value)

    def remove_userdata(self, name: str, key: str) -> None:
        os.rmdir(self.path(name, "userdata", key))

    def targets(self) -> list[str]:
        """The names of the targets (directories with an ``enabled`` file; configfs shows nothing else here)."""
        return [name for name in self.names() if os.path.isfile(self.path(name, "enabled"))]

    def enabled(self, name: str) -> bool:
        return normalize_live("enabled", self.read(name, "enabled")) == "1"


def counter_note(counter_dir: str | None, name: str) -> str | None:
    """Where the target module keeps a target's transmit_errors of the previous run (None: no note kept)."""
    return os.path.join(counter_dir, f"{name}.transmit_errors") if counter_dir else None


def read_counter_note(counter_dir: str | None, name: str) -> str | None:
    note = counter_note(counter_dir, name)
    if note and os.path.isfile(note):
        with open(note, encoding="ascii", errors="replace") as handle:
            return handle.read()
    return None


def write_counter_note(counter_dir: str | None, name: str, value: int) -> None:
    note = counter_note(counter_dir, name)
    if note:
        os.makedirs(os.path.dirname(note), mode=0o755, exist_ok=True)
        with open(note + ".tmp", "w", encoding="ascii") as handle:
            handle.write(f"{value}\n")
        os.replace(note + ".tmp", note)


def live_targets(store: ConfigfsStore, counter_dir: str | None = None) -> list[dict]:
    """Every target in configfs as the kernel shows it (read-only; the counter notes are the target module's).

    Each: ``name``, ``enabled``, ``state`` (every attribute, as :meth:`TargetReconciler.snapshot` reads it) and
    ``transmit_errors`` (:func:`counter_change` against the note of the sender's last run).
    """
    found = []
    for name in store.targets():
        state = TargetReconciler(store, name).snapshot() or {}
        counter = counter_change(read_counter_note(counter_dir, name), store.counter(name, "transmit_errors"))
        found.append({"name": name, "enabled": state.get("enabled") == "1", "state": state, "transmit_errors": counter})
    return found


def write_order(wanted: dict[str, str]) -> tuple[str, ...]:
    """Release needs extended: switch release off before extended, on after it."""
    if wanted.get("release") == "0":
        return ("release", *(a for a in WRITE_ORDER if a != "release"))
    return WRITE_ORDER


def desired_attributes(t: Target) -> dict[str, str]:
    """Attribute values of a checked target (:meth:`Target.validated`) as the kernel prints them; unset fields are
    left to the kernel."""
    wanted = {
        "local_port": str(t.local_port),
        "remote_port": str(t.remote_port),
        "remote_ip": t.remote_ip,
        "extended": "1" if t.extended else "0",
    }
    if t.dev_name:
        wanted["dev_name"] = t.dev_name
    if t.local_ip:
        wanted["local_ip"] = t.local_ip
    if t.remote_mac:
        wanted["remote_mac"] = t.remote_mac
    # Always managed, so turning release off is a change; dropped where the kernel lacks it.
    wanted["release"] = "1" if t.release else "0"
    return wanted


def normalize_live(attribute: str, value: str) -> str:
    """Make a value read from configfs comparable with :func:`desired_attributes`."""
    if attribute in ("local_ip", "remote_ip"):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    if attribute in ("local_mac", "remote_mac"):
        return value.lower()
    if attribute in BOOLEAN_ATTRIBUTES:
        return "1" if value.strip() in ("1", "Y", "y") else "0"
    return value


def validate_userdata(userdata: dict[str, str], variable: str = "userdata") -> dict[str, str]:
    if len(userdata) > MAX_USERDATA_ITEMS:
        raise NetconsoleError(f"{variable}: {len(userdata)} entries, the kernel keeps at most {MAX_USERDATA_ITEMS}")
    clean = {}
    for key, value in userdata.items():
        key_text, value_text = str(key), str(value)
        if not key_text or "/" in key_text or len(key_text) > MAX_USERDATA_KEY_LENGTH:
            raise NetconsoleError(
                f"{variable}: key {key_text!r} must be 1-{MAX_USERDATA_KEY_LENGTH} characters without '/'"
            )
        if len(value_text) > MAX_USERDATA_VALUE_LENGTH or "\n" in value_text:
            raise NetconsoleError(
                f"{variable}.{key_text}: the value must be one line of at most {MAX_USERDATA_VALUE_LENGTH} characters"
            )
        clean[key_text] = value_text
    return clean


class TargetReconciler:
    """Bring one configfs target to a wanted state; ``check_mode`` only plans."""

    def __init__(self, store: ConfigfsStore, name: str, check_mode: bool = False) -> None:
        self.store = store
        self.name = name
        self.check_mode = check_mode
        # Set by present(): mkdir attached a target the kernel command line had started (Linux 6.7+).
        self.adopted = False
        # Set by present(): the features planned against the live files (None in check mode for a new target).
        self.plan: FeaturePlan | None = None

    def snapshot(self) -> dict[str, str] | None:
        """Every readable attribute (and userdata as ``userdata.<key>``), or None if absent."""
        if not self.store.exists(self.name):
            return None
        state = {
            attribute: normalize_live(attribute, self.store.read(self.name, attribute))
            for attribute in sorted(self.store.attributes(self.name))
            if attribute not in COUNTERS  # read-only counters are reported, not part of the state
        }
        for key, value in (self.store.userdata(self.name) or {}).items():
            state[f"userdata.{key}"] = value
        files = self.store.sysdata_files(self.name) or set()
        for feature, file in SYSDATA_FILES.items():
            if file in files:
                state[f"sysdata.{feature}"] = normalize_live("enabled", self.store.read(self.name, f"userdata/{file}"))
        return state

    def offered(self) -> Offered:
        """What the live directory offers (module_utils.features), read from its files."""
        return offered_features(self.store.attributes(self.name), self.store.sysdata_files(self.name))

    def present(
        self,
        wanted: dict[str, str],
        enabled: bool = True,
        userdata: dict[str, str] | None = None,
        sysdata: dict[str, bool] | None = None,
        missing: str = "fail",
    ) -> tuple[bool, dict[str, str] | None, dict[str, str]]:
        """Return (changed, before, after) after bringing the target to ``wanted``.

        ``userdata`` (None: not managed) and ``sysdata`` (feature -> on/off; a feature not named is left alone)
        are planned against the files the target offers (:func:`features.plan_features`); with ``missing="skip"``
        what the kernel lacks is left out and reported in :attr:`plan`, otherwise the run fails before any write.
        """
        before = self.snapshot()
        if before is None:
            if self.check_mode:  # the files are known only after mkdir: plan nothing, report that
                after = dict(wanted, enabled="1" if enabled else "0")
                after.update({f"userdata.{k}": v for k, v in (userdata or {}).items()})
                after.update({f"sysdata.{k}": "1" if v else "0" for k, v in (sysdata or {}).items()})
                return True, None, after
            self.store.create(self.name)
            current = self.snapshot() or {}
            # A new target starts disabled; an enabled one is the command line's, which the kernel attached.
            # It is already running: only a differing attribute is a change, and the diff starts from it.
            self.adopted = current.get("enabled") == "1"
            if self.adopted:
                before = current
        else:
            current = before
        try:
            self.plan = plan_features(
                self.offered(),
                extended=wanted.get("extended") == "1",
                release=wanted.get("release") == "1",
                sysdata=sysdata,
                userdata=userdata,
                missing=missing,
                target=self.name,
            )
        except NetconsoleError:
            if before is None:  # made just now to read its files: leave nothing behind
                self.absent_now()
            raise
        userdata = self.plan.userdata
        if "release" not in current and wanted.get("release") == "0":
            wanted = {k: v for k, v in wanted.items() if k != "release"}
        differing = [a for a in write_order(wanted) if a in wanted and current.get(a) != wanted[a]]
        live_enabled = current.get("enabled") == "1"
        userdata_ops = self._userdata_changes(current, userdata)
        sysdata_ops = self._sysdata_changes(current, self.plan.sysdata)
        changed = (
            before is None or bool(differing) or live_enabled != enabled or bool(userdata_ops) or bool(sysdata_ops)
        )
        if not changed or self.check_mode:
            after = dict(current, **{a: wanted[a] for a in differing})
            after["enabled"] = "1" if enabled else "0"
            after.update({f"userdata.{k}": v for k, v in (userdata or {}).items()})
            for key in userdata_ops.get("remove", []):
                after.pop(f"userdata.{key}", None)
            after.update({f"sysdata.{_feature(file)}": v for file, v in sysdata_ops.items()})
            return changed, before, after
        try:
            if differing and live_enabled:
                self.store.write(self.name, "enabled", "0")
            for attribute in differing:
                self.store.write(self.name, attribute, wanted[attribute])
            # userdata and sysdata may change while enabled; written before the enable all the same, so the
            # first line after it carries them
            self._apply_userdata(userdata_ops)
            self._apply_sysdata(sysdata_ops)
            if enabled and (differing or not live_enabled):
                self.store.write(self.name, "enabled", "1")
            elif not enabled and live_enabled and not differing:
                self.store.write(self.name, "enabled", "0")
        except OSError as exc:
            reason = self._explain(exc, wanted.get("dev_name") or current.get("dev_name", ""))
            raise NetconsoleError(f"{reason}; {self._roll_back(before, current)}") from None
        return True, before, self.snapshot() or {}

    def _roll_back(self, before: dict[str, str] | None, current: dict[str, str]) -> str:
        """Put back what ran before the failed change, so a refused value never leaves logging off.

        Returns what was done, for the error message.
        """
        try:
            if before is None:
                self.absent_now()
                return "the new target was removed again; nothing else changed"
            if self.store.read(self.name, "enabled") == "1":  # the kernel refuses writing 0 twice (EINVAL)
                self.store.write(self.name, "enabled", "0")
            old = {a: current[a] for a in WRITE_ORDER if a in current}
            for attribute in write_order(old):
                if (
                    attribute in old
                    and normalize_live(attribute, self.store.read(self.name, attribute)) != old[attribute]
                ):
                    self.store.write(self.name, attribute, old[attribute])
            old_userdata = {k[len("userdata.") :]: v for k, v in current.items() if k.startswith("userdata.")}
            self._apply_userdata(self._userdata_changes(self.snapshot() or {}, old_userdata))
            old_sysdata = {
                SYSDATA_FILES[k[len("sysdata.") :]]: v for k, v in current.items() if k.startswith("sysdata.")
            }
            self._apply_sysdata(self._sysdata_changes(self.snapshot() or {}, old_sysdata))
            if current.get("enabled") == "1":
                self.store.write(self.name, "enabled", "1")
                return "the previous attributes were restored and the target enabled again: it logs as before"
            return "the previous attributes were restored (the target was disabled before and stays so)"
        except OSError as exc:
            return (
                f"restoring the previous attributes failed too ({self._explain(exc, current.get('dev_name', ''))}): "
                f"this target is NOT logging now; see dmesg and {self.store.path(self.name)}"
            )

    def absent_now(self) -> None:
        """Disable (if enabled) and remove, whatever check_mode says (used to undo a half-made target)."""
        if self.store.read(self.name, "enabled") == "1":
            self.store.write(self.name, "enabled", "0")
        self.store.remove(self.name)

    def absent(self) -> tuple[bool, dict[str, str] | None]:
        before = self.snapshot()
        if before is None:
            return False, None
        if not self.check_mode:
            if before.get("enabled") == "1":
                self.store.write(self.name, "enabled", "0")
            self.store.remove(self.name)
        return True, before

    @staticmethod
    def _userdata_changes(current: dict[str, str], userdata: dict[str, str] | None) -> dict:
        if userdata is None:
            return {}
        live = {k[len("userdata.") :]: v for k, v in current.items() if k.startswith("userdata.")}
        ops = {
            "set": {k: v for k, v in userdata.items() if live.get(k) != v},
            "remove": sorted(set(live) - set(userdata)),
        }
        return {k: v for k, v in ops.items() if v}

    @staticmethod
    def _sysdata_changes(current: dict[str, str], sysdata: dict[str, str]) -> dict[str, str]:
        """sysdata files (under userdata/) whose value differs from the plan."""
        return {file: value for file, value in sysdata.items() if current.get(f"sysdata.{_feature(file)}") != value}

    def _apply_sysdata(self, ops: dict[str, str]) -> None:
        for file, value in ops.items():
            self.store.write(self.name, f"userdata/{file}", value)

    def _apply_userdata(self, ops: dict) -> None:
        for key in ops.get("remove", []):
            self.store.remove_userdata(self.name, key)
        for key, value in ops.get("set", {}).items():
            self.store.set_userdata(self.name, key, value)

    def _explain(self, exc: OSError, dev_name: str) -> str:
        """The kernel's reason in words (errnos of drivers/net/netconsole.c and netpoll_setup(), Linux 6.1+)."""
        attribute = os.path.basename(exc.filename or "") or "configfs"
        dev = dev_name or "the interface"
        if attribute == "enabled":
            hint = {
                errno.ENODEV: f"interface {dev} does not exist",
                errno.EBUSY: f"{dev} is a port of a bridge or bond (enslaved), which netpoll refuses; "
                "log through the bridge or bond interface itself (dev_name) instead",
                errno.EDESTADDRREQ: f"{dev} has no IP address to send from; give local_ip",
                ENOTSUPP: f"{dev} does not support netpoll (netconsole needs an Ethernet driver with polling)",
                errno.EINVAL: "the kernel refused to enable it (release needs extended, or it was already enabled)",
            }.get(exc.errno or 0, f"{dev} could not be brought up")
        else:
            hint = {
                errno.EINVAL: f"the kernel refused this {attribute} (not a value it takes, or written while "
                "the target was enabled)",
                errno.ERANGE: f"{attribute} is out of range",
            }.get(exc.errno or 0, "")
        strerror = exc.strerror or (f"error {exc.errno}" if exc.errno else str(exc))
        name = errno.errorcode.get(exc.errno or 0, "ENOTSUPP" if exc.errno == ENOTSUPP else str(exc.errno))
        what = "to enable it" if attribute == "enabled" else f"the write to {attribute}"
        reason = f"netconsole target {self.name}: the kernel refused {what}: {strerror} ({name})"
        return f"{reason}; {hint}" if hint else reason


def _feature(file: str) -> str:
    """The sysdata feature of a file under userdata/ (cpu_nr_enabled -> cpu_nr)."""
    return next(feature for feature, name in SYSDATA_FILES.items() if name == file)


def format_state(state: dict[str, str] | None) -> str:
    """A target's state as stable text for Ansible's --diff."""
    if state is None:
        return ""
    return "".join(f"{key} = {value}\n" for key, value in sorted(state.items()))
