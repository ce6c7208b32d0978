# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of the live (configfs) targets: the role's targets are cmdline0, cmdline1, ... in the order of the
list, the names the kernel gives command line targets, so a booted target is taken over instead of doubled.
Which of the ones found in configfs an earlier run left behind is decided here, not in Jinja."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

PREFIX = "cmdline"


def target_name(index: int) -> str:
    return f"{PREFIX}{index}"


def _order(name: str) -> tuple[int, str]:
    digits = name[len(PREFIX) :]
    return (int(digits), name) if digits.isdecimal() else (-1, name)


def stale_targets(found: Iterable[str], wanted: int) -> list[str]:
    """The targets (configfs directory paths or names) to remove when `wanted` targets are configured now: every
    cmdline* (the names the role and the kernel's command line use) but cmdline0 .. cmdline<wanted - 1>."""
    current = {target_name(index) for index in range(wanted)}
    names = {posixpath.basename(str(path).rstrip("/")) for path in found}
    return sorted((name for name in names if name.startswith(PREFIX) and name not in current), key=_order)
