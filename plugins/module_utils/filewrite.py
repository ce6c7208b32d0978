# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a file only where it differs, by an atomic rename, for the modules that install several files in one
run (units). Symlinks are never followed: a link's target is neither read nor given a mode."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from typing import Any

MODE = re.compile(r"0?[0-7]{3,4}")


def path_error(option: str, path: str) -> str | None:
    """Why path cannot name a file to write (relative, or with . or .. or // in it), naming the option; None if
    it can."""
    if os.path.isabs(path) and os.path.normpath(path) == path:
        return None
    return f"{option}: {path!r} is not a normalised absolute path"


def current(path: str) -> bytes | None:
    """The file's content; None where there is none or something other than a regular file (the rename that
    writes the new content replaces a symlink, it does not write through it)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as opened:
        if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
            return None
        return opened.read()


def missing_dirs(path: str) -> list[str]:
    """The directories to create, outermost first, for path to be a directory."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    return list(reversed(missing))


def make_parents(module: Any, path: str, owner: str | None, group: str | None) -> None:
    """The missing directories above path, outermost first, mode 0755 with the owner and group given."""
    for directory in missing_dirs(os.path.dirname(path)):
        os.mkdir(directory, 0o755)
        fix_attributes(module, directory, "0755", owner, group)


def trusted_dir(path: str) -> bool:
    """Whether only root (or the user this runs as) can replace files in the directory: owned by one of them, and
    not writable by anyone unless sticky (as /tmp is: there only a file's owner may rename over it)."""
    info = os.stat(path)
    anyone_writes = info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX
    return info.st_uid in (0, os.geteuid()) and not anyone_writes


def unsafe_dirs(files: list[dict[str, Any]]) -> list[str]:
    """The existing directories above the files where someone other than root (or this module's user) could
    swap a file that root later runs: writable by anyone (without the sticky bit), or owned by another user.
    A directory writable by its group is accepted (Debian's /usr/local is group staff's where the admin chose so)."""
    unsafe = set()
    for entry in files:
        path = os.path.dirname(entry["path"])
        while True:
            if os.path.isdir(path) and not trusted_dir(path):
                unsafe.add(path)
            if path == os.path.dirname(path):
                break
            path = os.path.dirname(path)
    return sorted(unsafe)


def write_atomic(module: Any, path: str, data: bytes) -> None:
    """The new content beside the file, then renamed over it (a reader sees the old file or the new one)."""
    directory, name = os.path.split(path)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        module.atomic_move(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def fix_attributes(module: Any, path: str, mode: str, owner: str | None, group: str | None) -> bool:
    """Mode, owner and group as asked (check mode: only whether they differ)."""
    changed = module.set_mode_if_different(path, mode, False)
    if owner:
        changed = module.set_owner_if_different(path, owner, changed)
    if group:
        changed = module.set_group_if_different(path, group, changed)
    return changed


def text_diff(path: str, before: bytes | None, after: bytes) -> dict[str, str]:
    """One file's entry in a module's diff."""
    return {
        "before_header": path,
        "after_header": path,
        "before": (before or b"").decode("utf-8", "replace"),
        "after": after.decode("utf-8", "replace"),
    }
