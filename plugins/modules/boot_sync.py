#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: boot_sync
short_description: Regenerate GRUB's file if asked, check its command lines, and make it readable even after a crash
version_added: 0.1.0
description:
  - GRUB reads ext4 and XFS without replaying their journals. Right after C(update-grub) or C(grubby) the new
    file may exist only in the journal; if the host crashes then, which is what netconsole is for, GRUB boots
    the old kernel command line.
  - This module syncs, then writes the journal of the filesystem holding O(path) into place, so GRUB reads what
    was written. ext4 uses C(EXT4_IOC_CHECKPOINT) (Linux 5.13+), which does not block writers; XFS, ext3 and
    ext4 on older kernels are frozen and thawed at once (C(FIFREEZE), C(FITHAW)), as C(fsfreeze) does, which
    holds writers back for a moment. btrfs and filesystems without a journal only need the sync.
  - With O(command) it first regenerates the file (C(update-grub), which checks the generated file with
    C(grub-script-check) before it replaces the old one) and reports a change; with O(words) it then checks that
    the file's C(linux) commands carry those words whole, as GRUB's lexer reads them (an unquoted C(;) would end the
    command and drop every word after it), and fails naming what is wrong. One module run for what took five tasks
    (stat, command, slurp, assert, and the sync).
  - Without O(command) it changes no file and no setting, so it reports unchanged. In check mode it does nothing
    (with O(command) it reports the change it would make).
author:
  - logswap.netconsole maintainers (@logswap)
options:
  path:
    description: The file GRUB must read, for example C(/boot/grub/grub.cfg).
    type: path
    required: true
  command:
    description: The command that regenerates O(path) first, as an argument list (no shell), such as C([update-grub]).
    type: list
    elements: str
  words:
    description:
      - Kernel command line words that every C(linux) command of this system's kernels in O(path) must carry whole
        (the first, default, entry every word; the others the first word); checked after O(command).
    type: list
    elements: str
    default: []
  missing:
    description:
      - What to do when O(path) does not exist. C(fail), or C(skip) for a host without that boot loader (a container),
        which is reported (RV(present)) and warned about, and nothing else is done.
    type: str
    choices: [fail, skip]
    default: fail
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
- name: Regenerate grub.cfg, check that it passes the netconsole words whole, and put it where GRUB reads it
  logswap.netconsole.boot_sync:
    path: /boot/grub/grub.cfg
    command: [update-grub]
    words: ["netconsole=+6665@192.0.2.1/eth0,6666@192.0.2.2/52:54:00:12:34:56", loglevel=7]
    missing: skip

- name: Put grubby's boot entries where GRUB reads them, even if the host panics next
  logswap.netconsole.boot_sync:
    path: /boot
"""

RETURN = r"""
present:
  description: Whether O(path) exists (with O(missing=skip), false on a host without that boot loader).
  returned: always
  type: bool
  sample: true
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

from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import grub_cfg_problems
from ansible_collections.logswap.netconsole.plugins.module_utils.fs_checkpoint import settle
from ansible_collections.logswap.netconsole.plugins.module_utils.fstab import mount_of, parse_mounts


def regenerate(module: AnsibleModule, path: str) -> None:
    """The command that writes path, then the check of its command lines; fail naming what is wrong."""
    argv = module.params["command"]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg=f"{' '.join(argv)} failed (rc {rc}), {path} was not replaced: {(err or out).strip()}")
    words = module.params["words"]
    if not words:
        return
    with open(path, encoding="utf-8", errors="replace") as handle:
        problems = grub_cfg_problems(handle.read(), words)
    if problems:
        module.fail_json(
            msg=f"{path} would not boot with {' '.join(words)}: {'; '.join(problems)}. Another drop-in in "
            "/etc/default/grub.d may override GRUB_CMDLINE_LINUX, or /etc/grub.d scripts may have been changed.",
            changed=True,
        )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "command": {"type": "list", "elements": "str"},
            "words": {"type": "list", "elements": "str", "default": []},
            "missing": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
        },
        supports_check_mode=True,
    )
    path, command = module.params["path"], module.params["command"]
    if not os.path.exists(path):
        if module.params["missing"] == "fail":
            module.fail_json(msg=f"path: {path} does not exist; run the boot loader's update first")
        module.warn(f"{path} does not exist (no such boot loader here): nothing was regenerated or synced")
        module.exit_json(changed=False, present=False, mount_point="", fstype="", method="none")
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        mount = mount_of(os.path.realpath(path), parse_mounts(handle.read()))
    result = {
        "changed": bool(command),
        "present": True,
        "mount_point": mount.target,
        "fstype": mount.fstype,
        "method": "none",
    }
    if module.check_mode:
        module.exit_json(**result)
    if command:
        regenerate(module, path)
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
