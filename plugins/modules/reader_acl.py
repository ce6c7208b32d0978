#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: reader_acl
short_description: Give exactly a set of users read access to a log directory and everything in it
version_added: 0.1.0
description:
  - Sets POSIX ACLs so that exactly O(readers) (as named users) can read O(path) and every file in it, now and
    later, through an access ACL on each entry and a default ACL on the directories (files that rsyslog or
    logrotate create later inherit it).
  - Named users that are not in O(readers) are removed from those ACLs, so a reader taken off the list loses
    access to old files too. Named groups and the owner, group and other permissions are not touched.
  - Reads everything with one C(getfacl) and runs C(setfacl) only for entries that differ.
author:
  - logswap.netconsole maintainers (@logswap)
requirements:
  - getfacl and setfacl (Debian package C(acl)) on the managed host
options:
  path:
    description: The directory.
    type: path
    required: true
  readers:
    description: Accounts that may read. An empty list removes every named user.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Only alice reads alice's logs
  logswap.netconsole.reader_acl:
    path: /var/log/remote/alice
    readers: [alice]
"""

RETURN = r"""
changed_paths:
  description: Paths whose ACL changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/var/log/remote/alice", "/var/log/remote/alice/console.log"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.acl import (
    describe,
    expected,
    parse_getfacl,
    plan,
)


def directories_under(path: str) -> set[str]:
    found = {path}
    for root, dirs, _files in os.walk(path):
        found.update(os.path.join(root, d) for d in dirs)
    return found


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "readers": {"type": "list", "elements": "str", "required": True},
        },
        supports_check_mode=True,
    )
    path = os.path.normpath(module.params["path"])
    readers = sorted(set(module.params["readers"]))
    if not os.path.isdir(path):
        if module.check_mode:  # an earlier task would have created it
            module.exit_json(changed=True, changed_paths=[path], msg=f"{path} does not exist yet")
        module.fail_json(msg=f"path: {path} is not a directory")
    getfacl = module.get_bin_path("getfacl", required=True)
    setfacl = module.get_bin_path("setfacl", required=True)
    _rc, out, _err = module.run_command([getfacl, "-R", "-p", "--absolute-names", path], check_rc=True)
    acls = parse_getfacl(out, directories_under(path))
    before, after, changed_paths = "", "", []
    for acl in acls:
        modify, remove = plan(acl, readers)
        if not modify and not remove:
            continue
        changed_paths.append(acl.path)
        before += describe(acl)
        after += describe(expected(acl, readers))
        if module.check_mode:
            continue
        if remove:
            module.run_command([setfacl, "-x", ",".join(remove), "--", acl.path], check_rc=True)
        if modify:
            module.run_command([setfacl, "-m", ",".join(modify), "--", acl.path], check_rc=True)
    module.exit_json(
        changed=bool(changed_paths),
        changed_paths=changed_paths,
        diff={"before": before, "after": after},
    )


if __name__ == "__main__":
    main()
