from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.friends import missing_readers, validate_friends
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import NetconsoleError


def test_friends_are_normalized():
    friends = validate_friends(
        [{"name": "alice", "addresses": ["192.0.2.10", "2001:DB8::0:10"], "readers": ["alice", "alice"]}]
    )
    assert friends == [{"name": "alice", "addresses": ["192.0.2.10", "2001:db8::10"], "readers": ["alice"]}]


def test_a_single_address_string_is_accepted():
    assert validate_friends([{"name": "bob", "addresses": "192.0.2.11"}])[0]["addresses"] == ["192.0.2.11"]


@pytest.mark.parametrize(
    ("friends", "needle"),
    [
        ([{"name": "a/b", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: 'a/b' cannot be a directory"),
        ([{"name": "..", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: '..'"),
        ([{"name": "al ice", "addresses": ["192.0.2.1"]}], "receiver_friends[0].name: 'al ice'"),
        ([{"addresses": ["192.0.2.1"]}], "receiver_friends[0].name: None"),
        ([{"name": "a", "addresses": ["192.0.2.300"]}], "receiver_friends[a].addresses: '192.0.2.300' is not"),
        ([{"name": "a", "addresses": []}], "receiver_friends[a].addresses: at least one"),
        (
            [{"name": "a", "addresses": ["192.0.2.1"]}, {"name": "a", "addresses": ["192.0.2.2"]}],
            "receiver_friends[a].name: 'a' is given twice",
        ),
        (
            [{"name": "a", "addresses": ["192.0.2.1"]}, {"name": "b", "addresses": ["192.0.2.01"]}],
            "receiver_friends[b].addresses: '192.0.2.01' is not an IPv4 or IPv6 address",
        ),
        (
            [{"name": "a", "addresses": ["2001:db8::1"]}, {"name": "b", "addresses": ["2001:DB8::0:1"]}],
            "receiver_friends[b].addresses: 2001:db8::1 is also given for friend 'a'",
        ),
        ([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["Bad User"]}], "receiver_friends[a].readers"),
        ([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["root"]}], "root reads everything"),
        ("alice", "receiver_friends: expected a list"),
    ],
)
def test_bad_friends_name_the_variable(friends, needle):
    with pytest.raises(NetconsoleError) as info:
        validate_friends(friends)
    assert needle in str(info.value)


def test_missing_readers_are_listed_by_friend():
    friends = validate_friends([{"name": "a", "addresses": ["192.0.2.1"], "readers": ["alice", "ghost"]}])
    assert missing_readers(friends, {"alice": ["x", "1000"]}) == [
        "receiver_friends[a].readers: user 'ghost' does not exist on this host; "
        "create the account first (or remove it from readers)"
    ]
