#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: acl_mount
short_description: Make sure the filesystem holding a path supports POSIX ACLs, in fstab and live
version_added: 0.1.0
description:
  - Finds the filesystem that holds O(path) (or its nearest existing parent).
  - When that filesystem is mounted with C(noacl), replaces C(noacl) by C(acl) in its fstab entry (keeping a
    backup, changing only that field, and refusing a result that C(findmnt --verify) finds more errors in than the
    original), then remounts it with C(acl).
  - When the filesystem already supports ACLs (ext4, xfs and btrfs do by default), changes nothing and says so.
  - When there is no fstab entry for it (a container), changes nothing and says so.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  path:
    description: A path on the filesystem that must support ACLs; it need not exist yet.
    type: path
    required: true
  fstab:
    description: The fstab file to edit.
    type: path
    default: /etc/fstab
  remount:
    description: Remount the filesystem with C(acl) after the fstab change.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the fstab before changing it.
    type: bool
    default: true
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Let the friends' log directories carry ACLs
  logswap.netconsole.acl_mount:
    path: /var/log/remote
  register: acl_mount

- name: Say what was found
  ansible.builtin.debug:
    msg: "{{ acl_mount.msg }}"
"""

RETURN = r"""
mount_point:
  description: Where the filesystem holding O(path) is mounted.
  returned: always
  type: str
  sample: /var
fstype:
  description: Its filesystem type.
  returned: always
  type: str
  sample: ext4
acl_supported:
  description: Whether ACLs work there after the task (in check mode, whether they would).
  returned: always
  type: bool
  sample: true
fstab_changed:
  description: Whether the fstab entry was changed.
  returned: always
  type: bool
  sample: false
backup_file:
  description: Copy of the fstab before the change.
  returned: when the fstab was changed and O(backup=true)
  type: str
  sample: /etc/fstab.12345.2026-11-23@07:40:00~
msg:
  description: What was found and done.
  returned: always
  type: str
  sample: "ext4 on / already supports POSIX ACLs; fstab not changed"
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.fstab import (
    acl_problem,
    fstab_add_acl,
    mount_of,
    parse_mounts,
    verify_error_count,
)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def nearest_existing(path: str) -> str:
    while not os.path.exists(path) and path != "/":
        path = os.path.dirname(path)
    return path


def verify_errors(module: AnsibleModule, fstab_path: str) -> int:
    findmnt = module.get_bin_path("findmnt")
    if not findmnt:
        return 0
    _rc, out, err = module.run_command([findmnt, "--verify", "--tab-file", fstab_path])
    return verify_error_count(out + err)


def write_fstab(module: AnsibleModule, fstab_path: str, new_text: str) -> str | None:
    """Write the new fstab atomically after findmnt finds no new error in it; return the backup."""
    directory = os.path.dirname(fstab_path) or "."
    fd, candidate = tempfile.mkstemp(prefix=".fstab.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(new_text)
    new_errors, old_errors = verify_errors(module, candidate), verify_errors(module, fstab_path)
    if new_errors > old_errors:
        os.unlink(candidate)
        module.fail_json(
            msg=f"refusing to write {fstab_path}: findmnt --verify finds {new_errors} errors in the result "
            f"({old_errors} before); the fstab was left as it was"
        )
    backup = module.backup_local(fstab_path) if module.params["backup"] else None
    os.chmod(candidate, os.stat(fstab_path).st_mode & 0o7777)
    module.atomic_move(candidate, fstab_path)
    return backup


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "fstab": {"type": "path", "default": "/etc/fstab"},
            "remount": {"type": "bool", "default": True},
            "backup": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    mount = mount_of(nearest_existing(params["path"]), parse_mounts(read("/proc/self/mounts")))
    result = {
        "changed": False,
        "mount_point": mount.target,
        "fstype": mount.fstype,
        "acl_supported": True,
        "fstab_changed": False,
    }
    where = f"{mount.fstype} on {mount.target}"
    problem = acl_problem(mount)
    if problem == "unsupported":
        module.fail_json(
            msg=f"{params['path']} is on {where}, which cannot hold POSIX ACLs; choose a log root "
            "on ext4, xfs or btrfs (receiver_log_root)",
            **{**result, "acl_supported": False},
        )
    if problem is None:
        module.exit_json(msg=f"{where} already supports POSIX ACLs; fstab not changed", **result)

    fstab_text = read(params["fstab"]) if os.path.exists(params["fstab"]) else ""
    new_text, found, changed = fstab_add_acl(fstab_text, mount.target)
    if not found:
        module.warn(f"{where} is mounted noacl and {params['fstab']} has no entry for it")
        module.exit_json(
            msg=f"{where} is mounted noacl but has no entry in {params['fstab']} (a container?); skipped",
            **{**result, "acl_supported": False},
        )
    result.update(changed=True, fstab_changed=changed)
    if module._diff:
        result["diff"] = {
            "before": fstab_text,
            "after": new_text,
            "before_header": params["fstab"],
            "after_header": params["fstab"],
        }
    if module.check_mode:
        module.exit_json(msg=f"would add acl to the fstab entry of {mount.target} and remount it", **result)
    if changed:
        backup = write_fstab(module, params["fstab"], new_text)
        if backup:
            result["backup_file"] = backup
    if params["remount"]:
        rc, _out, err = module.run_command(["mount", "-o", "remount,acl", mount.target])
        if rc != 0:
            module.fail_json(msg=f"fstab now has acl, but remounting {mount.target} failed: {err.strip()}", **result)
        remounted = mount_of(mount.target, parse_mounts(read("/proc/self/mounts")))
        result["acl_supported"] = acl_problem(remounted) is None
    module.exit_json(msg=f"added acl to the fstab entry of {mount.target} and remounted it", **result)


if __name__ == "__main__":
    main()
