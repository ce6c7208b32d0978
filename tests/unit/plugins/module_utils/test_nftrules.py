from __future__ import annotations

import json

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.nftrules import blocking_chains

META = {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}


def chain(family: str, table: str, policy: str = "drop", hook: str = "input", name: str = "input") -> dict:
    return {
        "chain": {
            "family": family,
            "table": table,
            "name": name,
            "handle": 1,
            "type": "filter",
            "hook": hook,
            "prio": 0,
            "policy": policy,
        }
    }


def rule(family: str, table: str, *expr: dict, name: str = "input") -> dict:
    return {"rule": {"family": family, "table": table, "chain": name, "handle": 2, "expr": list(expr)}}


def dport(right: object, protocol: str = "udp", op: str = "==") -> dict:
    return {"match": {"op": op, "left": {"payload": {"protocol": protocol, "field": "dport"}}, "right": right}}


SADDR = {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "10.0.0.1"}}
ACCEPT, DROP = {"accept": None}, {"drop": None}
LOOPBACK = {"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}}
ESTABLISHED = {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}
# the role's own table: its chain never counts against itself
OWN = [chain("inet", "logswap_netconsole", policy="accept"), rule("inet", "logswap_netconsole", dport(6666), DROP)]


def ruleset(*items: dict) -> str:
    """As ``nft -j list ruleset`` prints it."""
    return json.dumps({"nftables": [META, *OWN, *items]})


def test_debians_tightened_input_chain_blocks_the_port():
    text = ruleset(
        {"table": {"family": "inet", "name": "filter", "handle": 1}},
        chain("inet", "filter"),
        rule("inet", "filter", LOOPBACK, ACCEPT),
        rule("inet", "filter", ESTABLISHED, ACCEPT),
        rule("inet", "filter", dport(22, "tcp"), ACCEPT),
    )
    assert blocking_chains(text, 6666) == ["inet filter input"]


def test_no_other_table_or_a_default_accept_policy_blocks_nothing():
    assert blocking_chains(ruleset(), 6666) == []
    assert blocking_chains(ruleset(chain("inet", "filter", policy="accept")), 6666) == []


def test_a_chain_on_another_hook_does_not_see_datagrams_to_this_host():
    assert blocking_chains(ruleset(chain("inet", "filter", hook="forward", name="forward")), 6666) == []


@pytest.mark.parametrize(
    "match",
    [dport(6666), dport({"set": [6666, {"range": [7000, 7010]}]}), dport({"set": [{"range": [6000, 7000]}]})],
    ids=["port", "set", "range"],
)
def test_a_chain_that_accepts_the_port_itself_lets_the_roles_table_decide(match):
    text = ruleset(chain("inet", "filter"), rule("inet", "filter", match, SADDR, ACCEPT))
    assert blocking_chains(text, 6666) == []


@pytest.mark.parametrize(
    "expr",
    [
        (dport(6666, "tcp"), ACCEPT),
        (dport(6667), ACCEPT),
        (dport(6666), DROP),
        (dport({"set": [{"range": [7000, 7010]}]}), ACCEPT),
        (dport(6666), dport(6667), ACCEPT),
    ],
    ids=["tcp", "other-port", "drop", "other-range", "contradiction"],
)
def test_rules_that_do_not_accept_udp_on_the_port_do_not_open_it(expr):
    text = ruleset(chain("inet", "filter"), rule("inet", "filter", *expr))
    assert blocking_chains(text, 6666) == ["inet filter input"]


def test_a_rule_in_another_chain_does_not_open_this_one():
    text = ruleset(chain("inet", "filter"), chain("ip", "other"), rule("ip", "other", dport(6666), ACCEPT))
    assert blocking_chains(text, 6666) == ["inet filter input"]


def test_only_the_families_the_friends_use_matter():
    text = ruleset(chain("ip", "filter", name="INPUT"), chain("ip6", "filter6"))
    assert blocking_chains(text, 6666, versions={4}) == ["ip filter INPUT"]
    assert blocking_chains(text, 6666, versions={6}) == ["ip6 filter6 input"]
    assert blocking_chains(text, 6666) == ["ip filter INPUT", "ip6 filter6 input"]


def test_the_parsed_json_is_accepted_too():
    assert blocking_chains(json.loads(ruleset(chain("inet", "filter"))), 6666) == ["inet filter input"]


@pytest.mark.parametrize("text", ["", "[]", '{"nft": []}', "not json"])
def test_what_is_not_nfts_output_is_an_error(text):
    with pytest.raises(ValueError):
        blocking_chains(text, 6666)
