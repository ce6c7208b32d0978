#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: units
short_description: Install features' systemd units and the files they run, enabled and running, in one step
version_added: 0.1.0
description:
  - Writes each file where its content, mode or owner differ (an atomic rename; a symlink is replaced, never
    written through), reloads systemd once when a unit file changed (and again for a unit whose new file systemd
    does not see yet), enables the units in O(enabled) and starts
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
    file installs. In check mode a file's check runs only when no earlier file of its feature, and none of the
    files in its O(restart_on), would change.
  - Several features at once with O(features), each with its own files, units and state, in one module run. The
    features to remove are stopped, disabled and removed first, then the others' files are written, systemd
    reloads once, and their units are enabled and started (a unit restarts only when a file of its own feature
    changed, or one of its O(features[].restart_on)). The sender role installs its heartbeat, self-repair check,
    after-boot step and pstore pieces so; the receiver role its programs and the events service.
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
        description:
          - The whole content (UTF-8). Required with O(state=present), unless O(files[].secret_content) is given.
        type: str
      secret_content:
        description:
          - Instead of O(files[].content), for a file that holds secrets (a webhook URL with its token, say). The value
            is masked in the module's logged arguments, and the diff says the file changed without showing it.
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
  restart_on:
    description:
      - Paths of files of an earlier feature of O(features) (say the code a service imports) whose change restarts
        the units in O(started) as a change of O(files) does. Not for the top-level options (one feature alone).
    type: list
    elements: path
    default: []
  check:
    description:
      - A command run before the units in O(started) are started or restarted (not in check mode), such as the
        service's own check of its configuration with the new code. When it fails, the units are neither enabled
        nor (re)started and the run fails naming it; the new files stay installed, so where only files of
        O(restart_on) changed, the next run finds nothing to do. Split into words as a shell would; no shell runs it.
    type: str
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
  features:
    description:
      - Several features, each described by the options above (O(files), O(enabled), O(started), O(optional),
        O(restart_on), O(check), O(state)) and a O(features[].name) that the result reports it under
        (RV(features)). Those top-level options must then be left at their defaults; O(owner) and O(group) apply
        to every file.
      - A feature that fails (a file that fails its check, a unit systemd does not know) stops the run, but the
        features before it are still reloaded, enabled and started, so the next run does not find their new files
        unchanged and their units never restarted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The feature's name, unique among them.
        type: str
        required: true
      files:
        description: As O(files).
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
            description: As O(files[].content).
            type: str
          secret_content:
            description: As O(files[].secret_content).
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
        description: As O(enabled).
        type: list
        elements: str
        default: []
      started:
        description: As O(started).
        type: list
        elements: str
        default: []
      optional:
        description: As O(optional).
        type: bool
        default: false
      restart_on:
        description: As O(restart_on).
        type: list
        elements: path
        default: []
      check:
        description: As O(check).
        type: str
      state:
        description: As O(state).
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

- name: Install the heartbeat and remove the self-repair check, in one run
  logswap.netconsole.units:
    features:
      - name: heartbeat
        files:
          - path: /etc/systemd/system/logswap-heartbeat.service
            content: "{{ lookup('ansible.builtin.template', 'heartbeat.service.j2') }}"
          - path: /etc/systemd/system/logswap-heartbeat.timer
            content: "{{ lookup('ansible.builtin.template', 'heartbeat.timer.j2') }}"
        enabled: [logswap-heartbeat.timer]
        started: [logswap-heartbeat.timer]
      - name: repair
        files:
          - path: /etc/systemd/system/logswap-repair.timer
        enabled: [logswap-repair.timer]
        state: absent
    owner: root
    group: root
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
features:
  description:
    - With O(features), each feature's own C(changed), C(changed_files), C(enabled_units), C(started_units) and
      C(missing), by name; the top-level values are all the features' together.
  returned: when O(features) is given
  type: dict
  sample: {heartbeat: {changed: false, changed_files: [], enabled_units: [], started_units: [], missing: []}}
"""

import os
import shlex
import shutil
import tempfile
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
from ansible_collections.logswap.netconsole.plugins.module_utils.systemd import (
    ENABLED,
    SYSTEMD_DIRS,
    UNIT,
    Systemctl,
    reload_needed,
)

FILE_OPTIONS = {
    "path": {"type": "path", "required": True},
    "content": {"type": "str"},
    "secret_content": {"type": "str", "no_log": True},
    "mode": {"type": "str", "default": "0644"},
    "validate": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
FEATURE_OPTIONS = {
    "files": {"type": "list", "elements": "dict", "default": [], "options": FILE_OPTIONS},
    "enabled": {"type": "list", "elements": "str", "default": []},
    "started": {"type": "list", "elements": "str", "default": []},
    "optional": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "restart_on": {"type": "list", "elements": "path", "default": []},
    "check": {"type": "str"},
}


TOP_LEVEL_DEFAULTS = {
    "files": [],
    "enabled": [],
    "started": [],
    "state": "present",
    "optional": False,
    "restart_on": [],
    "check": None,
}


def feature_specs(params: dict) -> list[dict]:
    """The features to install or remove: O(features), or the one the top-level options describe."""
    if params["features"]:
        return params["features"]
    return [{"name": "", **{option: params[option] for option in FEATURE_OPTIONS}}]


def content_of(entry: dict) -> str | None:
    return entry["content"] if entry["secret_content"] is None else entry["secret_content"]


def spec_errors(spec: dict, prefix: str) -> list[str]:
    """What is wrong with one feature's files and unit names, each naming the option."""
    errors = []
    for index, entry in enumerate(spec["files"]):
        where = f"{prefix}files[{index}]"
        if problem := path_error(f"{where}.path", entry["path"]):
            errors.append(problem)
        if not MODE.fullmatch(entry["mode"]):
            errors.append(f"{where}.mode: {entry['mode']!r} is not an octal mode such as 0644")
        if entry["content"] is not None and entry["secret_content"] is not None:
            errors.append(f"{where}: give content or secret_content, not both ({entry['path']})")
        elif spec["state"] == "present" and entry["state"] == "present" and content_of(entry) is None:
            errors.append(f"{where}.content: required with state present ({entry['path']})")
        if entry["validate"] and "%s" not in entry["validate"]:
            errors.append(f"{where}.validate: {entry['validate']!r} has no %s for the new content's path")
    errors += [
        f"{prefix}restart_on: {path!r} is not an absolute path"
        for path in spec["restart_on"]
        if not os.path.isabs(path)
    ]
    for option in ("enabled", "started"):
        errors += [
            f"{prefix}{option}: {name!r} is not a systemd unit name"
            for name in spec[option]
            if not UNIT.fullmatch(name)
        ]
    return errors


def param_errors(params: dict) -> list[str]:
    """What is wrong with the options, each naming the option: the features' names, files and units."""
    if not params["features"]:
        alone = ["restart_on: give it inside features (it names files of a feature before that one)"]
        return spec_errors(feature_specs(params)[0], "") + (alone if params["restart_on"] else [])
    errors = [
        f"{option}: give it inside each of features, not beside them"
        for option, default in TOP_LEVEL_DEFAULTS.items()
        if params[option] != default
    ]
    names = [feature["name"] for feature in params["features"]]
    errors += [f"features: {name!r} is named twice" for name in sorted({n for n in names if names.count(n) > 1})]
    earlier: set[str] = set()
    for index, feature in enumerate(params["features"]):
        errors += spec_errors(feature, f"features[{index}].")
        errors += [
            f"features[{index}].restart_on: {path} is not a file of a feature before it (so it would never restart it)"
            for path in feature["restart_on"]
            if path not in earlier
        ]
        if feature["state"] == "present":
            earlier.update(entry["path"] for entry in feature["files"] if entry["state"] == "present")
    return errors


def new_units(new_paths: list[str], units: list[str]) -> set[str]:
    """The units whose unit file this run creates (systemd cannot be asked about them in check mode: they are not
    there yet). A drop-in does not make a unit exist."""
    return {os.path.basename(path) for path in new_paths} & set(units)


def unit_files(spec: dict) -> list[str]:
    """The feature's unit files that are on disk now (in systemd's directories)."""
    paths = [entry["path"] for entry in spec["files"] if entry["state"] != "absent"]
    return [path for path in paths if path.startswith(SYSTEMD_DIRS) and os.path.isfile(path)]


class FeatureError(Exception):
    """What stops one feature (a file that fails its check, a unit systemd does not know); the features done
    before it are still reloaded, enabled and started, then the run fails with it. ``written``: the feature's
    files already written when it failed (changed, diffs), which the result and the reload still count."""

    def __init__(self, message: str, written: tuple[list[str], list[dict]] | None = None) -> None:
        super().__init__(message)
        self.written = written or ([], [])


def validate(module: AnsibleModule, path: str, command: str, data: bytes, secret: bool = False) -> None:
    """Run the check on a temporary copy beside the file; raise naming the file and the command's output (not for
    a secret file: the output may quote the content)."""
    directory = os.path.dirname(path) if os.path.isdir(os.path.dirname(path)) else None
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        argv = [word.replace("%s", temp) for word in shlex.split(command)]
        rc, out, err = module.run_command(argv)
        if rc != 0:
            said = "its output is not shown (secret content)" if secret else (err or out).strip() or "no output"
            raise FeatureError(f"{path}: the new content failed its check ({command}, rc {rc}): {said}")
    finally:
        os.unlink(temp)


def attributes(module: AnsibleModule, path: str, mode: str) -> bool:
    return fix_attributes(module, path, mode, module.params["owner"], module.params["group"])


def removal_diff(path: str) -> dict[str, str]:
    return {"before_header": path, "after_header": path, "before": "(present)\n", "after": ""}


def secret_diff(path: str, before: bytes | None) -> dict[str, str]:
    """A secret file's change without its content (it may hold tokens that must not reach the run's output)."""
    return {
        "before_header": path,
        "after_header": path,
        "before": "" if before is None else "(old content not shown)\n",
        "after": "(new content not shown)\n",
    }


def write_files(
    module: AnsibleModule, files: list[dict], earlier_changed: bool = False
) -> tuple[list[str], list[str], list[dict]]:
    """Each file that differs checked, then written; the paths changed, those that did not exist, the diffs.
    In check mode a file's check runs only when no earlier file it may run would change (earlier_changed: one of
    another feature's, named in restart_on)."""
    changed, created, diffs = [], [], []
    for entry in files:
        if entry["state"] == "absent":
            if os.path.lexists(entry["path"]):
                changed.append(entry["path"])
                diffs.append(removal_diff(entry["path"]))
                if not module.check_mode:
                    os.unlink(entry["path"])
            continue
        path, data = entry["path"], str(content_of(entry)).encode("utf-8")
        before = current(path)
        if before == data:
            if attributes(module, path, entry["mode"]):
                changed.append(path)
            continue
        secret = entry["secret_content"] is not None
        if entry["validate"] and not (module.check_mode and (changed or earlier_changed)):
            try:
                validate(module, path, entry["validate"], data, secret)
            except FeatureError as exc:
                raise FeatureError(str(exc), (changed, diffs)) from None
        changed.append(path)
        if before is None:
            created.append(path)
        diffs.append(secret_diff(path, before) if secret else text_diff(path, before, data))
        if not module.check_mode:
            make_parents(module, path, module.params["owner"], module.params["group"])
            write_atomic(module, path, data)
            attributes(module, path, entry["mode"])
    return changed, created, diffs


def known(systemctl: Systemctl, unit: str, on_disk: bool) -> bool:
    """Whether systemd knows the unit. One whose file is on disk (written by this run or before) is asked again
    after a daemon-reload: a slow guest's systemd (Debian 13's 257, under TCG) was seen answering not-found right
    after a reload, and once, after a reboot, for two units whose files had been there since long before."""
    if systemctl.known(unit):
        return True
    for delay in (0.5, 2.0) if on_disk else ():
        systemctl.run("daemon-reload")
        time.sleep(delay)
        if systemctl.known(unit):
            return True
    return False


def run_check(module: AnsibleModule, spec: dict) -> None:
    """The feature's check before its units (re)start: a failure leaves them running as they were."""
    if not spec["check"] or module.check_mode:
        return
    rc, out, err = module.run_command(shlex.split(spec["check"]))
    if rc != 0:
        raise FeatureError(
            f"{spec['name'] or 'the units'}: its check failed ({spec['check']}, rc {rc}), so its units were neither "
            f"enabled nor (re)started; its new files stay installed: {(err or out).strip() or 'no output'}"
        )


def run_units(module: AnsibleModule, systemctl: Systemctl, spec: dict, changed: list[str], created: list[str]) -> dict:
    """A present feature's units enabled and running (restarted when one of its files, or of the files its
    restart_on names, changed), after the reload."""
    unseen = new_units(created, spec["enabled"] + spec["started"]) if module.check_mode else set()
    on_disk = set() if module.check_mode else new_units(unit_files(spec), spec["enabled"] + spec["started"])
    missing, enabled, started = [], [], []
    for unit in dict.fromkeys(spec["enabled"] + spec["started"]):
        if unit not in unseen and not known(systemctl, unit, unit in on_disk):
            if not spec["optional"]:
                raise FeatureError(f"{unit}: systemd does not know this unit (no unit file was found)")
            missing.append(unit)
    to_start = [
        unit
        for unit in spec["started"]
        if unit not in missing and (changed or unit in unseen or systemctl.query("is-active", unit) != "active")
    ]
    if to_start:
        run_check(module, spec)  # before anything is enabled or (re)started
    for unit in spec["enabled"]:
        if unit not in missing and (unit in unseen or systemctl.query("is-enabled", unit) not in ENABLED):
            enabled.append(unit)
            if not module.check_mode:
                systemctl.run("enable", unit)
    for unit in to_start:
        started.append(unit)
        if not module.check_mode:
            systemctl.run("restart" if changed else "start", unit)
    return {"enabled_units": enabled, "started_units": started, "missing": missing}


def remove(module: AnsibleModule, systemctl: Systemctl, spec: dict) -> tuple[dict, list[dict]]:
    """An absent feature's units stopped and disabled and its files removed (the reload comes after)."""
    stopped, disabled = [], []
    removed = [entry["path"] for entry in spec["files"] if os.path.lexists(entry["path"])]
    # none of the files is there: nothing of this feature was installed (or it was removed already), and a feature
    # that is off costs no systemctl call on every run
    units = spec["started"] + spec["enabled"] if removed or not spec["files"] else []
    for unit in dict.fromkeys(units):
        if not systemctl.known(unit):
            continue
        if systemctl.query("is-active", unit) in ("active", "activating", "reloading"):
            stopped.append(unit)
            if not module.check_mode:
                systemctl.run("stop", unit)
        if unit in spec["enabled"] and systemctl.query("is-enabled", unit) in ("enabled", "enabled-runtime"):
            disabled.append(unit)
            if not module.check_mode:
                systemctl.run("disable", unit)
    if not module.check_mode:
        for path in removed:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    result = {"changed_files": removed, "enabled_units": disabled, "started_units": stopped, "missing": []}
    return result, [removal_diff(path) for path in removed]


def apply(module: AnsibleModule, systemctl: Systemctl, specs: list[dict]) -> dict:
    """Absent features removed, present features' files written, one reload, then their units enabled and started.
    A feature that fails stops the writing; what was written before it is still reloaded and its units started."""
    unsafe = unsafe_dirs([entry for spec in specs if spec["state"] == "present" for entry in spec["files"]])
    if unsafe:
        module.fail_json(
            msg=f"files: {', '.join(unsafe)} may be written by others than root (or its owner is not root); root "
            "runs what is installed there: make it root's and not writable by others first"
        )
    results, diffs, written, errors = {}, [], {}, []
    for spec in specs:
        if spec["state"] == "absent":
            results[spec["name"]], removal_diffs = remove(module, systemctl, spec)
            diffs += removal_diffs
    for spec in specs:
        if spec["state"] == "present" and not errors:
            # in check mode, a file that the feature runs (restart_on) and that would change makes its checks
            # unreliable, as an earlier file of its own does
            so_far = {path for changed, _created in written.values() for path in changed}
            earlier = any(path in so_far for path in spec["restart_on"])
            try:
                changed, created, file_diffs = write_files(module, spec["files"], earlier)
            except FeatureError as exc:
                # what it wrote before the failing file is still reloaded and reported, its units left alone
                errors.append(str(exc))
                partial, partial_diffs = exc.written
                results[spec["name"]] = {
                    "changed_files": partial,
                    "enabled_units": [],
                    "started_units": [],
                    "missing": [],
                }
                diffs += partial_diffs
                continue
            written[spec["name"]] = (changed, created)
            diffs += file_diffs
    # removed by absent features, or written by a feature before it failed
    removed_files = [path for result in results.values() for path in result["changed_files"]]
    written_files = [path for changed, _created in written.values() for path in changed]
    reloaded = reload_needed(removed_files + written_files, SYSTEMD_DIRS)
    if reloaded and not module.check_mode:
        systemctl.run("daemon-reload")
    for spec in specs:
        if spec["name"] in written:
            changed, created = written[spec["name"]]
            # another feature's file this one runs (its restart_on) changed: restart it as for its own
            watched = [path for path in spec["restart_on"] if path in written_files and path not in changed]
            try:
                units = run_units(module, systemctl, spec, changed + watched, created)
            except FeatureError as exc:
                errors.append(str(exc))
                units = {"enabled_units": [], "started_units": [], "missing": []}
            results[spec["name"]] = {"changed_files": changed, **units}
    for result in results.values():
        result["changed"] = bool(result["changed_files"] or result["enabled_units"] or result["started_units"])
    ordered = [results[spec["name"]] for spec in specs if spec["name"] in results]
    summary = {
        "changed": any(result["changed"] for result in ordered),
        "changed_files": [path for result in ordered for path in result["changed_files"]],
        "reloaded": reloaded,
        "enabled_units": [unit for result in ordered for unit in result["enabled_units"]],
        "started_units": [unit for result in ordered for unit in result["started_units"]],
        "missing": [unit for result in ordered for unit in result["missing"]],
        "diff": diffs,
    }
    if module.params["features"]:
        summary["features"] = results
    if errors:
        module.fail_json(msg="; ".join(errors), **summary)
    return summary


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **FEATURE_OPTIONS,
            "features": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"name": {"type": "str", "required": True}, **FEATURE_OPTIONS},
            },
            "owner": {"type": "str"},
            "group": {"type": "str"},
        },
        supports_check_mode=True,
    )
    errors = param_errors(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    module.exit_json(**apply(module, Systemctl(module), feature_specs(module.params)))


if __name__ == "__main__":
    main()
