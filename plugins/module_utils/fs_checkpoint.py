# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make a file written through a journaling filesystem readable by a reader that ignores the journal.

GRUB reads ext4 and XFS without replaying their journals. After ``update-grub`` the new grub.cfg may exist
only in the journal (committed, not yet written to its place); if the host then crashes - the moment
netconsole exists for - GRUB boots the old command line. Writing the journal into place closes that window.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct

# include/uapi/linux/fs.h and fs/ext4/ext4.h
FIFREEZE = 0xC0045877  # _IOWR('X', 119, int)
FITHAW = 0xC0045878  # _IOWR('X', 120, int)
EXT4_IOC_CHECKPOINT = 0x4004662B  # _IOW('f', 43, __u32), Linux 5.13+

# Journaling filesystems whose journal GRUB does not replay. btrfs needs only a sync: GRUB reads the last
# committed tree. Others (vfat, ext2) have no journal to write into place.
CHECKPOINT_METHODS = {"ext4": "ext4_checkpoint", "ext3": "freeze", "xfs": "freeze"}


def method_for(fstype: str) -> str:
    """How to put what was written in its place on disk: ext4_checkpoint, freeze or sync."""
    return CHECKPOINT_METHODS.get(fstype, "sync")


def ext4_checkpoint(fd: int) -> None:
    """Write the ext4 journal into place without blocking writers (EXT4_IOC_CHECKPOINT)."""
    fcntl.ioctl(fd, EXT4_IOC_CHECKPOINT, struct.pack("I", 0))


def freeze_and_thaw(fd: int) -> None:
    """Freezing writes the journal into place; thaw at once, in the same process, nothing written between."""
    fcntl.ioctl(fd, FIFREEZE, 0)
    fcntl.ioctl(fd, FITHAW, 0)


def settle(mount_point: str, fstype: str) -> str:
    """sync, then write the journal of the filesystem at ``mount_point`` into place; return the method used."""
    os.sync()
    method = method_for(fstype)
    if method == "sync":
        return method
    fd = os.open(mount_point, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if method == "ext4_checkpoint":
            try:
                ext4_checkpoint(fd)
                return method
            except OSError as exc:
                if exc.errno not in (errno.ENOTTY, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                method = "freeze"  # kernels before 5.13 do not know the ioctl
        freeze_and_thaw(fd)
        return method
    finally:
        os.close(fd)
