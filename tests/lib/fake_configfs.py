"""A configfs tree on disk that enforces the netconsole kernel's rules.

Attribute sets follow the kernel version, with the kernel's own file names (drivers/net/netconsole.c):
release from 6.6, userdata/ from 6.9 (16 keys, 256 from 7.0), transmit_errors (read-only) from 6.13,
sysdata switches userdata/{cpu_nr,taskname,release}_enabled from 6.15 and userdata/msgid_enabled from 6.17.
Writes to an enabled target are refused with EINVAL, as the kernel does, and so is writing the
`enabled` value the target already has; userdata and sysdata may change while enabled; enabling runs
netpoll_setup()'s checks in its order (ENODEV: no such interface, EBUSY: a bridge or bond port, ENOTSUPP:
no netpoll) and that release comes with extended; ports above 65535 give ERANGE (kstrtou16); local_mac and
transmit_errors are read-only (EACCES); a userdata key over 53 characters is ENAMETOOLONG, a key beyond the
limit ENOSPC, a value write of 200 bytes or more EMSGSIZE; before 7.0 a sysdata switch counts against the
16 entries too (ENOSPC).
"""

from __future__ import annotations

import errno
import ipaddress
import os

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import ConfigfsStore

BASE_ATTRIBUTES = {
    "enabled": "0",
    "extended": "0",
    "dev_name": "eth0",
    "local_port": "6665",
    "remote_port": "6666",
    "local_ip": "0.0.0.0",
    "remote_ip": "0.0.0.0",
    "local_mac": "00:00:00:00:00:00",
    "remote_mac": "ff:ff:ff:ff:ff:ff",
}


SYSDATA_SINCE = {
    "cpu_nr_enabled": (6, 15),
    "taskname_enabled": (6, 15),
    "release_enabled": (6, 15),
    "msgid_enabled": (6, 17),
}
# kstrtobool's words
TRUE_WORDS = ("1", "y", "Y", "yes", "on")
FALSE_WORDS = ("0", "n", "N", "no", "off")


def version_tuple(release: str) -> tuple[int, int]:
    major, minor = release.split(".")[:2]
    return int(major), int(minor)


class FakeKernelConfigfs(ConfigfsStore):
    def __init__(
        self,
        root: str,
        release: str = "6.1",
        devices: dict[str, str] | None = None,
        enslaved: set[str] | None = None,
        no_netpoll: set[str] | None = None,
    ) -> None:
        super().__init__(root)
        os.makedirs(root, exist_ok=True)
        self.version = version_tuple(release)
        self.devices = devices if devices is not None else {"eth0": "52:54:00:00:00:01"}
        # devices with a master (bridge/bond ports) and devices without netpoll support
        self.enslaved = enslaved or set()
        self.no_netpoll = no_netpoll or set()
        # (attribute, value) pairs to refuse with EIO: a write that fails for a reason of its own
        self.broken: set[tuple[str, str]] = set()
        self.writes: list[tuple[str, str, str]] = []
        self.boot_targets: dict[str, dict[str, str]] = {}

    def create(self, name: str) -> None:
        super().create(name)
        attributes = dict(BASE_ATTRIBUTES)
        if self.version >= (6, 6):
            attributes["release"] = "0"
        if self.version >= (6, 13):
            attributes["transmit_errors"] = "0"
        # 6.7+: mkdir cmdlineN attaches the running command line target
        if self.version >= (6, 7) and name in self.boot_targets:
            attributes.update(self.boot_targets[name])
        for attribute, value in attributes.items():
            with open(self.path(name, attribute), "w", encoding="ascii") as handle:
                handle.write(value + "\n")
        if self.version >= (6, 9):
            os.mkdir(self.path(name, "userdata"))
            for file, since in SYSDATA_SINCE.items():
                if self.version >= since:
                    with open(self.path(name, "userdata", file), "w", encoding="ascii") as handle:
                        handle.write("0\n")

    @property
    def max_userdata_items(self) -> int:
        return 256 if self.version >= (7, 0) else 16

    def set_transmit_errors(self, name: str, value: int) -> None:
        """What the kernel counts when a datagram could not be sent (the test's stand-in for a lost frame)."""
        with open(self.path(name, "transmit_errors"), "w", encoding="ascii") as handle:
            handle.write(f"{value}\n")

    def remove(self, name: str) -> None:
        for key in self.userdata(name) or {}:
            os.unlink(self.path(name, "userdata", key, "value"))
        for file in self.sysdata_files(name) or set():
            os.unlink(self.path(name, "userdata", file))
        for entry in os.listdir(self.path(name)):
            if os.path.isfile(self.path(name, entry)):
                os.unlink(self.path(name, entry))
        if os.path.isdir(self.path(name, "userdata")):
            os.rmdir(self.path(name, "userdata"))
        super().remove(name)

    def remove_userdata(self, name: str, key: str) -> None:
        os.unlink(self.path(name, "userdata", key, "value"))
        super().remove_userdata(name, key)

    def _enabled_sysdata(self, name: str) -> int:
        return sum(self.read(name, f"userdata/{file}") == "1" for file in self.sysdata_files(name) or set())

    def set_userdata(self, name: str, key: str, value: str) -> None:
        entry = self.path(name, "userdata", key)
        if not os.path.isdir(entry):
            if len(key) > 53:
                raise OSError(errno.ENAMETOOLONG, "File name too long", entry)
            # before 7.0 the sysdata switches count against the same 16 entries
            used = len(self.userdata(name) or {}) + (self._enabled_sysdata(name) if self.version < (7, 0) else 0)
            if used >= self.max_userdata_items:
                raise OSError(errno.ENOSPC, "No space left on device", entry)
            os.mkdir(entry)
            open(os.path.join(entry, "value"), "w").close()
        self.write(name, os.path.join("userdata", key, "value"), value)

    def write(self, name: str, attribute: str, value: str) -> None:
        path = self.path(name, attribute)
        if not os.path.exists(path):
            raise OSError(errno.ENOENT, "No such file or directory", path)
        if attribute in ("local_mac", "transmit_errors"):
            raise OSError(errno.EACCES, "Permission denied", path)
        if attribute.startswith("userdata/") and attribute.endswith("/value") and len(value) + 1 >= 200:
            raise OSError(errno.EMSGSIZE, "Message too long", path)
        if attribute.startswith("userdata/") and attribute.endswith("_enabled"):
            self._check_sysdata(name, attribute, value, path)
        enabled = self.read(name, "enabled") == "1"
        if enabled and attribute != "enabled" and not attribute.startswith("userdata"):
            raise OSError(errno.EINVAL, "Invalid argument", path)
        if (attribute, value) in self.broken:
            raise OSError(errno.EIO, "Input/output error", path)
        self._check_value(name, attribute, value, path)
        self.writes.append((name, attribute, value))
        super().write(name, attribute, value)
        if attribute == "enabled" and value == "1":
            super().write(name, "local_mac", self.devices[self.read(name, "dev_name")])

    def _check_sysdata(self, name: str, attribute: str, value: str, path: str) -> None:
        if value not in TRUE_WORDS + FALSE_WORDS:
            raise OSError(errno.EINVAL, "Invalid argument", path)
        switching_on = value in TRUE_WORDS and self.read(name, attribute) != "1"
        if switching_on and self.version < (7, 0):
            used = len(self.userdata(name) or {}) + self._enabled_sysdata(name)
            if used >= self.max_userdata_items:
                raise OSError(errno.ENOSPC, "No space left on device", path)

    def _check_value(self, name: str, attribute: str, value: str, path: str) -> None:
        def refuse() -> None:
            raise OSError(errno.EINVAL, "Invalid argument", path)

        if attribute in ("local_ip", "remote_ip"):
            try:
                ipaddress.ip_address(value)
            except ValueError:
                refuse()
        if attribute in ("local_port", "remote_port"):
            if not value.isdigit():
                refuse()
            if int(value) > 65535:
                raise OSError(errno.ERANGE, "Numerical result out of range", path)
        if attribute in ("enabled", "extended", "release") and value not in ("0", "1"):
            refuse()
        if attribute == "enabled" and value == self.read(name, "enabled"):
            refuse()  # "network logging has already started/stopped"
        if attribute == "enabled" and value == "1":
            dev = self.read(name, "dev_name")
            if dev not in self.devices:
                raise OSError(errno.ENODEV, "No such device", path)
            if dev in self.enslaved:
                raise OSError(errno.EBUSY, "Device or resource busy", path)
            if dev in self.no_netpoll:
                raise OSError(524, "Unknown error 524", path)
            if (
                "release" in self.attributes(name)
                and self.read(name, "release") == "1"
                and (self.read(name, "extended") != "1")
            ):
                refuse()
        if (
            attribute == "extended"
            and value == "0"
            and "release" in self.attributes(name)
            and (self.read(name, "release") == "1")
        ):
            refuse()
