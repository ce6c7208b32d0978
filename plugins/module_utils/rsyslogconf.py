# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rsyslog's main configuration as the reliable channel changes it: which input reads the kernel log (imklog reads
/proc/kmsg, imkmsg /dev/kmsg; the two refuse to load together), and rsyslogd's version."""

from __future__ import annotations

import re

# [ \t], not \s: with (?m) a \s* at the line's start also takes the newlines of blank lines above, and the "#" then
# went to the blank line, leaving imklog loaded
IMKLOG_LOAD = re.compile(r'(?m)^([ \t]*(?:module\([ \t]*load[ \t]*=[ \t]*"imklog"|\$ModLoad[ \t]+imklog\b).*)$')
VERSION = re.compile(r"rsyslogd\s+([0-9]+(?:\.[0-9]+)*)")


def marked(mark: str) -> re.Pattern[str]:
    """A line that hand_over commented out."""
    return re.compile(r"(?m)^#(.*)" + re.escape(mark) + "$")


def hand_over(text: str, mark: str, reader: str) -> str:
    """The configuration with the kernel log given to `reader`: "imkmsg" comments out each line that loads
    imklog, ending it with `mark`; "imklog" uncomments exactly those lines. Other lines are left as they are."""
    if reader == "imkmsg":
        return IMKLOG_LOAD.sub(lambda line: f"#{line.group(1)}{mark}", text)
    if reader == "imklog":
        return marked(mark).sub(lambda line: line.group(1), text)
    raise ValueError(f"reader: {reader!r} is neither imkmsg nor imklog")


def loads_imklog(text: str, mark: str) -> bool:
    """Whether the host's own logs take the kernel log from rsyslog: the configuration loads imklog, or did
    before hand_over gave the kernel log to imkmsg."""
    return bool(IMKLOG_LOAD.search(text) or (mark and marked(mark).search(text)))


def version(output: str) -> str | None:
    """rsyslogd's version from `rsyslogd -v` ("rsyslogd  8.2302.0 (aka 2023.02) ..."); None where not found."""
    found = VERSION.search(output)
    return found.group(1) if found else None


def version_at_least(found: str | None, wanted: str) -> bool:
    if found is None:
        return False
    have = [int(part) for part in found.split(".")]
    need = [int(part) for part in wanted.split(".")]
    return have >= need
