#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: target
short_description: Manage one live netconsole target in configfs
version_added: 0.1.0
description:
  - Creates, updates or removes one netconsole target under C(/sys/kernel/config/netconsole).
  - Loads C(configfs) and C(netconsole) and mounts configfs when needed.
  - Reads every attribute first. Only when one differs does it disable the target, write every differing
    attribute and enable it again, because the kernel refuses writes to an enabled target.
  - When the kernel refuses a write or the enable, the module writes the previous attributes back and enables
    the target again if it was enabled (a target it had just created is removed), then fails with the kernel's
    reason (errno and what it means, e.g. C(EBUSY) for an interface that is a bridge or bond port) and what it
    restored. A refused change never leaves a target that was logging switched off, unless the restore itself
    is refused, which the message then says.
  - Name live targets C(cmdline0), C(cmdline1), ... in the order of the kernel command line. From Linux 6.7 the
    kernel attaches such a directory to the target it created from the command line, so after a reboot the same
    target is managed instead of a duplicate; attaching a target that already runs as wanted is not a change.
    On older kernels a command line target is invisible in configfs;
    when the command line already carries exactly the wanted target, the module creates nothing
    (a second target would send every line twice) and says so.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  name:
    description: Name of the target directory in configfs.
    type: str
    required: true
  state:
    description: Whether the target exists.
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description: Whether the target sends.
    type: bool
    default: true
  dev_name:
    description: Interface to send on. Left to the kernel (C(eth0)) when not given.
    type: str
  local_ip:
    description: Source address. When not given the kernel takes the interface's address.
    type: str
  local_port:
    description: Source UDP port.
    type: int
    default: 6665
  remote_ip:
    description: Receiver address, IPv4 or IPv6. Required with O(state=present).
    type: str
  remote_port:
    description: Receiver UDP port.
    type: int
    default: 6666
  remote_mac:
    description:
      - MAC the frames are sent to, the receiver's when on-link, the gateway's when routed
        (see M(logswap.netconsole.nexthop_info)). The kernel's default is broadcast.
    type: str
  extended:
    description: Send the extended format (level, sequence number, timestamp, dictionary).
    type: bool
    default: false
  release:
    description:
      - Prepend the kernel release to every message. Needs O(extended=true) and a kernel with the
        C(release) attribute (Linux 6.6 and later); fails before any change otherwise.
    type: bool
    default: false
  userdata:
    description:
      - Key/value pairs appended to every extended message (Linux 6.9 and later). Keys not listed are removed.
        Not managed when not given.
      - On a kernel without userdata the module fails before any change, or with O(missing=skip) leaves it out
        and reports it in C(features.lacking).
    type: dict
  sysdata:
    description:
      - Lines the kernel itself appends to every extended message, by feature, V(true) on and V(false) off; a
        feature not named is left as it is. The module switches only what the live target directory offers
        (the files C(userdata/cpu_nr_enabled), C(userdata/taskname_enabled), C(userdata/release_enabled),
        C(userdata/msgid_enabled); Linux 6.15 and later, C(msgid) later still); see O(missing) for the rest.
      - C(msgid) numbers every datagram of this target, so a gap at the receiver is a datagram lost on the way.
        C(cpu_nr) and C(taskname) name the CPU and the task that printed the line.
    type: dict
    suboptions:
      cpu_nr:
        description: C(cpu=<n>) on every message.
        type: bool
      taskname:
        description: C(taskname=<comm>) on every message.
        type: bool
      release:
        description: C(release=<kernel release>) on every message (as a dictionary line, unlike O(release)).
        type: bool
      msgid:
        description: C(msgid=<n>), a per-target message counter.
        type: bool
  missing:
    description:
      - What to do when O(userdata) or a O(sysdata) feature switched on is not offered by this kernel.
      - V(fail) fails before any change, naming the feature. V(skip) leaves it out and reports it in
        C(features.lacking), so one playbook serves every kernel. O(release) always fails where it is missing,
        because it is on the kernel command line too.
    type: str
    choices: [fail, skip]
    default: fail
  counter_dir:
    description:
      - Directory in which the module keeps each target's C(transmit_errors) of the previous run (a file named
        after the target), to report the change since then. A tmpfs such as C(/run) suits it, as the kernel's counter
        starts at 0 at every boot too. Nothing is kept when not given; nothing is written in check mode.
      - Keeping this note is not a change of the host's configuration, so it never makes the task changed.
    type: path
  when_unsupported:
    description:
      - What to do when the running kernel has no netconsole or configfs (a container, a kernel built without
        C(CONFIG_NETCONSOLE_DYNAMIC)).
      - V(fail) fails the task. V(skip) reports C(live=false) with a warning and changes nothing.
    type: str
    choices: [fail, skip]
    default: fail
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Netconsole only logs through Ethernet devices with netpoll support; the kernel refuses to enable a target on
    other devices (C(ENOTSUPP)), on an interface enslaved to a bridge or bond (C(EBUSY)) or on one that does not
    exist (C(ENODEV)), and the module then shows the kernel's reason after restoring the previous target.
seealso:
  - module: logswap.netconsole.nexthop_info
  - name: Kernel documentation on netconsole
    description: Parameters, configfs attributes and the extended format.
    link: https://www.kernel.org/doc/html/latest/networking/netconsole.html
"""

EXAMPLES = r"""
- name: Find the next hop
  logswap.netconsole.nexthop_info:
    destination: 203.0.113.2
  register: hop

- name: Log to the friend's receiver, live
  logswap.netconsole.target:
    name: cmdline0
    dev_name: "{{ hop.interface }}"
    local_ip: "{{ hop.source }}"
    remote_ip: 203.0.113.2
    remote_mac: "{{ hop.remote_mac }}"
    extended: true
    userdata:
      host: zkj
    sysdata:
      msgid: true
    missing: skip  # one task for every kernel: what this one lacks is reported in features.lacking
    counter_dir: /run/logswap-netconsole

- name: Stop logging to an old receiver
  logswap.netconsole.target:
    name: cmdline1
    state: absent
"""

RETURN = r"""
live:
  description: Whether a live target could be managed (false where the kernel has no netconsole/configfs).
  returned: always
  type: bool
  sample: true
name:
  description: The target's name in configfs.
  returned: always
  type: str
  sample: cmdline0
target:
  description: Attributes of the target after the task (as in configfs; C(userdata.KEY) for userdata).
  returned: when O(state=present) and live
  type: dict
  sample: {"dev_name": "eth0", "enabled": "1", "extended": "1", "local_ip": "198.51.100.1",
           "local_mac": "52:54:00:12:34:56", "local_port": "6665", "remote_ip": "203.0.113.2",
           "remote_mac": "00:1d:d4:e2:43:01", "remote_port": "6666"}
features:
  description:
    - What the live target offers and what the task switched on, read from its files, not from the kernel version.
    - C(offered) lists C(release), C(userdata), C(transmit_errors) and C(sysdata.<name>) as present;
      C(enabled) what the friend's receiver gets (C(extended), C(release), C(userdata.<key>), C(sysdata.<name>));
      C(lacking) maps what was asked for but is missing to the first kernel that has it; C(unsent) what is set but
      travels only in extended messages while O(extended=false).
  returned: when O(state=present) and live (empty for a target check mode would create)
  type: dict
  sample: {"offered": ["release", "userdata", "transmit_errors", "sysdata.cpu_nr", "sysdata.msgid"],
           "enabled": ["extended", "userdata.host", "sysdata.msgid"], "lacking": {}, "unsent": []}
transmit_errors:
  description:
    - The target's C(transmit_errors) counter (Linux 6.13 and later; datagrams the kernel could not send), the value
      kept at the previous run (O(counter_dir)), the change, and C(reset) when the counter went down (the target
      was made again, e.g. after a reboot; the change is then what was counted since).
  returned: when O(state=present) and live
  type: dict
  sample: {"transmit_errors": 3, "previous": 1, "change": 2, "reset": false}
summary:
  description: One line for the run's output - what is on, what this kernel lacks, the counter and its change.
  returned: when O(state=present) and live
  type: str
  sample: "cmdline0: on: extended, userdata.host, sysdata.msgid; transmit_errors 0 (+0 since the last run)"
configfs_targets:
  description:
    - The names of every target in configfs after this run (in check mode, as they are now), sorted; empty where
      there is no configfs. The sender role removes the targets of earlier runs beyond its list from it.
  returned: always
  type: list
  elements: str
  sample: [cmdline0, cmdline1]
from_cmdline:
  description:
    - True when the target is the one the kernel command line started, either attached (Linux 6.7+) or, on older
      kernels, left alone because the command line already runs exactly the wanted target.
  returned: always
  type: bool
  sample: false
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import parameter_from_cmdline
from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import (
    CONFIGFS_ROOT,
    ConfigfsStore,
    TargetReconciler,
    desired_attributes,
    format_state,
    read_counter_note,
    validate_userdata,
    write_counter_note,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.features import counter_change, features_summary
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    Target,
    kernel_takes_over_cmdline_targets,
    parse_parameter,
    validate_target_name,
)

CONFIGFS_MOUNT = os.path.dirname(CONFIGFS_ROOT)


PROC_CMDLINE = "/proc/cmdline"  # the running kernel's command line (a unit test points it at a file)


def is_mounted(path: str) -> bool:
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        return any(line.split()[1] == path for line in handle if len(line.split()) > 2)


def load_netconsole(module: AnsibleModule) -> str | None:
    """Make /sys/kernel/config/netconsole appear; return why not, or None on success."""
    if os.path.isdir(CONFIGFS_ROOT):
        return None
    modprobe = module.get_bin_path("modprobe")
    if not modprobe:
        return "modprobe is not installed"
    for kernel_module in ("configfs", "netconsole"):
        dry_run = module.run_command([modprobe, "-n", kernel_module])
        if dry_run[0] != 0 and not os.path.isdir(f"/sys/module/{kernel_module}"):
            return f"the running kernel has no {kernel_module} module ({dry_run[2].strip()})"
    if module.check_mode:
        return None
    module.run_command([modprobe, "configfs"], check_rc=False)
    if os.path.isdir(CONFIGFS_MOUNT) and not is_mounted(CONFIGFS_MOUNT):
        rc, _out, err = module.run_command(["mount", "-t", "configfs", "none", CONFIGFS_MOUNT])
        if rc != 0:
            return f"configfs could not be mounted on {CONFIGFS_MOUNT}: {err.strip()}"
    rc, _out, err = module.run_command([modprobe, "netconsole"])
    if rc != 0:
        return f"modprobe netconsole failed: {err.strip()}"
    if not os.path.isdir(CONFIGFS_ROOT):
        return f"{CONFIGFS_ROOT} is missing: the kernel's netconsole lacks CONFIG_NETCONSOLE_DYNAMIC"
    return None


def running_from_cmdline(name: str, wanted: Target) -> bool:
    """Did the kernel command line start exactly the wanted (checked) target under this name (cmdlineN)?"""
    if not name.startswith("cmdline") or not name[len("cmdline") :].isdigit():
        return False
    with open(PROC_CMDLINE, encoding="utf-8") as handle:
        value = parameter_from_cmdline(handle.read())
    if not value:
        return False
    try:
        booted = parse_parameter(value)
    except NetconsoleError:
        return False
    index = int(name[len("cmdline") :])
    return index < len(booted) and booted[index] == wanted


def build_target(params: dict) -> Target:
    if not params["remote_ip"]:
        raise NetconsoleError("remote_ip: required with state=present")
    return Target(
        remote_ip=params["remote_ip"],
        local_ip=params["local_ip"],
        dev_name=params["dev_name"],
        local_port=params["local_port"],
        remote_port=params["remote_port"],
        remote_mac=params["remote_mac"],
        extended=params["extended"],
        release=params["release"],
        variable="target",
    ).validated()


def report_features(module: AnsibleModule, reconciler: TargetReconciler, name: str) -> dict:
    """features, transmit_errors (and its change since the note of the previous run) and the summary line."""
    plan = reconciler.plan
    if not reconciler.store.exists(name):  # check mode, a target not made yet
        return {
            "features": {},
            "transmit_errors": counter_change(None, None),
            "summary": features_summary(name, None, None),
        }
    current = reconciler.store.counter(name, "transmit_errors")
    counter_dir = module.params["counter_dir"]
    counter = counter_change(read_counter_note(counter_dir, name), current)
    if current is not None and not module.check_mode:
        write_counter_note(counter_dir, name, current)
    features = dict(plan.report() if plan else {}, offered=reconciler.offered().names())
    return {"features": features, "transmit_errors": counter, "summary": features_summary(name, plan, counter)}


def finish(module: AnsibleModule, result: dict, store: ConfigfsStore | None = None) -> None:
    """Exit with the result and every target now in configfs (one listing instead of a find task per host); none
    where configfs was not reached."""
    module.exit_json(configfs_targets=store.names() if store is not None else [], **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "enabled": {"type": "bool", "default": True},
            "dev_name": {"type": "str"},
            "local_ip": {"type": "str"},
            "local_port": {"type": "int", "default": 6665},
            "remote_ip": {"type": "str"},
            "remote_port": {"type": "int", "default": 6666},
            "remote_mac": {"type": "str"},
            "extended": {"type": "bool", "default": False},
            "release": {"type": "bool", "default": False},
            "userdata": {"type": "dict"},
            "sysdata": {
                "type": "dict",
                "options": {key: {"type": "bool"} for key in ("cpu_nr", "taskname", "release", "msgid")},
            },
            "missing": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
            "counter_dir": {"type": "path"},
            "when_unsupported": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = {"changed": False, "live": False, "name": params["name"], "from_cmdline": False}
    try:
        name = validate_target_name(params["name"], "name")
        present = params["state"] == "present"
        wanted = build_target(params) if present else None
        userdata = validate_userdata(params["userdata"]) if params["userdata"] is not None else None
    except NetconsoleError as exc:
        module.fail_json(msg=str(exc), **result)

    reason = load_netconsole(module)
    if reason:
        message = f"netconsole target {name} not managed live: {reason}"
        if params["when_unsupported"] == "fail":
            module.fail_json(msg=message, **result)
        module.warn(message)
        finish(module, dict(result, msg=message))
    result["live"] = True
    if not os.path.isdir(CONFIGFS_ROOT):  # check mode before the modules are loaded
        result.update(changed=present, msg=f"would load netconsole and create target {name}")
        finish(module, result)

    reconciler = TargetReconciler(ConfigfsStore(), name, check_mode=module.check_mode)
    try:
        if not present:
            changed, before = reconciler.absent()
            result.update(changed=changed, diff={"before": format_state(before), "after": ""})
            finish(module, result, reconciler.store)
        release = os.uname().release
        takes_over = kernel_takes_over_cmdline_targets(release)
        # A command line target is invisible in configfs until mkdir attaches it (6.7+) or for good (before 6.7).
        if not reconciler.store.exists(name) and running_from_cmdline(name, wanted):
            if not takes_over:
                result.update(
                    from_cmdline=True,
                    msg=f"the kernel command line already runs this target; this kernel ({release}) "
                    f"cannot show it in configfs, so {name} is not created twice",
                )
                finish(module, result, reconciler.store)
            if module.check_mode:
                result.update(
                    from_cmdline=True,
                    msg=f"the kernel command line already runs this target; {name} would be attached to it as is",
                )
                finish(module, result, reconciler.store)
        sysdata = {k: v for k, v in (params["sysdata"] or {}).items() if v is not None}
        changed, before, after = reconciler.present(
            desired_attributes(wanted),
            enabled=params["enabled"],
            userdata=userdata,
            sysdata=sysdata or None,
            missing=params["missing"],
        )
        if reconciler.adopted:
            result.update(
                from_cmdline=True,
                msg=f"attached {name} to the target the kernel command line started"
                + ("; changed what differed" if changed else "; it already ran as wanted"),
            )
    except NetconsoleError as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(
        changed=changed,
        target=after,
        diff={"before": format_state(before), "after": format_state(after)},
    )
    result.update(report_features(module, reconciler, name))
    finish(module, result, reconciler.store)


if __name__ == "__main__":
    main()
