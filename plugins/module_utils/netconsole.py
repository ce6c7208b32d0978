# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netconsole targets: validation and the kernel's ``netconsole=`` parameter.

Pure logic, no host access, shared by the modules, the filter plugins and the unit tests.
Every error names the variable and the value so a user knows what to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    NetconsoleError,
    as_bool,
    as_mapping,
    check_keys,
    check_unique,
)

DEFAULT_LOCAL_PORT = 6665
DEFAULT_REMOTE_PORT = 6666
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
# drivers/net/netconsole.c: MAX_PARAM_LENGTH 256, the value and its NUL terminator.
MAX_PARAM_LENGTH = 255
IFNAMSIZ = 16
# The keys a target may have, in the order of the kernel's parameter.
TARGET_FIELDS = ("remote_ip", "local_ip", "dev_name", "local_port", "remote_port", "remote_mac", "extended", "release")
# Discovery always fills these; the shortest each can be bounds the parameter before discovery runs.
_SHORTEST_DISCOVERED = {"dev_name": "x", "remote_mac": "02:00:00:00:00:00", 4: "0.0.0.0", 6: "1::"}
# Linux 6.6 (commit c62c0a17f9b7, "netconsole: Append kernel version to message") added the `r` flag and the
# `release` attribute; older kernels read `r6665` as a bad port and start no command line target at all.
RELEASE_SINCE = (6, 6)

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
_TARGET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def normalize_ip(value: object, variable: str) -> str:
    """Return the canonical text of an IPv4 or IPv6 address, or fail naming ``variable``."""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise NetconsoleError(f"{variable}: {value!r} is not an IPv4 or IPv6 address") from None
    # Python keeps any text after '%' as the scope; none of these addresses takes one (the interface is named
    # apart, as dev_name), and the text would reach configuration files
    if getattr(address, "scope_id", None) is not None:
        raise NetconsoleError(
            f"{variable}: {value!r} has a zone (%...); give the address without it (the interface is chosen by "
            "the route, or named with dev_name)"
        )
    return str(address)


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
        # "false" from an INI inventory or -e must mean false, so no truthiness here.
        extended = as_bool(self.extended, f"{var}.extended")
        release = as_bool(self.release, f"{var}.release")
        if release and not extended:
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
            extended=extended,
            release=release,
            variable=var,
        )


def format_target(t: Target) -> str:
    """``[+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]`` for one target, checked by its caller."""
    flags = ("+" if t.extended else "") + ("r" if t.release else "")
    return (
        f"{flags}{t.local_port}@{t.local_ip or ''}/{t.dev_name or ''},"
        f"{t.remote_port}@{t.remote_ip}/{t.remote_mac or ''}"
    )


def format_parameter(targets: list[Target], variable: str = "sender_targets") -> str:
    """The value of ``netconsole=`` for checked targets (:meth:`Target.validated`), within the kernel's limit."""
    if not targets:
        raise NetconsoleError(f"{variable}: at least one target is needed")
    value = ";".join(format_target(t) for t in targets)
    if len(value) > MAX_PARAM_LENGTH:
        raise NetconsoleError(
            f"{variable}: the netconsole= parameter would be {len(value)} characters, "
            f"the kernel keeps only {MAX_PARAM_LENGTH}: {value!r}. Use fewer targets, or IPv4 addresses "
            "(shorter than IPv6 ones), or a shorter interface name"
        )
    return value


def target_from_mapping(mapping: object, variable: str, allow_mac: bool = False) -> Target:
    """One target as a user writes it (a dict), checked: known keys only, remote_ip given, every field valid.

    ``allow_mac``: dev_name may be the interface's MAC, which discovery resolves to its name.
    """
    given = as_mapping(mapping, variable, "a target (a mapping with at least remote_ip)")
    check_keys(given, TARGET_FIELDS, variable)
    if given.get("remote_ip") in (None, ""):
        raise NetconsoleError(f"{variable}.remote_ip: missing; give the receiver's IPv4 or IPv6 address")
    fields = {key: given[key] for key in TARGET_FIELDS if given.get(key) not in (None, "")}
    return Target(**fields, variable=variable).validated(allow_mac=allow_mac)


def validate_targets(targets: object, variable: str = "sender_targets", allow_mac: bool = False) -> list[Target]:
    """Every target checked, and no receiver (address and port) given twice: it would get every line twice."""
    if not isinstance(targets, (list, tuple)):
        raise NetconsoleError(
            f"{variable}: expected a list of targets, got {type(targets).__name__} {targets!r}; "
            "write a list such as [{remote_ip: 203.0.113.2}]"
        )
    if not targets:
        raise NetconsoleError(f"{variable}: at least one target is needed; give each receiver's remote_ip")
    checked = [target_from_mapping(target, f"{variable}[{index}]", allow_mac) for index, target in enumerate(targets)]
    try:
        check_unique((f"{t.remote_ip} port {t.remote_port}" for t in checked), variable, "the receiver")
    except NetconsoleError as exc:
        raise NetconsoleError(f"{exc}; it would get every line twice, so give each receiver once") from None
    return checked


def shortest_parameter_length(targets: Iterable[Target]) -> int:
    """The shortest ``netconsole=`` value discovery can lead to (checked targets): what it fills, at its shortest."""
    filled = []
    for t in targets:
        filled.append(
            Target(
                **{
                    **{key: getattr(t, key) for key in TARGET_FIELDS},
                    # a MAC given as dev_name becomes the interface's name, at least one character
                    "dev_name": t.dev_name
                    if t.dev_name and not is_mac(t.dev_name)
                    else _SHORTEST_DISCOVERED["dev_name"],
                    "local_ip": t.local_ip or _SHORTEST_DISCOVERED[ip_version(t.remote_ip)],
                    "remote_mac": t.remote_mac or _SHORTEST_DISCOVERED["remote_mac"],
                },
                variable=t.variable,
            )
        )
    return len(";".join(format_target(t) for t in filled))


def check_parameter_bound(targets: list[Target], variable: str = "sender_targets") -> int:
    """Fail before discovery (and before any package is installed) when the parameter cannot fit."""
    shortest = shortest_parameter_length(targets)
    if shortest > MAX_PARAM_LENGTH:
        raise NetconsoleError(
            f"{variable}: the netconsole= parameter would be at least {shortest} characters even with the shortest "
            f"interface name, source address and MAC discovery can find; the kernel keeps only {MAX_PARAM_LENGTH}. "
            "Use fewer targets, or IPv4 addresses (shorter than IPv6 ones)"
        )
    return shortest


def kernel_version(release: str) -> tuple[int, int] | None:
    """(major, minor) of a kernel release such as ``6.1.0-18-amd64``; None when it does not start with one."""
    match = re.match(r"(\d+)\.(\d+)", release)
    return (int(match.group(1)), int(match.group(2))) if match else None


def kernel_supports_release(release: str) -> bool:
    version = kernel_version(release)
    return version is not None and version >= RELEASE_SINCE


def installed_kernels(paths: Iterable[str]) -> dict[str, str]:
    """Image path -> release for boot images named ``vmlinuz-<release>`` (as in /boot on Debian and RHEL)."""
    kernels = {}
    for path in sorted(paths):
        name = path.rsplit("/", 1)[-1]
        if name.startswith("vmlinuz-"):
            kernels[path] = name[len("vmlinuz-") :]
    return kernels


def check_release_support(
    targets: list[Target], kernel_images: Iterable[str], variable: str, persist_hint: str
) -> None:
    """``r`` on the boot command line only when every installed kernel (each boots that line) understands it.

    ``persist_hint`` says how to leave the command line alone (the role's variable for it).
    """
    wanting = [index for index, target in enumerate(targets) if target.release]
    if not wanting:
        return
    kernels = installed_kernels(kernel_images)
    unknown = [path for path, release in kernels.items() if kernel_version(release) is None]
    older = [path for path, release in kernels.items() if path not in unknown and not kernel_supports_release(release)]
    if not (unknown or older):
        return
    since = ".".join(map(str, RELEASE_SINCE))
    reasons = [f"{path} predates Linux {since}" for path in older] + [
        f"{path} carries no version in its name (a rescue image), so it may predate Linux {since}" for path in unknown
    ]
    raise NetconsoleError(
        f"{variable}[{wanting[0]}].release: the kernel command line is written for every installed kernel, and "
        f"{'; '.join(reasons)}. Netconsole before {since} refuses the 'r' flag and then starts no target at all. "
        f"Set release: false, or remove the older kernel, or {persist_hint} to use release on the live target only"
    )


def check_same_receivers(receivers: list[str], given: list[str], variable: str, given_variable: str) -> None:
    """``receivers`` are ``given``'s, in the same order (the self-repair check finds the rest again)."""
    if receivers != given:
        raise NetconsoleError(
            f"{variable}: its receivers ({', '.join(receivers) or 'none'}) are not those of {given_variable} "
            f"({', '.join(given) or 'none'}), in order; leave it out, or give the same targets before discovery"
        )


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


def cmdline_target_name(index: int) -> str:
    """Targets from the command line appear in configfs as cmdline0, cmdline1, ..."""
    return f"cmdline{index}"


def kernel_takes_over_cmdline_targets(release: str) -> bool:
    """Linux 6.7 attaches ``mkdir cmdlineN`` to the target the command line created."""
    version = kernel_version(release)
    return version is not None and version >= (6, 7)
