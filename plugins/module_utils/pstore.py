# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pstore backend keeps a host's panic across the reboot, why, and the kernel command line words for it.

- ramoops in a ``reserve_mem=`` region (Linux 6.11+): the kernel picks the address itself, so nothing can be
  wrong about it on real hardware; ``ramoops.mem_name=`` names the region.
- EFI pstore: the host booted with UEFI and the kernel has efi_pstore (not disabled by default).
- ramoops at an explicit address (``memmap=SIZE$ADDR``): only on request (a wrong address on real hardware
  hides RAM the firmware uses, or the region is not RAM at all), so it carries a warning.

Pure logic, no host access: the caller passes what it read (kernel release, kernel config, /sys/firmware/efi).
"""

from __future__ import annotations

import re

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, check_pattern

BACKENDS = ("auto", "ramoops", "efi", "off")
# the first kernel with reserve_mem= (and ramoops.mem_name= reading it)
RESERVE_MEM_SINCE = (6, 11)
# sizes as the kernel's memparse takes them: a number with an optional K, M or G
_SIZE = re.compile(r"[1-9][0-9]{0,9}[KMG]?")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{1,16}")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size_bytes(text: str) -> int:
    return int(text.rstrip("KMG")) * _UNITS[text[-1] if text[-1] in "KMG" else ""]


def kernel_version(release: str) -> tuple[int, int]:
    """(major, minor) of a release such as ``6.1.0-50-amd64``; (0, 0) when it cannot be read."""
    match = re.match(r"(\d+)\.(\d+)", release or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def config_value(config: str, option: str) -> str:
    """``y``, ``m`` or a value of CONFIG_<option> in a kernel config text; ``n`` when unset or absent."""
    match = re.search(rf"(?m)^CONFIG_{re.escape(option)}=(\S+)$", config or "")
    return match.group(1).strip('"') if match else "n"


def _checked(settings: dict) -> dict:
    """Every user value, checked whole before anything is decided (the message names the variable)."""
    backend = check_pattern(
        str(settings.get("backend", "auto")),
        re.compile("|".join(BACKENDS)),
        "sender_pstore",
        "one of auto, ramoops, efi, off",
    )
    size = check_pattern(settings.get("size", "1M"), _SIZE, "sender_pstore_size", "a size such as 1M or 512K")
    record = check_pattern(
        settings.get("record_size", "128K"), _SIZE, "sender_pstore_record_size", "a size such as 128K"
    )
    if size_bytes(record) < 4096 or size_bytes(record) > size_bytes(size):
        raise NetconsoleError(
            f"sender_pstore_record_size: {record} must be at least 4K and at most sender_pstore_size ({size})"
        )
    if size_bytes(size) > 64 << 20:
        raise NetconsoleError(f"sender_pstore_size: {size} is more than 64M; a panic log needs a few hundred K")
    address = settings.get("address") or ""
    if address:
        address = check_pattern(
            address, _ADDRESS, "sender_pstore_address", "a physical address such as 0x20000000 (or '' for none)"
        )
        if int(address, 16) % 4096:
            raise NetconsoleError(f"sender_pstore_address: {address} is not aligned to 4096 bytes")
    name = check_pattern(
        settings.get("name", "logswap"), _NAME, "sender_pstore_name", "a short lower-case name (letters, digits, _)"
    )
    return {"backend": backend, "size": size, "record_size": record, "address": address, "name": name}


def _ramoops_words(values: dict, release: tuple[int, int]) -> tuple[list[str], list[str]]:
    """Words for ramoops and warnings: reserve_mem on 6.11+, memmap at the given address on request."""
    size, record = values["size"], values["record_size"]
    tail = [f"ramoops.record_size={size_bytes(record):#x}"]
    if values["address"]:
        address = values["address"].lower()
        warning = (
            f"sender_pstore_address: reserving {size} of RAM at {address} with memmap=; the address must be RAM "
            "that nothing else (firmware, GRUB's initrd, a crash kernel) uses on this machine. A wrong address "
            "hides memory the firmware needs or makes ramoops write where there is no RAM. "
            + (
                "reserve_mem= (this kernel has it, used when sender_pstore_address is empty) picks the address "
                "itself, but high in RAM, where the firmware or boot loader of some machines write on a reboot "
                "(docs/pstore.md: in QEMU with SeaBIOS and GRUB its record did not survive); either way, check "
                "that a record survives a test panic on this machine."
                if release >= RESERVE_MEM_SINCE
                else ""
            )
        ).strip()
        words = [
            f"memmap={size}${address}",
            f"ramoops.mem_address={address}",
            f"ramoops.mem_size={size_bytes(size):#x}",
        ]
        return words + tail, [warning]
    name = values["name"]
    return [f"reserve_mem={size}:4096:{name}", f"ramoops.mem_name={name}", *tail], []


def choose(settings: dict, facts: dict) -> dict:
    """The backend for this host, why, and what it needs.

    settings: backend (auto|ramoops|efi|off), size, record_size, address, name (sender_pstore*).
    facts: release (the kernel that will boot), config (its /boot/config text, '' if unreadable),
    efi (/sys/firmware/efi exists).

    Returns backend (ramoops|efi|none), reason, words (kernel command line, as /proc/cmdline shows them),
    modules (to load at boot), size (bytes kept: the ramoops region, 0 for EFI), warnings.
    Raises NetconsoleError when a forced backend cannot work here or a value is wrong.
    """
    settings = dict(settings)
    # YAML 1.1 reads an unquoted `sender_pstore: off` as false
    if settings.get("backend") is False:
        settings["backend"] = "off"
    values = _checked(settings)
    wanted = values["backend"]
    release_text = facts.get("release") or ""
    release = kernel_version(release_text)
    config = facts.get("config") or ""
    ramoops = config_value(config, "PSTORE_RAM")
    efi_pstore = config_value(config, "EFI_VARS_PSTORE")
    efi_off_by_default = config_value(config, "EFI_VARS_PSTORE_DEFAULT_DISABLE") == "y"
    none = {"backend": "none", "words": [], "modules": [], "size": 0, "warnings": []}

    if wanted == "off":
        return {**none, "reason": "sender_pstore is off"}

    def ramoops_result(reason: str) -> dict:
        words, warnings = _ramoops_words(values, release)
        return {
            "backend": "ramoops",
            "reason": reason,
            "words": words,
            "modules": ["ramoops"] if ramoops == "m" else [],
            "size": size_bytes(values["size"]),
            "warnings": warnings,
        }

    def efi_result(reason: str) -> dict:
        words = ["efi_pstore.pstore_disable=N"] if efi_off_by_default else []
        return {
            "backend": "efi",
            "reason": reason,
            "words": words,
            "modules": ["efi_pstore"] if efi_pstore == "m" else [],
            "size": 0,
            "warnings": [],
        }

    no_ramoops = (
        f"kernel {release_text or '(unknown)'} has no ramoops (CONFIG_PSTORE_RAM is not set)"
        if config
        else f"the configuration of kernel {release_text or '(unknown)'} could not be read (/boot/config-<release>)"
    )
    no_efi = (
        "the host did not boot with UEFI (no /sys/firmware/efi)"
        if not facts.get("efi")
        else f"kernel {release_text or '(unknown)'} has no efi_pstore (CONFIG_EFI_VARS_PSTORE is not set)"
    )
    old = f"kernel {release_text or '(unknown)'} has no reserve_mem= (Linux 6.11+)"

    if wanted == "ramoops":
        if ramoops == "n":
            raise NetconsoleError(f"sender_pstore: ramoops was asked for but {no_ramoops}; use auto, efi or off")
        if not values["address"] and release < RESERVE_MEM_SINCE:
            raise NetconsoleError(
                f"sender_pstore: ramoops was asked for but {old} to reserve its memory safely; give "
                "sender_pstore_address (an explicit memmap= reservation, see docs/pstore.md) or use auto, efi or off"
            )
        return ramoops_result("sender_pstore is ramoops")
    if wanted == "efi":
        if not facts.get("efi") or efi_pstore == "n":
            raise NetconsoleError(f"sender_pstore: efi was asked for but {no_efi}; use auto, ramoops or off")
        return efi_result(
            "sender_pstore is efi"
            + (" (efi_pstore is off by default in this kernel: turned on)" if efi_off_by_default else "")
        )
    # auto
    if ramoops != "n" and values["address"]:
        return ramoops_result("an explicit address was given (sender_pstore_address)")
    if ramoops != "n" and release >= RESERVE_MEM_SINCE:
        return ramoops_result(f"kernel {release_text} reserves ramoops memory with reserve_mem=")
    if facts.get("efi") and efi_pstore != "n" and not efi_off_by_default:
        return efi_result("the host booted with UEFI and the kernel has efi_pstore")
    why = [old if ramoops != "n" else no_ramoops]
    if facts.get("efi") and efi_pstore != "n" and efi_off_by_default:
        why.append("efi_pstore is off by default in this kernel (NVRAM wear); sender_pstore: efi turns it on")
    else:
        why.append(no_efi)
    return {
        **none,
        "reason": "no pstore backend: " + "; ".join(why) + ". Set sender_pstore_address for an "
        "explicit ramoops reservation (docs/pstore.md) or sender_pstore: off to silence this.",
    }
