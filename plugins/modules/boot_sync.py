#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: boot_sync
short_description: Make a new boot loader file readable by GRUB even if the host crashes right after
version_added: 0.1.0
description:
  - GRUB reads ext4 and XFS without replaying their journals. Right after C(update-grub) or C(grubby) the new
    file may exist only in the journal; if the host crashes then, which is what netconsole is for, GRUB boots
    the old kernel command line.
  - This module syncs, then writes the journal of the filesystem holding O(path) into place, so GRUB reads what
    was written. ext4 uses C(EXT4_IOC_CHECKPOINT) (Linux 5.13+), which does not block writers; XFS, ext3 and
    ext4 on older kernels are frozen and thawed at once (C(FIFREEZE), C(FITHAW)), as C(fsfreeze) does, which
    holds writers back for a moment. btrfs and filesystems without a journal only need the sync.
  - Changes no file and no setting, so it always reports unchanged. In check mode it does nothing.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  path:
    description: The file GRUB must read, for example C(/boot/grub/grub.cfg).
    type: path
    required: true
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Run as root (C(CAP_SYS_ADMIN)).
seealso:
  - module: logswap.netconsole.target
"""

EXAMPLES = r"""
- name: Regenerate grub.cfg
  ansible.builtin.command: update-grub
  changed_when: true

- name: Put the new grub.cfg where GRUB reads it, even if the host panics next
  logswap.netconsole.boot_sync:
    path: /boot/grub/grub.cfg
"""

RETURN = r"""
mount_point:
  description: Where the filesystem holding O(path) is mounted.
  returned: always
  type: str
  sample: /
fstype:
  description: Its filesystem type.
  returned: always
  type: str
  sample: ext4
method:
  description: What was done, C(ext4_checkpoint), C(freeze) or C(sync); C(none) in check mode.
  returned: always
  type: str
  sample: ext4_checkpoint
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.fs_checkpoint import settle
from ansible_collections.logswap.netconsole.plugins.module_utils.fstab import mount_of, parse_mounts


def main() -> None:
    module = AnsibleModule(argument_spec={"path": {"type": "path", "required": True}}, supports_check_mode=True)
    path = module.params["path"]
    if not os.path.exists(path):
        module.fail_json(msg=f"path: {path} does not exist; run the boot loader's update first")
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        mount = mount_of(os.path.realpath(path), parse_mounts(handle.read()))
    result = {"changed": False, "mount_point": mount.target, "fstype": mount.fstype, "method": "none"}
    if module.check_mode:
        module.exit_json(**result)
    try:
        result["method"] = settle(mount.target, mount.fstype)
    except OSError as exc:
        module.fail_json(
            msg=f"could not write the journal of {mount.target} ({mount.fstype}) into place: {exc.strerror}; "
            f"GRUB may read the previous {path} if the host crashes before the next clean shutdown",
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
