from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.logcap import MAX_CAP, MIN_CAP, SLACK, cap_plan


def test_the_live_file_takes_an_eighth_and_the_rest_leaves_room_for_rsyslogs_last_write():
    plan = cap_plan(268435456, "/var/log/remote")
    assert plan == {
        "cap": 268435456,
        "limit": 33554432,
        "budget": 268435456 - 33554432 - SLACK,
        "log_root": "/var/log/remote",
    }
    assert plan["limit"] + SLACK + plan["budget"] == plan["cap"]


def test_text_from_an_ini_inventory_is_a_number():
    assert cap_plan("1048576", "/srv/logs")["cap"] == MIN_CAP


def test_rsyslogs_int_size_limit_bounds_the_cap():
    assert cap_plan(MAX_CAP, "/l")["limit"] < 2**31
    with pytest.raises(NetconsoleError, match=r"^receiver_friend_max_bytes: .* out of range"):
        cap_plan(MAX_CAP + 1, "/l")


@pytest.mark.parametrize("value", [0, 1000, "256M", "1e9", True, None])
def test_what_is_not_a_byte_count_in_range_is_refused_naming_the_variable(value):
    with pytest.raises(NetconsoleError, match=r"^receiver_friend_max_bytes: "):
        cap_plan(value, "/var/log/remote")


@pytest.mark.parametrize(
    "root",
    [
        "/",
        "var/log/remote",
        "/var/log/remote/",
        "/var/log/../../etc",
        "/var/log/./remote",
        "/var/log/re mote",
        '/var/log/x" file="/tmp/leak',
        "/var/log/remote\n",
        "/var/log/re\\mote",
        "",
        None,
    ],
)
def test_a_log_root_that_could_change_the_cap_command_is_refused(root):
    with pytest.raises(NetconsoleError, match=r"^receiver_log_root: "):
        cap_plan(MIN_CAP, root)
