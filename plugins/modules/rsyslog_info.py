#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rsyslog_info
short_description: What a host's rsyslog can do with the kernel log, before its configuration is written
version_added: 0.1.0
description:
  - Reads, and changes nothing, what the reliable channel's configuration depends on; the sender role renders its
    drop-in from it. rsyslogd's version (imkmsg takes C(readMode) from 8.2312), whether the host has its own
    C(/dev/kmsg) (a container shares its host's kernel and has none), whether rsyslog's main configuration loads
    imklog (so the host's own logs take the kernel log from rsyslog), and whether rsyslog's unit gives rsyslogd a
    C(/dev) of its own (C(PrivateDevices), where imkmsg cannot open C(/dev/kmsg) without a drop-in).
  - One module run for what took seven tasks (stat, two commands, slurp, three set_fact).
author:
  - logswap.netconsole maintainers (@logswap)
options:
  config:
    description: rsyslog's main configuration.
    type: path
    default: /etc/rsyslog.conf
  mark:
    description:
      - The text that M(logswap.netconsole.rsyslog_config) ends the imklog lines it comments out with; such a
        line counts as loading imklog (the host's own logs took the kernel log from rsyslog before).
    type: str
    default: ""
  service:
    description: rsyslog's systemd unit.
    type: str
    default: rsyslog.service
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: logswap.netconsole.rsyslog_config
"""

EXAMPLES = r"""
- name: Read what this host's rsyslog can do with the kernel log
  logswap.netconsole.rsyslog_info:
    mark: "  # logswap.netconsole: the kernel log is read by imkmsg (reliable channel)"
  register: rsyslog
"""

RETURN = r"""
version:
  description: rsyslogd's version; null where rsyslogd is not installed or said none.
  returned: always
  type: str
  sample: 8.2302.0
imkmsg_read_mode:
  description: Whether imkmsg takes the C(readMode) parameter (rsyslog 8.2312 and later).
  returned: always
  type: bool
kmsg:
  description: Whether this host has C(/dev/kmsg), a kernel log of its own.
  returned: always
  type: bool
loads_imklog:
  description: Whether the main configuration loads imklog (or loaded it before the reliable channel took it over).
  returned: always
  type: bool
private_devices:
  description: Whether rsyslog's unit runs rsyslogd with C(PrivateDevices=yes); false without systemd.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.rsyslogconf import (
    loads_imklog,
    version,
    version_at_least,
)

READ_MODE_SINCE = "8.2312"


def rsyslogd_version(module: AnsibleModule) -> str | None:
    binary = module.get_bin_path("rsyslogd", opt_dirs=["/usr/sbin", "/sbin"])
    if binary is None:
        return None
    return version(module.run_command([binary, "-v"])[1])


def private_devices(module: AnsibleModule, service: str) -> bool:
    systemctl = module.get_bin_path("systemctl")
    if systemctl is None:
        return False
    rc, out, _err = module.run_command([systemctl, "show", "--property=PrivateDevices", "--value", service])
    return rc == 0 and out.strip() == "yes"


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/rsyslog.conf"},
            "mark": {"type": "str", "default": ""},
            "service": {"type": "str", "default": "rsyslog.service"},
        },
        supports_check_mode=True,
    )
    params = module.params
    found = rsyslogd_version(module)
    text = ""
    if os.path.isfile(params["config"]):
        with open(params["config"], encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    module.exit_json(
        changed=False,
        version=found,
        imkmsg_read_mode=version_at_least(found, READ_MODE_SINCE),
        kmsg=os.path.exists("/dev/kmsg"),
        loads_imklog=loads_imklog(text, params["mark"]),
        private_devices=private_devices(module, params["service"]),
    )


if __name__ == "__main__":
    main()
