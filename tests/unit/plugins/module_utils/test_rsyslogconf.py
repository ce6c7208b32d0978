"""The kernel log handed from imklog to imkmsg in rsyslog's main configuration, and back, exactly."""

from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.rsyslogconf import (
    hand_over,
    loads_imklog,
    version,
    version_at_least,
)

MARK = "  # logswap.netconsole: the kernel log is read by imkmsg (reliable channel)"
# Debian 12's /etc/rsyslog.conf, the lines around the inputs
DEBIAN = """#### MODULES ####
module(load="imuxsock") # provides support for local system logging
module(load="imklog")   # provides kernel logging support
#module(load="immark")  # provides --MARK-- message capability
"""
LEGACY = "$ModLoad imuxsock\n  $ModLoad imklog\n$ModLoad imklogger_not_this\n"


def test_imkmsg_comments_out_exactly_the_imklog_line_and_imklog_gives_back_the_same_text():
    handed = hand_over(DEBIAN, MARK, "imkmsg")
    assert handed.splitlines()[2] == f'#module(load="imklog")   # provides kernel logging support{MARK}'
    assert handed.splitlines()[1] == 'module(load="imuxsock") # provides support for local system logging'
    assert hand_over(handed, MARK, "imklog") == DEBIAN


def test_handing_over_twice_changes_nothing_the_second_time():
    once = hand_over(DEBIAN, MARK, "imkmsg")
    assert hand_over(once, MARK, "imkmsg") == once
    assert hand_over(DEBIAN, MARK, "imklog") == DEBIAN


def test_the_legacy_directive_is_handed_over_and_a_module_of_a_longer_name_is_not():
    handed = hand_over(LEGACY, MARK, "imkmsg")
    assert handed.splitlines() == ["$ModLoad imuxsock", f"#  $ModLoad imklog{MARK}", "$ModLoad imklogger_not_this"]
    assert hand_over(handed, MARK, "imklog") == LEGACY


def test_a_blank_line_above_the_imklog_line_stays_blank_and_the_imklog_line_is_commented_out():
    text = '$WorkDirectory /var/spool/rsyslog\n\n  \nmodule(load="imklog")\n'
    handed = hand_over(text, MARK, "imkmsg")
    assert handed.splitlines() == ["$WorkDirectory /var/spool/rsyslog", "", "  ", f'#module(load="imklog"){MARK}']
    assert hand_over(handed, MARK, "imklog") == text


def test_a_line_the_admin_commented_out_stays_commented():
    text = '#module(load="imklog")\n'
    assert hand_over(text, MARK, "imklog") == text
    assert not loads_imklog(text, MARK)


def test_the_host_logs_the_kernel_through_rsyslog_before_and_after_the_hand_over_but_not_without_imklog():
    assert loads_imklog(DEBIAN, MARK)
    assert loads_imklog(hand_over(DEBIAN, MARK, "imkmsg"), MARK)
    assert not loads_imklog('module(load="imuxsock")\nmodule(load="imjournal")\n', MARK)  # RHEL: from journald


def test_an_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="imkmsg nor imklog"):
        hand_over(DEBIAN, MARK, "imfile")


@pytest.mark.parametrize(
    ("output", "found", "read_mode"),
    [
        ("rsyslogd  8.2302.0 (aka 2023.02) compiled with:\n", "8.2302.0", False),
        ("rsyslogd  8.2504.0 (aka 2025.04) compiled with:\n", "8.2504.0", True),
        ("rsyslogd 8.2312.0\n", "8.2312.0", True),
        ("command not found", None, False),
    ],
)
def test_the_version_decides_whether_imkmsg_takes_read_mode(output, found, read_mode):
    assert version(output) == found
    assert version_at_least(found, "8.2312") is read_mode
