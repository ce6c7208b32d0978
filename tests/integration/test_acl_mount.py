"""acl_mount on a real filesystem mounted noacl from a loop device, with its own fstab file.

btrfs, because ext4 in newer kernels (6.18 on these machines) no longer accepts noacl;
the QEMU scenario covers ext4 on Debian 12's kernel.
"""

from __future__ import annotations

import pwd
import subprocess
from pathlib import Path

import pytest
from logswap_testlib import loop_filesystem, need_root, run_module


@pytest.fixture
def noacl_fs(tmp_path):
    with loop_filesystem(tmp_path, ["mkfs.btrfs", "-q", "-f"], "noacl") as (image, mnt):
        fstab = tmp_path / "fstab"
        fstab.write_text(f"# test fstab\n{image}  {mnt}  btrfs  loop,noacl  0 2\n")
        yield mnt, fstab


def setfacl_works(path) -> bool:
    probe = path / "probe"
    probe.write_text("x")
    return subprocess.run(["setfacl", "-m", "u:nobody:r", str(probe)], capture_output=True, check=False).returncode == 0


def test_noacl_mount_gets_acl_in_fstab_and_live(noacl_fs):
    mnt, fstab = noacl_fs
    assert not setfacl_works(mnt)
    planned = run_module("acl_mount", {"path": str(mnt / "remote"), "fstab": str(fstab)}, check_mode=True)
    assert planned["changed"] and "noacl" in fstab.read_text()
    result = run_module("acl_mount", {"path": str(mnt / "remote"), "fstab": str(fstab)})
    assert result["changed"] and result["fstab_changed"] and result["acl_supported"], result
    assert fstab.read_text().splitlines()[1].split()[3] == "loop,acl"
    assert "noacl" in Path(result["backup_file"]).read_text()
    assert setfacl_works(mnt)
    pwd.getpwnam("nobody")
    again = run_module("acl_mount", {"path": str(mnt / "remote"), "fstab": str(fstab)})
    assert not again["changed"] and "already supports POSIX ACLs" in again["msg"]


def test_missing_fstab_entry_is_skipped_with_a_message(noacl_fs, tmp_path):
    mnt, _fstab = noacl_fs
    empty = tmp_path / "empty-fstab"
    empty.write_text("# nothing\n")
    result = run_module("acl_mount", {"path": str(mnt), "fstab": str(empty)})
    assert not result["changed"] and "has no entry" in result["msg"] and result["acl_supported"] is False
    assert empty.read_text() == "# nothing\n"


def test_acl_capable_filesystem_is_left_alone(tmp_path):
    need_root()
    fstab = tmp_path / "fstab"
    fstab.write_text("# untouched\n")
    result = run_module("acl_mount", {"path": str(tmp_path / "x"), "fstab": str(fstab)})
    assert not result["changed"] and "already supports POSIX ACLs" in result["msg"]
