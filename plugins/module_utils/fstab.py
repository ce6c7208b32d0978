# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mount tables and fstab: which filesystem holds a path, and adding ``acl`` to its entry."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# Filesystems that cannot hold POSIX ACLs whatever the mount options say.
NO_ACL_FILESYSTEMS = frozenset({"vfat", "msdos", "exfat", "iso9660", "udf", "squashfs", "ramfs"})


@dataclass
class Mount:
    source: str
    target: str
    fstype: str
    options: list[str]


def _unescape(field: str) -> str:
    """/proc/mounts and fstab write spaces and tabs in paths as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4 and not fields[0].startswith("#"):
            mounts.append(Mount(fields[0], _unescape(fields[1]), fields[2], fields[3].split(",")))
    return mounts


def mount_of(path: str, mounts: list[Mount]) -> Mount:
    """The mount that holds ``path`` (the last mounted one with the longest matching target)."""
    path = os.path.normpath(path)
    best: Mount | None = None
    for mount in mounts:
        target = mount.target.rstrip("/") or "/"
        inside = path == target or path.startswith(target + "/") or target == "/"
        if inside and (best is None or len(target) >= len(best.target.rstrip("/") or "/")):
            best = mount
    if best is None:
        raise ValueError(f"no mount holds {path}")
    return best


def acl_problem(mount: Mount) -> str | None:
    """Why the mount cannot take ACLs now, or None when it can."""
    if mount.fstype in NO_ACL_FILESYSTEMS:
        return "unsupported"
    if "noacl" in mount.options:
        return "noacl"
    return None


def with_acl(options: str) -> str:
    """Mount options with ``noacl`` replaced by ``acl`` (``defaults`` and the rest kept)."""
    kept = [o for o in options.split(",") if o not in ("noacl", "acl")]
    return ",".join([*kept, "acl"])


_FSTAB_LINE = re.compile(r"^(\s*)(\S+)(\s+)(\S+)(\s+)(\S+)(\s+)(\S+)(.*)$")


def fstab_add_acl(text: str, target: str) -> tuple[str, bool, bool]:
    """Return (new text, entry found, changed) with ``acl`` on the entry mounted at ``target``.

    Only the options field of that one line changes; comments, spacing and every other line stay.
    """
    found = changed = False
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        match = _FSTAB_LINE.match(line.rstrip("\n"))
        if not match or os.path.normpath(_unescape(match.group(4))) != os.path.normpath(target):
            continue
        found = True
        options = match.group(8)
        wanted = with_acl(options)
        if "noacl" in options.split(","):
            groups = list(match.groups())
            groups[7] = wanted
            lines[number] = "".join(groups) + ("\n" if line.endswith("\n") else "")
            changed = True
    return "".join(lines), found, changed


def verify_error_count(findmnt_output: str) -> int:
    """Errors reported by ``findmnt --verify`` (its summary line: 'N parse errors, M errors, K warnings')."""
    match = re.search(r"(\d+) parse errors?, (\d+) errors?", findmnt_output)
    return int(match.group(1)) + int(match.group(2)) if match else 0
