# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks every input boundary shares: booleans, known keys, lists, names, single-line text.

Each check returns the clean value or raises :class:`NetconsoleError` naming the variable, so a bad value
stops a run before anything on the host changes, whatever path it came in by (YAML, INI, ``-e``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Ansible's own spellings (ansible.module_utils.parsing.convert_bool), so "no" in an INI inventory means false.
_TRUE = frozenset(("y", "yes", "on", "1", "true", "t"))
_FALSE = frozenset(("n", "no", "off", "0", "false", "f"))


class NetconsoleError(ValueError):
    """A value a user gave is wrong; the message says which variable and what to do."""


def as_bool(value: object, variable: str) -> bool:
    """``True``/``False`` for a boolean written as such or as text ("false", "no", "0"), else fail."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise NetconsoleError(f"{variable}: {value!r} is not a boolean; write true or false")


def check_keys(mapping: Mapping, allowed: Iterable[str], variable: str) -> None:
    """Refuse keys a mapping may not have (a misspelt ``remote_adress`` would otherwise be ignored)."""
    known = tuple(allowed)
    unknown = sorted(str(key) for key in mapping if key not in known)
    if unknown:
        raise NetconsoleError(
            f"{variable}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(known)}"
        )


def as_mapping(value: object, variable: str, what: str = "a mapping") -> Mapping:
    if not isinstance(value, Mapping):
        raise NetconsoleError(f"{variable}: expected {what}, got {type(value).__name__} {value!r}")
    return value


def as_list(value: object, variable: str) -> list:
    """A list, a single string as a one-item list, None as an empty list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise NetconsoleError(f"{variable}: expected a list, got {type(value).__name__} {value!r}")
    return list(value)


def as_int(value: object, variable: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (or its decimal text) within bounds; booleans and fractions are refused."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise NetconsoleError(f"{variable}: {value!r} is not a whole number")
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = (
            f"from {minimum} to {maximum}"
            if minimum is not None and maximum is not None
            else f"at least {minimum}"
            if minimum is not None
            else f"at most {maximum}"
        )
        raise NetconsoleError(f"{variable}: {value!r} is out of range; give a number {bounds}")
    return number


def check_pattern(value: object, pattern: re.Pattern, variable: str, what: str) -> str:
    """``value`` as text when the whole of it (no trailing newline) matches ``pattern``."""
    text = value if isinstance(value, str) else str(value) if value is not None else ""
    if not pattern.fullmatch(text):
        raise NetconsoleError(f"{variable}: {value!r} is not {what}")
    return text


def check_unique(items: Iterable[object], variable: str, what: str) -> None:
    """Refuse the same item twice (two targets to one receiver would send every line twice)."""
    seen: dict[object, int] = {}
    for index, item in enumerate(items):
        if item in seen:
            raise NetconsoleError(f"{variable}: {what} {item!r} is given twice (entries {seen[item]} and {index})")
        seen[item] = index


# systemd.time(7) spans, the units people write; a bare number is seconds.
_DURATION_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DURATION_PART = re.compile(r"([0-9]+) *([a-z]*)")
_DURATION = re.compile(r"[0-9]+ *[a-z]*( *[0-9]+ *[a-z]*)*")


def as_duration(value: object, variable: str, minimum: int = 0, maximum: int | None = None) -> int:
    """Seconds of a whole number of seconds or a systemd time span ("5min", "1h 30s"); 0 stays 0 (off).

    Units: s, min (m), h, d, w and their long forms; nothing finer than a second. A value other than 0 is
    kept within ``minimum`` and ``maximum``.
    """
    text = str(value).lower() if not isinstance(value, bool) and value is not None else ""
    if not _DURATION.fullmatch(text) or any(
        unit and unit not in _DURATION_UNITS for _n, unit in _DURATION_PART.findall(text)
    ):
        raise NetconsoleError(
            f"{variable}: {value!r} is not a duration; give seconds (300) or a systemd time span such as 5min, "
            "1h or 1h 30min (units s, min, h, d, w), or 0 for off"
        )
    seconds = sum(int(n) * _DURATION_UNITS[unit or "s"] for n, unit in _DURATION_PART.findall(text))
    if seconds and (seconds < minimum or (maximum is not None and seconds > maximum)):
        upper = f" and at most {maximum} s" if maximum is not None else ""
        raise NetconsoleError(f"{variable}: {value!r} is {seconds} s; give 0 (off) or at least {minimum} s{upper}")
    return seconds
