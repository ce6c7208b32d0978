from __future__ import annotations

import os

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils import pstoreship

PANIC = (
    b"Panic#1 Part1\n<6>[  251.709631] sysrq: Trigger a crash\n"
    b"<0>[  251.716289] Kernel panic - not syncing: sysrq triggered crash\n"
)


def write(path, content, mtime):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    os.utime(path, (mtime, mtime))


def test_ids_are_time_and_content_so_a_reused_name_is_a_new_record(tmp_path):
    write(tmp_path / "dmesg-ramoops-0", PANIC, 1796048699)
    write(tmp_path / "dmesg.txt", b"dmesg-ramoops-0:\n" + PANIC, 1796048900)  # systemd-pstore's joined copy
    (first,) = pstoreship.find_records(str(tmp_path))
    assert first[0] == "20261130T142459Z-" + __import__("hashlib").sha256(PANIC).hexdigest()[:12]
    write(tmp_path / "dmesg-ramoops-0", PANIC + b"second\n", 1796049000)
    (second,) = pstoreship.find_records(str(tmp_path))
    assert second[0] != first[0]


def test_efi_records_in_directories_are_found(tmp_path):
    write(tmp_path / "1796048699001" / "dmesg-efi-179604869901001", PANIC, 1796048699)
    assert len(pstoreship.find_records(str(tmp_path))) == 1


def test_messages_number_every_line_and_refuse_a_bad_id():
    msgs = pstoreship.messages("20261130T142459Z-0123456789ab", PANIC.decode())
    assert (
        msgs[2] == "20261130T142459Z-0123456789ab 3/3 "
        "<0>[  251.716289] Kernel panic - not syncing: sysrq triggered crash"
    )
    with pytest.raises(ValueError):
        pstoreship.messages("../x", "a")


def run(tmp_path):
    return pstoreship.main(
        [
            "--pstore-dir",
            str(tmp_path / "pstore"),
            "--state-dir",
            str(tmp_path / "state"),
            "--spool-dir",
            str(tmp_path / "spool"),
        ]
    )


def test_a_record_is_shipped_once_and_retried_while_the_channel_is_missing(tmp_path):
    write(tmp_path / "pstore" / "dmesg-ramoops-0", PANIC, 1796048699)
    # no spool directory (the reliable channel is not set up yet): not shipped, not marked, not a failure
    assert run(tmp_path) == 0
    assert os.listdir(tmp_path / "state") == []
    # the record cannot be written (a directory in the way, as root would not mind a read-only one): a failure
    os.mkdir(tmp_path / "spool")
    ((rid, _path),) = pstoreship.find_records(str(tmp_path / "pstore"))
    os.mkdir(tmp_path / "spool" / f"{rid}.lines.tmp")
    assert run(tmp_path) == 1
    assert os.listdir(tmp_path / "state") == []
    os.rmdir(tmp_path / "spool" / f"{rid}.lines.tmp")
    assert run(tmp_path) == 0
    (spooled,) = os.listdir(tmp_path / "spool")
    lines = (tmp_path / "spool" / spooled).read_text().splitlines()
    assert spooled.endswith(".lines") and len(lines) == 3
    assert lines[0].endswith(" 1/3 Panic#1 Part1") and "Kernel panic - not syncing" in lines[2]
    assert os.listdir(tmp_path / "state") == [spooled[: -len(".lines")]]
    # the next run (the timer, the next boot) hands over nothing again, even when rsyslog removed the file
    os.remove(tmp_path / "spool" / spooled)
    assert run(tmp_path) == 0
    assert os.listdir(tmp_path / "spool") == []
    # a new panic (the same file name) is a new record
    write(tmp_path / "pstore" / "dmesg-ramoops-0", PANIC + b"again\n", 1796049699)
    assert run(tmp_path) == 0
    assert len(os.listdir(tmp_path / "spool")) == 1 and len(os.listdir(tmp_path / "state")) == 2
