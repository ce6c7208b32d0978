#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_bundle
short_description: Write a set of files into one directory in one step
version_added: 0.1.0
description:
  - Writes each named file into O(dest) where its content, mode or owner differ, each by an atomic rename, and
    leaves the others alone.
  - One module run for the whole set where M(ansible.builtin.copy) in a loop runs two per file (a checksum, then
    the copy). The roles install the collection's own Python files on the hosts with it (the report, the events
    service, the self-repair check, the pstore shipper); on a slow host or a large fleet that is most of a run.
  - Files in O(dest) that are not named are not touched.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  dest:
    description:
      - The directory; created with mode C(0755), O(owner) and O(group) (and so are missing directories above it).
      - An existing one writable by its group or others is refused (root later runs what is installed here).
    type: path
    required: true
  files:
    description:
      - File name to content. A name is a plain file name (letters, digits, C(.), C(_), C(-); no C(/), not C(.) or
        C(..)). Content is written as given (UTF-8).
    type: dict
    required: true
  mode:
    description: The mode of every file, as octal text.
    type: str
    default: "0644"
  owner:
    description: The owner of every file (and of a directory it creates); unchanged where not given.
    type: str
  group:
    description: The group of every file (and of a directory it creates); unchanged where not given.
    type: str
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Install the report's logic, read from the collection on the controller
  logswap.netconsole.file_bundle:
    dest: /usr/local/lib/logswap-netconsole
    files: "{{ dict(names | zip(query('ansible.builtin.file', *paths, rstrip=false))) }}"
    owner: root
    group: root
  vars:
    names: [kmsgview.py, kmsgevents.py]
    paths: "{{ names | map('regex_replace', '^', role_path ~ '/../../plugins/module_utils/') | list }}"
"""

RETURN = r"""
changed_files:
  description: The files written (or, in check mode, that would be), in name order.
  returned: always
  type: list
  elements: str
  sample: [kmsgview.py]
"""

import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")


def check_names(files: dict) -> list[str]:
    """The names that are not a plain file name in dest."""
    return sorted(name for name in files if not NAME.fullmatch(name) or name in (".", ".."))


def current(path: str) -> bytes | None:
    """The file's content; None where there is none or something other than a regular file (a symlink is not
    followed: its target is neither read into a diff nor given this file's mode; the rename replaces the link)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, OSError):
        return None
    with os.fdopen(handle, "rb") as opened:
        if not stat.S_ISREG(os.fstat(opened.fileno()).st_mode):
            return None
        return opened.read()


def make_dirs(module: AnsibleModule, dest: str) -> None:
    """dest and each missing directory above it, mode 0755 with the owner and group asked for."""
    missing = []
    path = dest
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path, 0o755)
        fix_attributes(module, path, "0755")


def write(module: AnsibleModule, dest: str, name: str, data: bytes) -> None:
    """The new content beside the file, then renamed over it (a reader sees the old file or the new one)."""
    handle, temp = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        module.atomic_move(temp, os.path.join(dest, name))
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def fix_attributes(module: AnsibleModule, path: str, mode: str) -> bool:
    """Mode, owner and group as asked (check mode: only whether they differ)."""
    changed = module.set_mode_if_different(path, mode, False)
    if module.params["owner"]:
        changed = module.set_owner_if_different(path, module.params["owner"], changed)
    if module.params["group"]:
        changed = module.set_group_if_different(path, module.params["group"], changed)
    return changed


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "files": {"type": "dict", "required": True},
            "mode": {"type": "str", "default": "0644"},
            "owner": {"type": "str"},
            "group": {"type": "str"},
        },
        supports_check_mode=True,
    )
    dest, files = module.params["dest"], module.params["files"]
    bad = check_names(files)
    if bad:
        module.fail_json(msg=f"files: {', '.join(map(repr, bad))} is not a plain file name in dest: give names only")
    if not re.fullmatch(r"0?[0-7]{3,4}", module.params["mode"]):
        module.fail_json(msg=f"mode: {module.params['mode']!r} is not an octal mode such as 0644")
    changed_dir = not os.path.isdir(dest)
    if changed_dir and not module.check_mode:
        make_dirs(module, dest)
    elif not changed_dir and os.stat(dest).st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        # root runs what is installed here: a directory others may write to would let them swap it
        module.fail_json(msg=f"dest: {dest} is writable by its group or others; make it 0755 (root's) first")
    changed, diffs = [], []
    for name in sorted(files):
        path = os.path.join(dest, name)
        data = str(files[name]).encode("utf-8")
        before = None if changed_dir else current(path)
        if before != data:
            changed.append(name)
            diffs.append(
                {
                    "before_header": path,
                    "after_header": path,
                    "before": (before or b"").decode("utf-8", "replace"),
                    "after": data.decode("utf-8"),
                }
            )
            if not module.check_mode:
                write(module, dest, name, data)
                fix_attributes(module, path, module.params["mode"])
        elif fix_attributes(module, path, module.params["mode"]):
            changed.append(name)
    module.exit_json(changed=bool(changed) or changed_dir, changed_files=changed, diff=diffs)


if __name__ == "__main__":
    main()
