"""The role's path for a dev_name given as a MAC: kept for discovery, replaced by the name it finds, never written."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.filter.netconsole import (
    netconsole_merge_discovery,
    netconsole_parameter,
    netconsole_targets,
)

GIVEN = [{"remote_ip": "10.0.0.2", "dev_name": "52-54-00-AA-BB-CC", "remote_mac": "52:54:00:00:00:02"}]
HOP = {"interface": "eth0", "source": "10.0.0.1", "remote_mac": "52:54:00:00:00:99"}


def test_a_mac_dev_name_is_kept_normalized_for_discovery():
    assert netconsole_targets(GIVEN)[0]["dev_name"] == "52:54:00:aa:bb:cc"


def test_discovery_replaces_the_mac_by_the_interface_name_and_keeps_what_was_given():
    merged = netconsole_merge_discovery(netconsole_targets(GIVEN), [HOP])
    assert merged[0]["dev_name"] == "eth0"
    assert merged[0]["remote_mac"] == "52:54:00:00:00:02"  # given, not the discovered one
    assert merged[0]["local_ip"] == "10.0.0.1"
    assert netconsole_parameter(merged) == "6665@10.0.0.1/eth0,6666@10.0.0.2/52:54:00:00:00:02"


def test_a_mac_never_reaches_the_command_line():
    skipped = netconsole_merge_discovery(netconsole_targets(GIVEN), [{"skipped": True}])
    with pytest.raises(AnsibleFilterError, match="is a MAC address; configfs and the kernel command line take"):
        netconsole_parameter(skipped)
