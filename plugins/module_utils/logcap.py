# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-friend cap on bytes kept: how it splits into the live file's size limit and the older files' budget.

rsyslog's omfile closes the live file when it reaches ``rotation.sizeLimit`` and runs the cap command, which
renames it and deletes the oldest files beyond the budget. The live file can pass the limit by what rsyslog
writes in one go (its 4 KiB I/O buffer, a message of at most 8 KiB by default) before it checks, so the budget
leaves that much room too: older files + live file <= cap at any rate.
"""

from __future__ import annotations

import re

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, as_int

# The live file holds at most an eighth of the cap: after a switch at least 3/4 of the cap is older lines.
PIECES = 8
# Room for what rsyslog writes past the limit before it checks (one I/O buffer plus one message), rounded up.
SLACK = 64 * 1024
MIN_CAP = 1024 * 1024
# rsyslog 8.2302 stores rotation.sizeLimit in an int: the live file's limit must stay below 2 GiB.
MAX_CAP = 8 * 1024 * 1024 * 1024
# The cap command's path and its one argument are a single rsyslog string: rsyslog runs the text before the
# first space as the program and passes everything after it as one argument, so neither may hold a quote,
# a backslash or whitespace.
_PATH_RE = re.compile(r"/(?:[A-Za-z0-9._+-]+/)*[A-Za-z0-9._+-]+")


def cap_plan(cap: object, log_root: object, variable: str = "receiver_friend_max_bytes") -> dict:
    """The checked cap: ``cap`` (bytes per friend), ``limit`` (rsyslog's rotation.sizeLimit for the live file),
    ``budget`` (bytes the files other than the live one may hold) and ``log_root``."""
    total = as_int(cap, variable, MIN_CAP, MAX_CAP)
    root = check_path(log_root, "receiver_log_root")
    limit = total // PIECES
    return {"cap": total, "limit": limit, "budget": total - limit - SLACK, "log_root": root}


def check_path(value: object, variable: str, use: str = "it is passed to the cap command") -> str:
    """An absolute path, not ``/``, with no '..', whitespace, quote or backslash (it goes into a command line);
    ``use`` says where, in the message."""
    text = value if isinstance(value, str) else ""
    parts = text.split("/")
    if not _PATH_RE.fullmatch(text) or ".." in parts or "." in parts:
        raise NetconsoleError(
            f"{variable}: {value!r} must be an absolute path other than '/' made of letters, digits and "
            f"'.', '_', '+', '-' (no '..', spaces, quotes or backslashes): {use}"
        )
    return text
