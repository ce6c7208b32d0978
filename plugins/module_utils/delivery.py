# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Did each sender -> receiver pair deliver its canary, how fast, and if not what each side shows.

Pure logic behind playbooks/verify.yml (through plugins/filter/verify.py): the play only runs the commands.
"""

from __future__ import annotations

import re
from datetime import datetime

# rsyslog's RSYSLOG_FileFormat starts each line with an RFC 3339 time with microseconds and the zone.
_ARRIVAL_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
# The diagnosis command on the receiver prints its three parts between lines of this text.
SECTION = "==="
_DMESG_NETCONSOLE = re.compile(r"netconsole|netpoll", re.IGNORECASE)


def latency_ms(arrival_line: str, sent_at: float) -> float | None:
    """Milliseconds from the canary's emission to rsyslog's receive time, the first word of its line."""
    words = arrival_line.split()
    if not words:
        return None
    try:
        received = datetime.strptime(words[0], _ARRIVAL_TIME).timestamp()
    except ValueError:
        return None
    return round((received - sent_at) * 1000, 1)


def pair_result(sender: str, pair: dict, canary: dict, arrival: dict) -> dict:
    """One pair's outcome from the canary module's result and the wait command's result on the receiver."""
    delivered = arrival.get("rc") == 0
    return {
        "sender": sender,
        "receiver": pair["receiver"],
        "file": pair["file"],
        "port": pair["port"],
        "delivered": delivered,
        "emulated": bool(canary.get("emulated")),
        "latency_ms": latency_ms(arrival.get("stdout", ""), float(canary.get("sent_at", 0))) if delivered else None,
    }


def delivery_line(result: dict, timeout: object) -> str:
    pair = f"{result['sender']} -> {result['receiver']}"
    if not result["delivered"]:
        return f"{pair}: NOT DELIVERED within {timeout} s"
    how = "emulated datagram" if result["emulated"] else "kernel netconsole"
    return f"{pair}: delivered in {result['latency_ms']} ms ({how})"


def counter_line(host: str, targets: list[dict]) -> str:
    """Each live target's transmit_errors and its change since the sender role's last run (target_info's list)."""
    if not targets:
        return f"{host}: no live target in configfs (a container, or a command line target of a kernel before 6.7)"
    parts = []
    for target in targets:
        counter = target["transmit_errors"]
        if counter.get("transmit_errors") is None:
            text = "transmit_errors not offered by this kernel (Linux 6.13+)"
        elif counter.get("change") is None:
            text = f"transmit_errors {counter['transmit_errors']} (no earlier reading)"
        elif counter.get("reset"):
            text = f"transmit_errors {counter['transmit_errors']} (+{counter['change']} since the counter was reset)"
        else:
            text = f"transmit_errors {counter['transmit_errors']} (+{counter['change']} since the last sender run)"
        parts.append(f"{host} {target['name']}: {text}")
    return "; ".join(parts)


def sender_side(targets: list[dict], dmesg: str) -> str:
    """The sender's targets in configfs and netconsole's last kernel messages."""
    lines = []
    for target in targets:
        s = target["state"]
        lines.append(
            f"target {target['name']}: enabled={s.get('enabled', '')} dev={s.get('dev_name', '')} "
            f"{s.get('local_ip', '')}:{s.get('local_port', '')} -> {s.get('remote_ip', '')}:{s.get('remote_port', '')} "
            f"mac {s.get('remote_mac', '')}"
        )
    if not targets:
        lines.append(
            "no netconsole target in configfs (kernel command line targets of kernels before 6.7 are not listed there)"
        )
    lines.extend([line for line in dmesg.splitlines() if _DMESG_NETCONSOLE.search(line)][-5:])
    return "\n".join(lines)


def rcvbuf_errors(snmp: str) -> int | None:
    """UDP datagrams dropped for a full receive buffer since boot, from /proc/net/snmp (None if not there)."""
    rows = [line.split() for line in snmp.splitlines() if line.startswith("Udp:")]
    if len(rows) < 2 or "RcvbufErrors" not in rows[0]:
        return None
    value = rows[1][rows[0].index("RcvbufErrors")]
    return int(value) if value.isdecimal() else None


def receiver_side(output: str, file: str) -> str:
    """The receiver's listening socket, drops and last lines, from the diagnosis command's three sections."""
    sections: list[list[str]] = [[]]
    for line in output.splitlines():
        if line == SECTION and len(sections) < 3:
            sections.append([])
        else:
            sections[-1].append(line)
    listening, snmp, tail = [*sections, [], []][:3]
    sockets = [re.sub(r" +", " ", line) for line in listening if line.strip()][:2]
    lines = ["listening: " + "\n".join(sockets)]
    drops = rcvbuf_errors("\n".join(snmp))
    if drops is not None:
        lines.append(f"UDP datagrams dropped for a full receive buffer since boot: {drops}")
    lines.append(f"last lines of {file}:")
    lines.extend(tail)
    return "\n".join(lines)


def failure_message(host: str, results: list[dict], timeout: object, sender: str, receivers: dict[str, str]) -> str:
    failed = [r for r in results if not r["delivered"]]
    text = [
        f"No canary arrived within {timeout} s for: " + ", ".join(f"{host} -> {r['receiver']}" for r in failed),
        f"Sender {host}:",
        sender,
    ]
    for result in failed:
        text.extend([f"Receiver {result['receiver']}:", receivers.get(result["receiver"], "")])
    return "\n".join(text)
