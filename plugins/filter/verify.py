# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/verify.yml: which canary goes where, and what the results mean (module_utils.delivery)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.logswap.netconsole.plugins.module_utils.delivery import (
    counter_line,
    delivery_line,
    failure_message,
    pair_result,
    receiver_side,
    sender_side,
)

# What the canary module takes of a discovered target (it emulates netconsole's datagram from it).
CANARY_KEYS = ("local_ip", "local_port", "remote_ip", "remote_port", "extended")


def verify_pairs(discovered: object, receivers: list[str], hostvars: object, name: str) -> list[dict]:
    """Each receiver of this host with the target that reaches it and the file its lines land in.

    ``name`` is this host's netconsole_name; the file and port come from the receiver's ``receiver_state`` fact.
    """
    pairs = []
    for target, receiver in zip(discovered or [], receivers, strict=False):
        state = hostvars[receiver].get("receiver_state")
        if not isinstance(state, dict):
            raise AnsibleFilterError(
                f"{receiver} has no receiver_state: the receiver role (entry point main or state) did not run on it "
                "in this play; run the play on every host of the group"
            )
        files = state.get("files", {}).get(name)
        if not files:
            raise AnsibleFilterError(
                f"{receiver} does not receive from {name} (its receiver_state has files for "
                f"{', '.join(sorted(state.get('files', {}))) or 'no friend'})"
            )
        pairs.append(
            {
                "receiver": receiver,
                "target": {key: target[key] for key in CANARY_KEYS if key in target},
                "file": files["console"],
                "port": state["ports"]["udp"],
            }
        )
    return pairs


def verify_results(pairs: list[dict], canaries: dict, arrivals: dict, host: str) -> list[dict]:
    """One result per pair from the registered canary and wait loops (each ran over ``pairs``, in order)."""
    return [
        pair_result(host, pair, canary, arrival)
        for pair, canary, arrival in zip(pairs, canaries["results"], arrivals["results"], strict=True)
    ]


def verify_receiver_sides(diagnoses: dict) -> dict[str, str]:
    """Receiver name -> what its side shows, from the registered diagnosis loop (over the failed results)."""
    return {
        item["item"]["receiver"]: receiver_side(item.get("stdout", item.get("msg", "")), item["item"]["file"])
        for item in diagnoses.get("results", [])
    }


class FilterModule:
    """logswap.netconsole filters of the verification play."""

    def filters(self) -> dict:
        return {
            "verify_pairs": verify_pairs,
            "verify_results": verify_results,
            "verify_line": delivery_line,
            "verify_counters": counter_line,
            "verify_sender_side": sender_side,
            "verify_receiver_sides": verify_receiver_sides,
            "verify_failure": failure_message,
        }
