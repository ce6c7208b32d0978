# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the live (configfs) targets (the Jinja face of module_utils.livetargets)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.livetargets import stale_targets


def netconsole_stale_targets(found: object, wanted: object) -> list[str]:
    """Live targets of earlier runs beyond the current list: `found` is the target module's configfs_targets (or
    the find module's files, or paths), `wanted` the current targets (or their number)."""
    if not isinstance(found, list):
        raise AnsibleFilterError(f"netconsole_stale_targets: expected a list of found targets, got {found!r}")
    paths = [item["path"] if isinstance(item, dict) else item for item in found]
    count = wanted if isinstance(wanted, int) else len(wanted)
    return stale_targets(paths, count)


class FilterModule:
    """logswap.netconsole live target filters."""

    def filters(self) -> dict:
        return {"netconsole_stale_targets": netconsole_stale_targets}
