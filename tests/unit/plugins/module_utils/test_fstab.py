from __future__ import annotations

from ansible_collections.logswap.netconsole.plugins.module_utils.fstab import (
    acl_problem,
    fstab_add_acl,
    mount_of,
    parse_mounts,
    verify_error_count,
    with_acl,
)

PROC_MOUNTS = """\
/dev/vda1 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid 0 0
/dev/vdb /var/log/remote ext4 rw,relatime,noacl 0 0
/dev/vdc /srv/usb vfat rw 0 0
/dev/vdd /srv/with\\040space ext4 rw,noacl 0 0
"""

FSTAB = """\
# /etc/fstab: static file system information.
UUID=1234-abcd  /                ext4  errors=remount-ro  0 1
/dev/vdb        /var/log/remote  ext4  defaults,noacl     0 2
/dev/vdd /srv/with\\040space ext4 noacl 0 2
"""


def test_the_deepest_mount_holds_the_path():
    mounts = parse_mounts(PROC_MOUNTS)
    assert mount_of("/var/log/remote/alice", mounts).target == "/var/log/remote"
    assert mount_of("/var/log", mounts).target == "/"
    assert mount_of("/srv/with space/x", mounts).source == "/dev/vdd"


def test_acl_problems():
    mounts = {m.target: m for m in parse_mounts(PROC_MOUNTS)}
    assert acl_problem(mounts["/"]) is None
    assert acl_problem(mounts["/var/log/remote"]) == "noacl"
    assert acl_problem(mounts["/srv/usb"]) == "unsupported"


def test_noacl_becomes_acl_and_nothing_else_moves():
    text, found, changed = fstab_add_acl(FSTAB, "/var/log/remote")
    assert found and changed
    assert "/dev/vdb        /var/log/remote  ext4  defaults,acl     0 2\n" in text  # spacing kept
    old, new = FSTAB.splitlines(), text.splitlines()
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [2]
    assert new[2].split() == ["/dev/vdb", "/var/log/remote", "ext4", "defaults,acl", "0", "2"]


def test_second_pass_changes_nothing():
    text, _found, _changed = fstab_add_acl(FSTAB, "/var/log/remote")
    again, found, changed = fstab_add_acl(text, "/var/log/remote")
    assert found and not changed and again == text


def test_escaped_mount_points_are_matched():
    text, found, changed = fstab_add_acl(FSTAB, "/srv/with space")
    assert found and changed and "/srv/with\\040space ext4 acl 0 2" in text


def test_no_entry_is_reported_not_invented():
    text, found, changed = fstab_add_acl(FSTAB, "/var/lib/docker")
    assert (text, found, changed) == (FSTAB, False, False)


def test_with_acl():
    assert with_acl("defaults,noacl") == "defaults,acl"
    assert with_acl("noacl") == "acl"


def test_findmnt_summary():
    assert verify_error_count("...\n0 parse errors, 2 errors, 1 warning\n") == 2
    assert verify_error_count("Success, no errors or warnings detected\n") == 0
