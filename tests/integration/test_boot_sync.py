"""boot_sync on a real loop-mounted ext4: what a reader that ignores the journal (GRUB) sees.

debugfs reads the disk without replaying the journal, as GRUB does. Right after update-grub's rename the new
grub.cfg is only in memory and the journal; after boot_sync the disk itself holds it. (On a busy host a sync
alone can leave metadata blocks that every commit touches in the journal only: hence the checkpoint.)
"""

from __future__ import annotations

import os

import pytest
from logswap_testlib import loop_filesystem, need_root, run_module, sh

from ansible_collections.logswap.netconsole.plugins.module_utils.fs_checkpoint import method_for


@pytest.fixture
def ext4(tmp_path):
    # commit=300: the kernel's own 5 s commit must not write the journal into place during the test
    with loop_filesystem(tmp_path, ["mkfs.ext4", "-q", "-F"], "commit=300", size="64M") as image_and_mount:
        yield image_and_mount


def seen_without_journal(image, path: str) -> str:
    """The file as a reader that ignores the journal (GRUB) finds it on the disk (the loop device's backing file,
    not the device, whose cache holds the journaled blocks)."""
    return sh("debugfs", "-R", f"cat {path}", str(image)).stdout


def update_grub_like(mnt, text: str) -> None:
    """What grub-mkconfig does: write grub.cfg.new, then rename it over grub.cfg."""
    new = mnt / "grub.cfg.new"
    new.write_text(text)
    os.rename(new, mnt / "grub.cfg")  # no sync: update-grub does not sync either


def test_new_grub_cfg_reaches_the_device_for_a_journal_blind_reader(ext4):
    image, mnt = ext4
    update_grub_like(mnt, "old command line\n")
    assert run_module("boot_sync", {"path": str(mnt / "grub.cfg")})["method"] == "ext4_checkpoint"
    update_grub_like(mnt, "netconsole=6665@192.0.2.1/eth0,6666@192.0.2.2/52:54:00:00:00:02\n")
    # The window the module closes: a crash now, and GRUB reads the previous file.
    assert seen_without_journal(image, "/grub.cfg") == "old command line\n"
    result = run_module("boot_sync", {"path": str(mnt / "grub.cfg")})
    assert not result.get("failed"), result
    assert (result["changed"], result["fstype"], result["mount_point"]) == (False, "ext4", str(mnt))
    assert seen_without_journal(image, "/grub.cfg").startswith("netconsole=6665@192.0.2.1/eth0")


def test_check_mode_does_nothing(ext4):
    _image, mnt = ext4
    update_grub_like(mnt, "x\n")
    result = run_module("boot_sync", {"path": str(mnt / "grub.cfg")}, check_mode=True)
    assert (result["changed"], result["method"]) == (False, "none")


def test_missing_file_names_the_variable(tmp_path):
    need_root()
    result = run_module("boot_sync", {"path": str(tmp_path / "nothing.cfg")})
    assert result["failed"] and "path:" in result["msg"] and "does not exist" in result["msg"]


def test_methods_per_filesystem():
    assert method_for("ext4") == "ext4_checkpoint"
    assert method_for("xfs") == "freeze"
    assert method_for("btrfs") == "sync"
    assert method_for("vfat") == "sync"
