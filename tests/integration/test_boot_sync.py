"""boot_sync on a real loop-mounted ext4: what a reader that ignores the journal (GRUB) sees.

debugfs reads the disk without replaying the journal, as GRUB does. Right after update-grub's rename the new
grub.cfg is only in memory and the journal; after boot_sync the disk itself holds it. (On a busy host a sync
alone can leave metadata blocks that every commit touches in the journal only: hence the checkpoint.)
"""

from __future__ import annotations

import json
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


NETCONSOLE = "netconsole=+6665@192.0.2.1/eth0,6666@192.0.2.2/52:54:00:00:00:02"
LINUX = "menuentry 'Debian GNU/Linux' {\n\tlinux /boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro %s\n}\n"


def test_regenerating_checks_the_words_and_syncs_and_a_lost_word_fails_naming_it(ext4):
    """The sender's GRUB handler in one run: the command writes grub.cfg (here as grub-mkconfig renames it), the
    linux command must carry each word whole, and the disk holds the file for a journal-blind reader."""
    image, mnt = ext4
    update_grub_like(mnt, "old\n")
    run_module("boot_sync", {"path": str(mnt / "grub.cfg")})
    good = LINUX % f"{NETCONSOLE} loglevel=7"
    command = ["sh", "-c", f'printf "%s" "$1" > {mnt}/grub.cfg.new && mv {mnt}/grub.cfg.new {mnt}/grub.cfg', "-", good]
    args = {"path": str(mnt / "grub.cfg"), "command": command, "words": [NETCONSOLE, "loglevel=7"]}
    assert run_module("boot_sync", args, check_mode=True)["changed"]
    assert (mnt / "grub.cfg").read_text() == "old\n"  # check mode ran nothing
    result = run_module("boot_sync", args)
    assert not result.get("failed"), result
    assert result["changed"] and result["present"] and result["method"] == "ext4_checkpoint"
    assert seen_without_journal(image, "/grub.cfg") == good
    # an unquoted ';' in grub.cfg ends the linux command: the words after it never reach the kernel
    cut = LINUX % "netconsole=+6665@192.0.2.1/eth0,6666@192.0.2.2/;loglevel=7"
    args["command"] = [*command[:-1], cut]
    failed = run_module("boot_sync", args)
    assert failed["failed"] and f"{mnt}/grub.cfg would not boot with {NETCONSOLE} loglevel=7" in failed["msg"]


def test_a_failing_command_is_named_and_a_host_without_grub_is_skipped_with_a_warning(ext4, tmp_path):
    _image, mnt = ext4
    update_grub_like(mnt, "x\n")
    failed = run_module(
        "boot_sync", {"path": str(mnt / "grub.cfg"), "command": ["sh", "-c", "echo no disk >&2; exit 3"]}
    )
    assert failed["failed"] and "failed (rc 3)" in failed["msg"] and "no disk" in failed["msg"]
    skipped = run_module("boot_sync", {"path": str(tmp_path / "none.cfg"), "command": ["false"], "missing": "skip"})
    assert not skipped.get("failed") and (skipped["changed"], skipped["present"]) == (False, False)
    assert "does not exist (no such boot loader here)" in json.dumps(skipped.get("warnings")), skipped
