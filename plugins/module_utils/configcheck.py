# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What config_check found, refused in the caller's words (its ``refuse`` option): one message per problem."""

from __future__ import annotations

from collections.abc import Mapping

REFUSE_KEYS = ("users", "groups", "executables", "unescaping", "includes", "rsyslog", "logrotate", "nftables")


def _missing(found: Mapping, refuse: Mapping, key: str, what: str) -> list[str]:
    words = refuse.get(key)
    if words is None:
        return []
    names = dict.fromkeys(found["missing"][key])  # each once, in order (the owner may be a reader too)
    return [words.get(name) or f"{what} {name!r} does not exist on this host." for name in names]


def refusals(found: Mapping, refuse: Mapping) -> list[str]:
    """Every problem in ``found`` (config_check's result) that ``refuse`` names, in its words: per missing user,
    group or executable its own message; for a finding, the message followed by what was found."""
    problems = _missing(found, refuse, "users", "user")
    problems += _missing(found, refuse, "groups", "group")
    problems += _missing(found, refuse, "executables", "executable")
    if refuse.get("unescaping") and found["unescaping"]:
        problems.append(f"{', '.join(found['unescaping'])} {refuse['unescaping']}")
    if refuse.get("includes") and not found["includes_dropins"]:
        problems.append(refuse["includes"])
    for program, said in (("rsyslog", "output"), ("logrotate", "errors"), ("nftables", "output")):
        if refuse.get(program) and found[program]["rc"] != 0:
            output = found[program][said]
            problems.append(f"{refuse[program]} {'; '.join(output) if isinstance(output, list) else output}".strip())
    return problems
