#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rsyslog_config
short_description: Change rsyslog's configuration as one step, checked whole, applied by a restart, or put back
version_added: 0.1.0
description:
  - Writes or removes rsyslog's drop-ins (and drop-ins of its systemd unit), and can hand the kernel log from
    imklog to imkmsg in the main configuration (the two refuse to load together) or back. Then, where anything
    changed, C(rsyslogd -N1) checks the whole configuration. If rsyslog refuses it, every file is put back as it
    was, rsyslog is not restarted (the old configuration keeps running) and the module fails with rsyslog's
    message. Otherwise systemd reloads its units where a unit drop-in changed and rsyslog is restarted.
  - Where nothing changed, rsyslog is started and enabled if it is not (O(running=true)).
  - With O(reads), waits after the restart until the running rsyslogd holds those files open; C(rsyslogd -N1)
    passes, and rsyslog runs, when imkmsg cannot open C(/dev/kmsg) (it only logs that), so this is what tells that
    the kernel log is really read.
  - One module run for what took up to fifteen tasks in each role (template, replace, command, the rescue's copy,
    file and fail, service, the handlers, and the check of the running daemon).
author:
  - logswap.netconsole maintainers (@logswap)
options:
  files:
    description: rsyslog's drop-ins and its unit's drop-ins, each written or removed.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path. Missing directories above it are created with mode C(0755), owned by root.
        type: path
        required: true
      content:
        description: The whole content (UTF-8). Required with O(files[].state=present).
        type: str
      state:
        description: Whether the file is there.
        type: str
        choices: [present, absent]
        default: present
  directories:
    description:
      - Directories the new configuration reads or writes (an imfile input's spool, say), made root's with
        O(directories[].mode) before the check (missing ones above them with C(0755)), or removed with everything in
        them. A change restarts rsyslog as a file's does (imfile watches a directory from its start only). Made or
        removed before rsyslogd -N1 runs, and not put back when it refuses (a spool made stays, empty; one removed
        stays removed).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: The directory's mode, as octal text.
        type: str
        default: "0700"
      state:
        description: Whether the directory is there.
        type: str
        choices: [present, absent]
        default: present
  kernel_input:
    description:
      - C(imkmsg) comments out each line of O(config) that loads imklog, ending it with O(mark); C(imklog) makes
        exactly those lines active again; C(keep) leaves O(config) alone.
    type: str
    choices: [imkmsg, imklog, keep]
    default: keep
  mark:
    description: The text that ends a line commented out for imkmsg. Required unless O(kernel_input=keep).
    type: str
    default: ""
  config:
    description:
      - rsyslog's main configuration, the one C(rsyslogd -N1) checks. Where it is a symlink, its target is
        changed (as M(ansible.builtin.replace) does), keeping its mode and owner.
    type: path
    default: /etc/rsyslog.conf
  service:
    description: rsyslog's systemd unit; empty to leave the service alone (a check of files only).
    type: str
    default: rsyslog.service
  running:
    description:
      - Keep O(service) running and enabled. With C(false), a change restarts it only where it runs.
    type: bool
    default: true
  reads:
    description: Files the running rsyslogd must hold open after this run, such as C(/dev/kmsg).
    type: list
    elements: path
    default: []
  wait:
    description: Seconds to wait for O(reads).
    type: int
    default: 10
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Files are written with mode C(0644), owned by root. A symlink in O(files) is replaced by the file (and comes
    back if rsyslog refuses the configuration); a directory or another non-regular file there is refused before
    anything changes.
  - In check mode nothing is run; the result says what would change and whether rsyslog would be restarted.
seealso:
  - module: logswap.netconsole.rsyslog_info
  - module: logswap.netconsole.config_check
"""

EXAMPLES = r"""
- name: Forward the kernel log over RELP, read by imkmsg instead of imklog
  logswap.netconsole.rsyslog_config:
    files:
      - path: /etc/rsyslog.d/32-logswap-relp-send.conf
        content: "{{ lookup('ansible.builtin.template', 'relp.conf.j2') }}"
    kernel_input: imkmsg
    mark: "  # logswap.netconsole: the kernel log is read by imkmsg (reliable channel)"
    reads: [/dev/kmsg]

- name: Remove it, and give the kernel log back to imklog
  logswap.netconsole.rsyslog_config:
    files:
      - path: /etc/rsyslog.d/32-logswap-relp-send.conf
        state: absent
    kernel_input: imklog
    mark: "  # logswap.netconsole: the kernel log is read by imkmsg (reliable channel)"
    running: false
"""

RETURN = r"""
changed_files:
  description:
    - The files written or removed (in check mode, that would be); O(config) among them when it changed, and the
      directories of O(directories) made, removed or given another mode.
  returned: always
  type: list
  elements: str
restarted:
  description:
    - Whether rsyslog was restarted (in check mode, would be). With O(running=false) only where it was running.
  returned: always
  type: bool
started:
  description: Whether rsyslog was started (nothing having changed) or enabled (in check mode, would be).
  returned: always
  type: bool
rsyslog:
  description: What C(rsyslogd -N1) said; empty where it did not run (nothing changed, or check mode).
  returned: always
  type: str
"""

import os
import shutil
import stat
import time

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
from ansible_collections.logswap.netconsole.plugins.module_utils.rsyslogconf import hand_over
from ansible_collections.logswap.netconsole.plugins.module_utils.systemd import (
    ENABLED,
    SYSTEMD_DIRS,
    UNIT,
    Systemctl,
    reload_needed,
)

OPTIONS = {
    "files": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "content": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    },
    "directories": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "mode": {"type": "str", "default": "0700"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    },
    "kernel_input": {"type": "str", "choices": ["imkmsg", "imklog", "keep"], "default": "keep"},
    "mark": {"type": "str", "default": ""},
    "config": {"type": "path", "default": "/etc/rsyslog.conf"},
    "service": {"type": "str", "default": "rsyslog.service"},
    "running": {"type": "bool", "default": True},
    "reads": {"type": "list", "elements": "path", "default": []},
    "wait": {"type": "int", "default": 10},
}


def param_errors(params: dict) -> list[str]:
    """What is wrong with the options, each naming the option."""
    errors = []
    seen = {config_path(params): "config"}
    for index, entry in enumerate(params["files"]):
        if problem := path_error(f"files[{index}].path", entry["path"]):
            errors.append(problem)
        if entry["state"] == "present" and entry["content"] is None:
            errors.append(f"files[{index}].content: required with state present ({entry['path']})")
        # a second entry would be put back as the first one left it
        if entry["path"] in seen:
            errors.append(f"files[{index}].path: {entry['path']} is given twice (also {seen[entry['path']]})")
        seen.setdefault(entry["path"], f"files[{index}]")
    for index, entry in enumerate(params["directories"]):
        if problem := path_error(f"directories[{index}].path", entry["path"]):
            errors.append(problem)
        if entry["path"] in seen:
            errors.append(f"directories[{index}].path: {entry['path']} is given twice (also {seen[entry['path']]})")
        seen.setdefault(entry["path"], f"directories[{index}]")
        if not MODE.fullmatch(entry["mode"]):
            errors.append(f"directories[{index}].mode: {entry['mode']!r} is not an octal mode such as 0700")
    if params["kernel_input"] != "keep" and (not params["mark"].strip() or "\n" in params["mark"]):
        errors.append("mark: one line of text is required to hand the kernel log over (kernel_input)")
    if params["service"] and not UNIT.fullmatch(params["service"]):
        errors.append(f"service: {params['service']!r} is not a systemd unit name")
    if not 0 <= params["wait"] <= 600:
        errors.append(f"wait: {params['wait']} is not between 0 and 600 seconds")
    return errors


def not_files(params: dict) -> list[str]:
    """The files[] paths where something other than a file or a symlink is: writing or removing it would fail
    half way through, with some files changed and nothing put back."""
    errors = []
    for index, entry in enumerate(params["files"]):
        try:
            mode = os.lstat(entry["path"]).st_mode
        except OSError:
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            errors.append(f"files[{index}].path: {entry['path']} is there and is not a regular file; remove it first")
    for index, entry in enumerate(params["directories"]):
        path = entry["path"]
        if entry["state"] == "present" and os.path.lexists(path) and not os.path.isdir(path):
            errors.append(f"directories[{index}].path: {path} is there and is not a directory; remove it first")
    return errors


def config_path(params: dict) -> str:
    """The main configuration as written: a symlink's target (ansible.builtin.replace, which the roles used before,
    followed it too; rsyslog_info reads through it, and a link replaced by a file would leave the admin's target)."""
    return os.path.realpath(params["config"])


def planned(params: dict) -> list[tuple[str, bytes | None, bytes | None]]:
    """(path, content before, content after) of each file that changes; None is no file."""
    changes = []
    for entry in params["files"]:
        before = current(entry["path"])
        after = entry["content"].encode("utf-8") if entry["state"] == "present" else None
        if before != after or (after is None and os.path.lexists(entry["path"])):
            changes.append((entry["path"], before, after))
    config = config_path(params)
    if params["kernel_input"] != "keep" and os.path.isfile(config):
        before = current(config)
        if before is not None:
            after = hand_over(before.decode("utf-8", "surrogateescape"), params["mark"], params["kernel_input"])
            if after.encode("utf-8", "surrogateescape") != before:
                changes.append((config, before, after.encode("utf-8", "surrogateescape")))
    return changes


def directories(module: AnsibleModule) -> list[tuple[str, str, str]]:
    """Each directory of O(directories) made (root's, its mode) or removed: (path, before, after) of each that
    changed (or would), as --diff shows them."""
    changed = []
    for entry in module.params["directories"]:
        path, wanted = entry["path"], f"(directory, mode {entry['mode']})\n"
        if entry["state"] == "absent":
            if os.path.lexists(path):
                changed.append((path, "(present)\n", ""))
                if not module.check_mode and os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                elif not module.check_mode:
                    os.unlink(path)
            continue
        if not os.path.isdir(path):
            changed.append((path, "", wanted))
            if module.check_mode:
                continue
            make_parents(module, path, "root", "root")
            os.mkdir(path, 0o700)
            fix_attributes(module, path, entry["mode"], "root", "root")
        elif fix_attributes(module, path, entry["mode"], "root", "root"):
            changed.append((path, "(directory, another mode or owner)\n", wanted))
    return changed


def put(module: AnsibleModule, path: str, data: bytes | None, keep: os.stat_result | None = None) -> None:
    """The file with data (None: no file), with keep's mode and owner where given, else root's 0644."""
    if data is None:
        if os.path.lexists(path):
            os.unlink(path)
        return
    make_parents(module, path, "root", "root")
    write_atomic(module, path, data)
    if keep is None:
        fix_attributes(module, path, "0644", "root", "root")
    else:
        fix_attributes(module, path, f"{stat.S_IMODE(keep.st_mode):04o}", str(keep.st_uid), str(keep.st_gid))


def snapshot(changes: list) -> dict[str, os.stat_result | str]:
    """What is at each changed path before the change: a symlink's target, or a file's mode and owner."""
    found: dict[str, os.stat_result | str] = {}
    for path, _before, _after in changes:
        if os.path.islink(path):
            found[path] = os.readlink(path)
        elif os.path.lexists(path):
            found[path] = os.lstat(path)
    return found


def put_back(module: AnsibleModule, path: str, before: bytes | None, old: os.stat_result | str | None) -> None:
    if isinstance(old, str):
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(old, path)
    else:
        put(module, path, before, old)


def attributes_changed(module: AnsibleModule, changes: list) -> list[str]:
    """The files whose content stays but whose mode or owner is not root's 0644 (fixed unless in check mode)."""
    touched = {path for path, _before, _after in changes}
    return [
        entry["path"]
        for entry in module.params["files"]
        if entry["state"] == "present"
        and entry["path"] not in touched
        and fix_attributes(module, entry["path"], "0644", "root", "root")
    ]


def described(change: tuple[str, bytes | None, bytes | None]) -> str:
    """A changed file as the refusal names it: a removal says so (another file is then what rsyslog refuses)."""
    path, _before, after = change
    return path if after is not None else f"{path} removed"


def check_or_put_back(module: AnsibleModule, rsyslogd: str, changes: list, olds: dict) -> str:
    """rsyslogd -N1 on the whole new configuration; on refusal every file as it was, and fail."""
    rc, out, err = module.run_command([rsyslogd, "-N1", "-f", module.params["config"]])
    said = f"{err}\n{out}".strip()
    if rc != 0:
        for path, before, _after in changes:
            put_back(module, path, before, olds.get(path))
        module.fail_json(
            msg=f"rsyslog refused the configuration with the new {', '.join(described(change) for change in changes)}; "
            f"every file was put back as it was and rsyslog was not restarted. rsyslogd -N1 said: {said}",
            rsyslog=said,
        )
    return said


def open_files(pid: str) -> set[str]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    found = set()
    for name in names:
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            continue
    return found


def wait_reading(module: AnsibleModule, systemctl: Systemctl, service: str) -> None:
    """Wait until the running rsyslogd holds every file of `reads` open; fail with its log otherwise."""
    wanted = set(module.params["reads"])
    deadline = time.monotonic() + module.params["wait"]
    while True:
        pid = systemctl.show("MainPID", service)
        missing = wanted - open_files(pid) if pid not in ("", "0") else wanted
        if not missing or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if missing:
        journal = module.get_bin_path("journalctl")
        said = module.run_command([journal, "-u", service, "-n", "20", "--no-pager", "-o", "cat"])[1] if journal else ""
        module.fail_json(
            msg=f"{service} runs, but rsyslogd (pid {pid}) does not hold {', '.join(sorted(missing))} open after "
            f"{module.params['wait']} s; check {service}'s sandboxing (systemctl cat {service}) and its log: "
            f"{said.strip()}"
        )


def apply(module: AnsibleModule, changed: list[str]) -> tuple[bool, bool]:
    """Restart the service after a change, or start and enable it; (restarted, started)."""
    service = module.params["service"]
    if not service or not (changed or module.params["running"]):
        return False, False
    systemctl = Systemctl(module)
    if not module.params["running"] and not systemctl.known(service):
        return False, False  # not installed: nothing runs the old configuration
    restarted, started = False, False
    if changed:
        # running false: restarted only where it runs (try-restart), and said so only then
        restarted = module.params["running"] or systemctl.query("is-active", service) == "active"
        if not module.check_mode:
            if reload_needed(changed, SYSTEMD_DIRS):
                systemctl.run("daemon-reload")
            if restarted:
                systemctl.run("restart" if module.params["running"] else "try-restart", service)
    if module.params["running"]:
        if not changed and systemctl.query("is-active", service) != "active":
            started = True
            if not module.check_mode:
                systemctl.run("start", service)
        if systemctl.query("is-enabled", service) not in ENABLED:
            started = True
            if not module.check_mode:
                systemctl.run("enable", service)
    if module.params["reads"] and not module.check_mode:
        wait_reading(module, systemctl, service)
    return restarted, started


def main() -> None:
    module = AnsibleModule(argument_spec=OPTIONS, supports_check_mode=True)
    errors = param_errors(module.params) or not_files(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    unsafe = unsafe_dirs([entry for entry in module.params["files"] if entry["state"] == "present"])
    if unsafe:
        module.fail_json(
            msg=f"files: {', '.join(unsafe)} may be written by others than root (or its owner is not root); "
            "rsyslog reads its configuration from there as root: make it root's and not writable by others first"
        )
    changes = planned(module.params)
    rsyslogd = module.get_bin_path("rsyslogd", opt_dirs=["/usr/sbin", "/sbin"])
    if rsyslogd is None and not module.check_mode and any(after is not None for _path, _b, after in changes):
        module.fail_json(msg="rsyslogd is not installed: install rsyslog before configuring it (nothing was changed)")
    olds = snapshot(changes)
    config = config_path(module.params)
    said = ""
    made = directories(module)  # before the check: the configuration may name them
    if not module.check_mode:
        for path, _before, after in changes:
            old = olds.get(path)
            # the main configuration keeps its mode and owner (Debian's 0644, a hardened 0640, root:adm)
            put(module, path, after, old if path == config and isinstance(old, os.stat_result) else None)
        # a host without rsyslog where only removals happened: nothing to check, nothing reads the files
        if changes and rsyslogd:
            said = check_or_put_back(module, rsyslogd, changes, olds)
    changed = [path for path, _b, _a in changes] + attributes_changed(module, changes) + [d[0] for d in made]
    restarted, started = apply(module, changed)
    module.exit_json(
        changed=bool(changed or started),
        changed_files=changed,
        restarted=restarted,
        started=started,
        rsyslog=said,
        diff=[text_diff(path, before, after or b"") for path, before, after in changes]
        + [
            {"before_header": path, "after_header": path, "before": before, "after": after}
            for path, before, after in made
        ],
    )


if __name__ == "__main__":
    main()
