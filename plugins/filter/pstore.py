# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for pstore (the Jinja face of module_utils.pstore)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.pstore import choose


def pstore_choice(settings: dict, facts: dict) -> dict:
    """The pstore backend for this host, why, its kernel command line words and modules (docs/pstore.md)."""
    try:
        return choose(dict(settings), dict(facts))
    except NetconsoleError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """logswap.netconsole pstore filters."""

    def filters(self) -> dict:
        return {"pstore_choice": pstore_choice}
