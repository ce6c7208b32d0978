# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netconsole targets: validation and the kernel's ``netconsole=`` parameter.

Pure logic, no host access, shared by the modules, the filter plugins and the unit tests.
Every error names the variable and the value so a user knows what to change.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError

DEFAULT_LOCAL_PORT = 6665
DEFAULT_REMOTE_PORT = 6666
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
# drivers/net/netconsole.c: MAX_PARAM_LENGTH 256, the value and its NUL terminator.
MAX_PARAM_LENGTH = 255
IFNAMSIZ = 16

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
_TARGET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def normalize_ip(value: object, variable: str) -> str:
    """Return the canonical text of an IPv4 or IPv6 address, or fail naming ``variable``."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise NetconsoleError(f"{variable}: {value!r} is not an IPv4 or IPv6 address") from None


def ip_version(address: str) -> int:
    return ipaddress.ip_address(address).version


def validate_port(value: object, variable: str) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = -1
    if not 1 <= port <= 65535 or isinstance(value, bool):
        raise NetconsoleError(f"{variable}: {value!r} is not a UDP port; give a number from 1 to 65535")
    return port


def normalize_mac(value: object, variable: str) -> str:
    text = str(value).strip()
    if not _MAC_RE.match(text):
        raise NetconsoleError(
            f"{variable}: {value!r} is not an Ethernet MAC address (six hex pairs such as 52:54:00:12:34:56)"
        )
    mac = text.lower().replace("-", ":")
    if mac == "00:00:00:00:00:00":
        raise NetconsoleError(f"{variable}: {value!r} is the all-zero MAC; netconsole frames would go nowhere")
    return mac


def is_mac(value: str) -> bool:
    return bool(_MAC_RE.match(value))


def validate_interface(value: object, variable: str, allow_mac: bool = False) -> str:
    """An interface name as configfs and the kernel command line take it (at most 15 characters).

    A MAC address is never an interface name there. Only where discovery will turn it into the
    name of the interface that has it (``allow_mac``) is it returned, normalized.
    """
    name = str(value).strip()
    if is_mac(name):
        if allow_mac:
            return normalize_mac(name, variable)
        raise NetconsoleError(
            f"{variable}: {value!r} is a MAC address; configfs and the kernel command line take an "
            f"interface name (1-{IFNAMSIZ - 1} characters). Give the name of the interface "
            "(ip -br link shows it), or let discovery find it"
        )
    if not name or len(name) >= IFNAMSIZ or name in (".", "..") or any(c in name for c in "/:,@; \t\n"):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a network interface name "
            f"(1-{IFNAMSIZ - 1} characters, no '/', ':', ',', '@', ';' or spaces)"
        )
    return name


def validate_target_name(value: object, variable: str) -> str:
    name = str(value)
    if not _TARGET_NAME_RE.match(name):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a usable configfs target name "
            "(letters, digits, '_', '.', '-'; at most 64 characters; no '/')"
        )
    return name


@dataclass
class Target:
    """One netconsole target, as on the kernel command line and in configfs."""

    remote_ip: str
    local_ip: str | None = None
    dev_name: str | None = None
    local_port: int = DEFAULT_LOCAL_PORT
    remote_port: int = DEFAULT_REMOTE_PORT
    remote_mac: str | None = None
    extended: bool = False
    release: bool = False
    variable: str = field(default="target", compare=False, repr=False)

    def validated(self, allow_mac: bool = False) -> Target:
        """Return a copy with every field checked and normalized.

        ``allow_mac``: dev_name may still be a MAC address that discovery resolves to a name;
        everything that writes a target (configfs, the command line) validates without it.
        """
        var = self.variable
        remote_ip = normalize_ip(self.remote_ip, f"{var}.remote_ip")
        local_ip = normalize_ip(self.local_ip, f"{var}.local_ip") if self.local_ip else None
        if local_ip and ip_version(local_ip) != ip_version(remote_ip):
            raise NetconsoleError(
                f"{var}.local_ip: {local_ip} and {var}.remote_ip {remote_ip} "
                "are of different IP versions; netconsole needs both IPv4 or both IPv6"
            )
        if self.release and not self.extended:
            raise NetconsoleError(
                f"{var}.release: the kernel prepends the release only to extended messages; set extended: true as well"
            )
        return Target(
            remote_ip=remote_ip,
            local_ip=local_ip,
            dev_name=validate_interface(self.dev_name, f"{var}.dev_name", allow_mac) if self.dev_name else None,
            local_port=validate_port(self.local_port, f"{var}.local_port"),
            remote_port=validate_port(self.remote_port, f"{var}.remote_port"),
            remote_mac=normalize_mac(self.remote_mac, f"{var}.remote_mac") if self.remote_mac else None,
            extended=bool(self.extended),
            release=bool(self.release),
            variable=var,
        )


def format_target(target: Target) -> str:
    """``[+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]`` for one target."""
    t = target.validated()
    flags = ("+" if t.extended else "") + ("r" if t.release else "")
    return (
        f"{flags}{t.local_port}@{t.local_ip or ''}/{t.dev_name or ''},"
        f"{t.remote_port}@{t.remote_ip}/{t.remote_mac or ''}"
    )


def format_parameter(targets: list[Target], variable: str = "sender_targets") -> str:
    """The value of ``netconsole=`` for several targets, checked against the kernel's limit."""
    if not targets:
        raise NetconsoleError(f"{variable}: at least one target is needed")
    value = ";".join(format_target(t) for t in targets)
    if len(value) > MAX_PARAM_LENGTH:
        raise NetconsoleError(
            f"{variable}: the netconsole= parameter would be {len(value)} characters, "
            f"the kernel keeps only {MAX_PARAM_LENGTH}: {value!r}. Use fewer targets, "
            "leave out defaults (ports 6665/6666), or let the interface be found by the kernel"
        )
    return value


def _split_port_ip(part: str, default_port: int, what: str) -> tuple[int, str]:
    port_text, sep, ip = part.partition("@")
    if not sep:
        raise NetconsoleError(f"netconsole: {what} {part!r} has no '@'")
    port = validate_port(port_text, f"netconsole {what} port") if port_text else default_port
    return port, ip


def parse_target(text: str) -> Target:
    """Parse one target of ``netconsole=`` (the inverse of :func:`format_target`)."""
    extended = release = False
    body = text.strip()
    while body[:1] in ("+", "r"):
        extended |= body[0] == "+"
        release |= body[0] == "r"
        body = body[1:]
    local, sep, remote = body.partition(",")
    if not sep:
        raise NetconsoleError(f"netconsole: target {text!r} has no ',' between source and destination")
    local_port, local_rest = _split_port_ip(local, DEFAULT_LOCAL_PORT, "source")
    local_ip, _sep, dev = local_rest.partition("/")
    remote_port, remote_rest = _split_port_ip(remote, DEFAULT_REMOTE_PORT, "destination")
    remote_ip, _sep, mac = remote_rest.partition("/")
    if not remote_ip:
        raise NetconsoleError(f"netconsole: target {text!r} has no destination address")
    return Target(
        remote_ip=remote_ip,
        local_ip=local_ip or None,
        dev_name=dev or None,
        local_port=local_port,
        remote_port=remote_port,
        remote_mac=mac or None,
        extended=extended,
        release=release,
        variable="netconsole",
    ).validated(allow_mac=True)  # read what is there (6.14+ kernels take a MAC); never written by us


def parse_parameter(value: str) -> list[Target]:
    return [parse_target(part) for part in value.split(";") if part.strip()]


def parameter_from_cmdline(cmdline: str) -> str | None:
    """The last ``netconsole=`` value on a kernel command line (the one the kernel uses)."""
    found = None
    for word in cmdline.split():
        if word.startswith("netconsole="):
            found = word[len("netconsole=") :]
    return found


def cmdline_target_name(index: int) -> str:
    """Targets from the command line appear in configfs as cmdline0, cmdline1, ..."""
    return f"cmdline{index}"


def kernel_takes_over_cmdline_targets(release: str) -> bool:
    """Linux 6.7 attaches ``mkdir cmdlineN`` to the target the command line created."""
    match = re.match(r"^(\d+)\.(\d+)", release)
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (6, 7)
