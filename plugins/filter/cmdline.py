# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the kernel command line (the Jinja face of module_utils.cmdline)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import (
    grub_dropin_values,
    grubby_argv,
    missing_words,
    netconsole_words,
)


def netconsole_cmdline(
    parameter: str, loglevel: object, panic: object, os_family: str = "Debian", extra: list | None = None
) -> dict:
    """Words for /proc/cmdline and their GRUB drop-in form; RHEL family: the module-parameter form.

    ``extra``: more words for the same command line (pstore's, from ``pstore_choice``)."""
    try:
        words = netconsole_words(parameter, loglevel, panic, module_form=os_family == "RedHat")
        words += [str(w) for w in extra or []]
        return {"words": words, "grub": grub_dropin_values(words)}
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


def cmdline_missing(words: list[str], cmdline: str) -> list[str]:
    """Wanted words the booted command line lacks, compared whole."""
    return missing_words(list(words), cmdline)


def netconsole_grubby_argv(info: str, words: list[str]) -> list[str]:
    """The grubby argv that puts the words on every kernel, [] when they are all there."""
    try:
        return grubby_argv(info, list(words))
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """logswap.netconsole kernel command line filters."""

    def filters(self) -> dict:
        return {
            "netconsole_cmdline": netconsole_cmdline,
            "cmdline_missing": cmdline_missing,
            "netconsole_grubby_argv": netconsole_grubby_argv,
        }
