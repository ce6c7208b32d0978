# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which other nftables input chains would drop the netconsole port despite the role's own table.

In nftables every base chain on a hook sees the packet: an ``accept`` in the role's table ends only that chain,
and another table's input chain with ``policy drop`` still drops the datagram. This reads ``nft -j list ruleset``
and names those chains, unless the chain itself accepts the port.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

OWN_TABLE = ("inet", "logswap_netconsole")
# Families whose input hook sees IPv4 and IPv6 datagrams to this host.
_FAMILIES = {"inet": {4, 6}, "ip": {4}, "ip6": {6}}


def blocking_chains(ruleset: object, port: int, versions: Iterable[int] = (4, 6)) -> list[str]:
    """``"family table chain"`` for each input base chain outside the role's table whose policy is drop and
    that has no rule accepting UDP ``port``, for the IP versions the friends use."""
    items = _items(ruleset)
    wanted = set(versions)
    chains = [
        c
        for c in (item["chain"] for item in items if "chain" in item)
        if c.get("hook") == "input"
        and c.get("policy") == "drop"
        and (c.get("family"), c.get("table")) != OWN_TABLE
        and _FAMILIES.get(c.get("family"), set()) & wanted
    ]
    rules = [item["rule"] for item in items if "rule" in item]
    return [
        f"{c['family']} {c['table']} {c['name']}"
        for c in chains
        if not any(_accepts_port(r, port) for r in rules if _same_chain(r, c))
    ]


def _items(ruleset: object) -> list[dict]:
    data = json.loads(ruleset) if isinstance(ruleset, (str, bytes)) else ruleset
    if not isinstance(data, dict) or not isinstance(data.get("nftables"), list):
        raise ValueError("not the output of nft -j list ruleset")
    return [item for item in data["nftables"] if isinstance(item, dict)]


def _same_chain(rule: dict, chain: dict) -> bool:
    return (rule.get("family"), rule.get("table"), rule.get("chain")) == (
        chain.get("family"),
        chain.get("table"),
        chain.get("name"),
    )


def _accepts_port(rule: dict, port: int) -> bool:
    """A rule that ends in accept and whose only port match lets UDP ``port`` through (source matches allowed:
    the role's table still narrows the port to the friends)."""
    exprs = rule.get("expr") or []
    if not exprs or "accept" not in exprs[-1]:
        return False
    ports = [_dport_values(e["match"]) for e in exprs if isinstance(e, dict) and "match" in e]
    ports = [p for p in ports if p is not None]
    protocol_ok = not any(_other_protocol(e["match"]) for e in exprs if isinstance(e, dict) and "match" in e)
    return protocol_ok and len(ports) > 0 and all(port in p for p in ports)


def _dport_values(match: dict) -> set[int] | None:
    """The destination ports a ``dport ==`` match admits (None: not a destination port match)."""
    left = match.get("left", {})
    payload = left.get("payload", {}) if isinstance(left, dict) else {}
    if (
        payload.get("field") != "dport"
        or payload.get("protocol") not in ("udp", "th")
        or match.get("op")
        not in (
            "==",
            "in",
        )
    ):
        return None
    return _ints(match.get("right"))


def _other_protocol(match: dict) -> bool:
    """A match on another transport protocol (tcp dport 6666 accept does not admit UDP)."""
    left = match.get("left", {})
    payload = left.get("payload", {}) if isinstance(left, dict) else {}
    return payload.get("protocol") in ("tcp", "sctp", "dccp") or (
        isinstance(left, dict) and left.get("meta", {}).get("key") == "l4proto" and match.get("right") != "udp"
    )


def _ints(right: object) -> set[int]:
    """Ports in a match's right side: a number, a set of numbers and ranges."""
    if isinstance(right, int):
        return {right}
    if isinstance(right, dict) and "set" in right:
        return set().union(*(_ints(item) for item in right["set"])) if right["set"] else set()
    if isinstance(right, list):
        return set().union(*(_ints(item) for item in right)) if right else set()
    if isinstance(right, dict) and "range" in right:
        low, high = right["range"]
        return set(range(int(low), int(high) + 1)) if isinstance(low, int) and isinstance(high, int) else set()
    return set()
