from __future__ import annotations

import re

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    NetconsoleError,
    as_bool,
    as_int,
    as_list,
    check_keys,
    check_pattern,
    check_unique,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("false", False),
        ("no", False),
        ("No", False),
        ("0", False),
        (0, False),
        ("true", True),
        ("yes", True),
        ("on", True),
        ("1", True),
        (1, True),
    ],
)
def test_booleans_written_as_text_mean_what_they_say(value, expected):
    assert as_bool(value, "v") is expected


@pytest.mark.parametrize("value", ["maybe", 2, None, [], "falsch", 0.5, ""])
def test_a_value_that_is_not_a_boolean_is_refused_naming_the_variable(value):
    with pytest.raises(NetconsoleError, match=r"^sender_targets\[0\]\.extended: .* is not a boolean"):
        as_bool(value, "sender_targets[0].extended")


def test_unknown_keys_are_named():
    with pytest.raises(NetconsoleError, match=r"sender_targets\[1\]: unknown key 'remote_adress'; the keys are a, b"):
        check_keys({"a": 1, "remote_adress": 2}, ("a", "b"), "sender_targets[1]")
    check_keys({"a": 1}, ("a", "b"), "x")


def test_lists():
    assert as_list(None, "v") == []
    assert as_list("a", "v") == ["a"]
    with pytest.raises(NetconsoleError, match="v: expected a list, got dict"):
        as_list({"a": 1}, "v")


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("5", 5), (" 7 ", 7)])
def test_whole_numbers(value, expected):
    assert as_int(value, "v", 0, 10) == expected


@pytest.mark.parametrize(("value", "needle"), [(True, "not a whole"), ("5.5", "not a whole"), (11, "from 0 to 10")])
def test_numbers_refused(value, needle):
    with pytest.raises(NetconsoleError, match=needle):
        as_int(value, "v", 0, 10)


def test_pattern_must_match_the_whole_value_without_a_trailing_newline():
    name = re.compile(r"[a-z]+")
    assert check_pattern("adm", name, "v", "a group") == "adm"
    for bad in ("adm\n", "adm x", "adm\nfoo"):
        with pytest.raises(NetconsoleError, match=r"v: .* is not a group"):
            check_pattern(bad, name, "v", "a group")


def test_duplicates_are_named():
    expected = r"sender_targets: receiver '192.0.2.1' is given twice \(entries 0 and 2\)"
    with pytest.raises(NetconsoleError, match=expected):
        check_unique(["192.0.2.1", "192.0.2.2", "192.0.2.1"], "sender_targets", "receiver")
