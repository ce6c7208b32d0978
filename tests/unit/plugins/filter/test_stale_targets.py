"""Which live targets a run removes: those of earlier runs beyond the current list, and nothing else."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.live import netconsole_stale_targets

CONFIGFS = "/sys/kernel/config/netconsole"


def found(*names: str) -> list[dict]:
    """What ansible.builtin.find returns for these configfs directories."""
    return [{"path": f"{CONFIGFS}/{name}", "isdir": True} for name in names]


def test_targets_beyond_the_current_list_are_removed_lowest_first():
    existing = found("cmdline10", "cmdline0", "cmdline2", "cmdline1")
    assert netconsole_stale_targets(existing, [{"remote_ip": "192.0.2.2"}]) == ["cmdline1", "cmdline2", "cmdline10"]


def test_the_current_targets_stay():
    assert netconsole_stale_targets(found("cmdline0", "cmdline1"), 2) == []


def test_no_target_wanted_removes_all_of_the_roles():
    assert netconsole_stale_targets(found("cmdline0", "cmdline3"), []) == ["cmdline0", "cmdline3"]


def test_targets_under_other_names_are_left_alone():
    assert netconsole_stale_targets(found("mytarget", "cmdline0"), 1) == []


def test_every_other_cmdline_name_goes_as_before():
    # what the find pattern cmdline* matched and the Jinja of live.yml removed: all but the current names
    assert netconsole_stale_targets(found("cmdline01", "cmdline1x", "cmdline1"), 2) == ["cmdline1x", "cmdline01"]


def test_nothing_found_removes_nothing():
    assert netconsole_stale_targets([], 0) == []


def test_plain_paths_work_too():
    assert netconsole_stale_targets([f"{CONFIGFS}/cmdline4/"], 1) == ["cmdline4"]


def test_a_skipped_find_is_refused_not_read_as_nothing():
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        netconsole_stale_targets(None, 1)
