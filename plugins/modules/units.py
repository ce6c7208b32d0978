#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: units
short_description: Install one feature's systemd units and the files they run, enabled and running, in one step
version_added: 0.1.0
description:
  - Writes each file where its content, mode or owner differ (an atomic rename; a symlink is replaced, never
    written through), reloads systemd once when a unit file changed, enables the units in O(enabled) and starts
    the units in O(started), restarting them when any file changed. With O(state=absent) it stops and disables
    those units and removes the files; where none of the files is there, it does nothing (nothing of the feature
    was installed, or it was removed already).
  - One module run for what the template, copy and systemd_service modules do in five or more (each file takes
    two of theirs). The roles install each of their timers and services with it (the heartbeat, the self-repair
    check, the pstore shipper, the after-boot step, the events service); on a slow host or a large fleet that is
    most of a run.
  - A file under an existing directory that anyone may write to (without the sticky bit), or that belongs to
    another user than root, is refused before anything is written (root runs what is installed there).
  - Files are checked and written in the order given, so a O(files[].validate) command may run what an earlier
    file installs. In check mode a file's check runs only when no earlier file would change.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  files:
    description: The files, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path. Missing directories above it are created with mode C(0755) and O(owner) and O(group).
          - With O(state=absent), a directory is removed with everything in it.
        type: path
        required: true
      content:
        description: The whole content (UTF-8). Required with O(state=present).
        type: str
      mode:
        description: The file's mode, as octal text.
        type: str
        default: "0644"
      state:
        description:
          - C(absent) removes this one file (a drop-in the feature no longer needs) while the others are installed.
            With O(state=absent) every file is removed whatever this says.
        type: str
        choices: [present, absent]
        default: present
      validate:
        description:
          - A command that must succeed on the new content before the file is written; C(%s) is the path of a
            temporary copy beside the file. It is split into words as a shell would, but no shell runs it.
        type: str
  enabled:
    description: Units to enable (O(state=present)) or disable (O(state=absent)).
    type: list
    elements: str
    default: []
  started:
    description:
      - Units to keep running (O(state=present)), restarted when any of O(files) changed; stopped with
        O(state=absent).
    type: list
    elements: str
    default: []
  optional:
    description:
      - Leave out units that systemd does not know (returned in RV(missing)) instead of failing; for a unit of the
        host's own, such as C(systemd-pstore.service), that older systemd versions do not have.
    type: bool
    default: false
  owner:
    description: The owner of every file (and of a directory it creates); unchanged where not given.
    type: str
  group:
    description: The group of every file (and of a directory it creates); unchanged where not given.
    type: str
  state:
    description: Whether the units and files are there (C(present)) or gone (C(absent)).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Needs systemd. Units of this module's files that do not exist yet are not looked up in check mode; they are
    reported as they would be enabled and started.
seealso:
  - module: ansible.builtin.systemd_service
"""

EXAMPLES = r"""
- name: Install the heartbeat's script, service and timer, and run the timer now and at every boot
  logswap.netconsole.units:
    files:
      - path: /usr/local/sbin/logswap-heartbeat
        content: "{{ lookup('ansible.builtin.template', 'heartbeat.sh.j2') }}"
        mode: "0755"
        validate: sh -n %s
      - path: /etc/systemd/system/logswap-heartbeat.service
        content: "{{ lookup('ansible.builtin.template', 'heartbeat.service.j2') }}"
      - path: /etc/systemd/system/logswap-heartbeat.timer
        content: "{{ lookup('ansible.builtin.template', 'heartbeat.timer.j2') }}"
    enabled: [logswap-heartbeat.timer]
    started: [logswap-heartbeat.timer]
    owner: root
    group: root

- name: Remove them
  logswap.netconsole.units:
    files:
      - path: /usr/local/sbin/logswap-heartbeat
      - path: /etc/systemd/system/logswap-heartbeat.service
      - path: /etc/systemd/system/logswap-heartbeat.timer
    enabled: [logswap-heartbeat.timer]
    started: [logswap-heartbeat.timer]
    state: absent
"""

RETURN = r"""
changed_files:
  description: The files written or removed (in check mode, that would be), in the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/logswap-heartbeat.timer]
reloaded:
  description: Whether systemd reloaded its units (in check mode, would).
  returned: always
  type: bool
enabled_units:
  description: The units enabled (present) or disabled (absent) by this run.
  returned: always
  type: list
  elements: str
started_units:
  description: The units started or restarted (present) or stopped (absent) by this run.
  returned: always
  type: list
  elements: str
missing:
  description: Units left out because systemd does not know them (O(optional=true)).
  returned: always
  type: list
  elements: str
"""

import os
import shlex
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.filewrite import (
    MODE,
    current,
    fix_attributes,
    make_parents,
    path_error,
    text_diff,
    unsafe_dirs,
    write_atomic,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.systemd import (
    ENABLED,
    SYSTEMD_DIRS,
    UNIT,
    Systemctl,
    reload_needed,
)


def param_errors(params: dict) -> list[str]:
    """What is wrong with the files and unit names given, each naming the option."""
    errors = []
    for index, entry in enumerate(params["files"]):
        where = f"files[{index}]"
        if problem := path_error(f"{where}.path", entry["path"]):
            errors.append(problem)
        if not MODE.fullmatch(entry["mode"]):
            errors.append(f"{where}.mode: {entry['mode']!r} is not an octal mode such as 0644")
        if params["state"] == "present" and entry["state"] == "present" and entry["content"] is None:
            errors.append(f"{where}.content: required with state present ({entry['path']})")
        if entry["validate"] and "%s" not in entry["validate"]:
            errors.append(f"{where}.validate: {entry['validate']!r} has no %s for the new content's path")
    for option in ("enabled", "started"):
        errors += [
            f"{option}: {name!r} is not a systemd unit name" for name in params[option] if not UNIT.fullmatch(name)
        ]
    return errors


def new_units(new_paths: list[str], units: list[str]) -> set[str]:
    """The units whose unit file this run creates (systemd cannot be asked about them in check mode: they are not
    there yet). A drop-in does not make a unit exist."""
    return {os.path.basename(path) for path in new_paths} & set(units)


def validate(module: AnsibleModule, path: str, command: str, data: bytes) -> None:
    """Run the check on a temporary copy beside the file; fail naming the file and the command's output."""
    directory = os.path.dirname(path) if os.path.isdir(os.path.dirname(path)) else None
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        argv = [word.replace("%s", temp) for word in shlex.split(command)]
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(
                msg=f"{path}: the new content failed its check ({command}, rc {rc}): {(err or out).strip()}"
            )
    finally:
        os.unlink(temp)


def attributes(module: AnsibleModule, path: str, mode: str) -> bool:
    return fix_attributes(module, path, mode, module.params["owner"], module.params["group"])


def removal_diff(path: str) -> dict[str, str]:
    return {"before_header": path, "after_header": path, "before": "(present)\n", "after": ""}


def write_files(module: AnsibleModule) -> tuple[list[str], list[str], list[dict]]:
    """Each file that differs checked, then written; the paths changed, those that did not exist, the diffs."""
    unsafe = unsafe_dirs(module.params["files"])
    if unsafe:
        module.fail_json(
            msg=f"files: {', '.join(unsafe)} may be written by others than root (or its owner is not root); root "
            "runs what is installed there: make it root's and not writable by others first"
        )
    changed, created, diffs = [], [], []
    for entry in module.params["files"]:
        if entry["state"] == "absent":
            if os.path.lexists(entry["path"]):
                changed.append(entry["path"])
                diffs.append(removal_diff(entry["path"]))
                if not module.check_mode:
                    os.unlink(entry["path"])
            continue
        path, data = entry["path"], entry["content"].encode("utf-8")
        before = current(path)
        if before == data:
            if attributes(module, path, entry["mode"]):
                changed.append(path)
            continue
        if entry["validate"] and not (module.check_mode and changed):
            validate(module, path, entry["validate"], data)
        changed.append(path)
        if before is None:
            created.append(path)
        diffs.append(text_diff(path, before, data))
        if not module.check_mode:
            make_parents(module, path, module.params["owner"], module.params["group"])
            write_atomic(module, path, data)
            attributes(module, path, entry["mode"])
    return changed, created, diffs


def present(module: AnsibleModule, systemctl: Systemctl) -> dict:
    changed, created, diffs = write_files(module)
    reloaded = reload_needed(changed, SYSTEMD_DIRS)
    if reloaded and not module.check_mode:
        systemctl.run("daemon-reload")
    unseen = new_units(created, module.params["enabled"] + module.params["started"]) if module.check_mode else set()
    missing, enabled, started = [], [], []
    for unit in dict.fromkeys(module.params["enabled"] + module.params["started"]):
        if unit not in unseen and not systemctl.known(unit):
            if not module.params["optional"]:
                module.fail_json(msg=f"{unit}: systemd does not know this unit (no unit file was found)")
            missing.append(unit)
    for unit in module.params["enabled"]:
        if unit not in missing and (unit in unseen or systemctl.query("is-enabled", unit) not in ENABLED):
            enabled.append(unit)
            if not module.check_mode:
                systemctl.run("enable", unit)
    for unit in module.params["started"]:
        if unit in missing:
            continue
        if changed or unit in unseen or systemctl.query("is-active", unit) != "active":
            started.append(unit)
            if not module.check_mode:
                systemctl.run("restart" if changed else "start", unit)
    return {
        "changed": bool(changed or enabled or started),
        "changed_files": changed,
        "reloaded": reloaded,
        "enabled_units": enabled,
        "started_units": started,
        "missing": missing,
        "diff": diffs,
    }


def absent(module: AnsibleModule, systemctl: Systemctl) -> dict:
    stopped, disabled = [], []
    removed = [entry["path"] for entry in module.params["files"] if os.path.lexists(entry["path"])]
    # none of the files is there: nothing of this feature was installed (or it was removed already), and a feature
    # that is off costs no systemctl call on every run
    units = module.params["started"] + module.params["enabled"] if removed or not module.params["files"] else []
    for unit in dict.fromkeys(units):
        if not systemctl.known(unit):
            continue
        if systemctl.query("is-active", unit) in ("active", "activating", "reloading"):
            stopped.append(unit)
            if not module.check_mode:
                systemctl.run("stop", unit)
        if unit in module.params["enabled"] and systemctl.query("is-enabled", unit) in ("enabled", "enabled-runtime"):
            disabled.append(unit)
            if not module.check_mode:
                systemctl.run("disable", unit)
    if not module.check_mode:
        for path in removed:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    reloaded = reload_needed(removed, SYSTEMD_DIRS)
    if reloaded and not module.check_mode:
        systemctl.run("daemon-reload")
    return {
        "changed": bool(removed or stopped or disabled),
        "changed_files": removed,
        "reloaded": reloaded,
        "enabled_units": disabled,
        "started_units": stopped,
        "missing": [],
        "diff": [removal_diff(path) for path in removed],
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str"},
                    "mode": {"type": "str", "default": "0644"},
                    "validate": {"type": "str"},
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                },
            },
            "enabled": {"type": "list", "elements": "str", "default": []},
            "started": {"type": "list", "elements": "str", "default": []},
            "optional": {"type": "bool", "default": False},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    errors = param_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    systemctl = Systemctl(module)
    module.exit_json(**(present if module.params["state"] == "present" else absent)(module, systemctl))


if __name__ == "__main__":
    main()
