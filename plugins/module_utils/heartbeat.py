# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sender's heartbeat: how often, and at which kernel log level so that it reaches netconsole.

A line reaches the consoles, netconsole among them, only when its level is below the console log level
(``kernel.printk``'s first field, ``loglevel=`` at boot). The heartbeat is a notice (5) where the console lets
notices through, else the most important level below the console's, but never alert or emergency (which
systemd-journald would broadcast to every terminal).
"""

from __future__ import annotations

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, as_duration, as_int

NOTICE = 5
LOWEST_ALLOWED = 2  # crit; 1 (alert) and 0 (emerg) reach every terminal
MINIMUM_INTERVAL = 10
MAXIMUM_INTERVAL = 7 * 86400
PREFIX = "logswap-heartbeat"


def heartbeat_level(loglevel: object, variable: str = "sender_loglevel", interval_variable: str = "") -> int:
    """The level of the heartbeat line for console log level ``loglevel`` (0-8)."""
    console = as_int(loglevel, variable, 0, 8)
    level = min(NOTICE, console - 1)
    if level < LOWEST_ALLOWED:
        raise NetconsoleError(
            f"{interval_variable or 'sender_heartbeat_interval'}: with {variable} {console} only alert and "
            f"emergency lines reach the console, and a heartbeat must not be one; set {variable} to "
            f"{LOWEST_ALLOWED + 1} or more, or the heartbeat interval to 0 (off)"
        )
    return level


def heartbeat_settings(
    interval: object, loglevel: object, variable: str = "sender_heartbeat_interval", loglevel_variable: str = ""
) -> dict:
    """``{"seconds": N, "level": L}`` checked; seconds 0 means off (and no level is needed)."""
    seconds = as_duration(interval, variable, MINIMUM_INTERVAL, MAXIMUM_INTERVAL)
    if not seconds:
        return {"seconds": 0, "level": None}
    return {"seconds": seconds, "level": heartbeat_level(loglevel, loglevel_variable or "sender_loglevel", variable)}
