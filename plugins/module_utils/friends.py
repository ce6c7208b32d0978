# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The receiver's friends: checked and normalized before anything on the host changes."""

from __future__ import annotations

import re

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    normalize_ip,
)

# A friend's name becomes a directory name and an rsyslog action name.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}\$?$")


def _check_name(name: object, variable: str) -> str:
    text = str(name) if name is not None else ""
    if not _NAME_RE.match(text) or ".." in text:
        raise NetconsoleError(
            f"{variable}: {name!r} cannot be a directory name under the log root; use letters, "
            "digits, '.', '_' or '-' (no '/', '..' or spaces, at most 63 characters)"
        )
    return text


def _check_user(user: object, variable: str) -> str:
    text = str(user)
    if not _USER_RE.match(text):
        raise NetconsoleError(f"{variable}: {user!r} is not a valid user name")
    if text == "root":
        raise NetconsoleError(f"{variable}: readers are unprivileged accounts; root reads everything already")
    return text


def _as_list(value: object, variable: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise NetconsoleError(f"{variable}: expected a list, got {type(value).__name__}")
    return list(value)


def validate_friends(friends: object, variable: str = "receiver_friends") -> list[dict]:
    """Return ``[{name, addresses, readers}]`` with canonical addresses, or fail naming the variable."""
    if not isinstance(friends, (list, tuple)):
        raise NetconsoleError(f"{variable}: expected a list of friends, got {type(friends).__name__}")
    result: list[dict] = []
    names: dict[str, int] = {}
    owners: dict[str, str] = {}
    for index, friend in enumerate(friends):
        where = f"{variable}[{index}]"
        if not isinstance(friend, dict):
            raise NetconsoleError(f"{where}: expected a mapping with name, addresses and readers")
        name = _check_name(friend.get("name"), f"{where}.name")
        where = f"{variable}[{name}]"
        if name in names:
            raise NetconsoleError(f"{where}.name: {name!r} is given twice (entries {names[name]} and {index})")
        names[name] = index
        addresses = [
            normalize_ip(address, f"{where}.addresses")
            for address in _as_list(friend.get("addresses"), f"{where}.addresses")
        ]
        if not addresses:
            raise NetconsoleError(f"{where}.addresses: at least one source address is needed")
        for address in addresses:
            if address in owners and owners[address] != name:
                raise NetconsoleError(
                    f"{where}.addresses: {address} is also given for friend {owners[address]!r}; "
                    "lines are filed by source address, so each address belongs to one friend"
                )
            owners[address] = name
        readers = [_check_user(u, f"{where}.readers") for u in _as_list(friend.get("readers"), f"{where}.readers")]
        result.append({"name": name, "addresses": sorted(set(addresses)), "readers": sorted(set(readers))})
    return result


def missing_readers(friends: list[dict], accounts: dict, variable: str = "receiver_friends") -> list[str]:
    """Messages for readers that have no account on this host (``accounts`` from getent passwd)."""
    return [
        f"{variable}[{friend['name']}].readers: user {user!r} does not exist on this host; "
        "create the account first (or remove it from readers)"
        for friend in friends
        for user in friend["readers"]
        if user not in accounts
    ]
