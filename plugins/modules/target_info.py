#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: target_info
short_description: Read the netconsole targets in configfs, with their transmit errors since the last sender run
version_added: 0.1.0
description:
  - Lists every netconsole target under C(/sys/kernel/config/netconsole) as the kernel shows it, read through the
    same code as M(logswap.netconsole.target) reads it.
  - Changes nothing, loads no kernel module; where configfs has no netconsole directory (a container, a kernel
    without netconsole, command line targets of kernels before 6.7) the list is empty.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  counter_dir:
    description:
      - The directory in which M(logswap.netconsole.target) keeps each target's C(transmit_errors) of its previous
        run (its O(logswap.netconsole.target#module:counter_dir)); the change since then is reported.
      - This module only reads it.
    type: path
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: logswap.netconsole.target
"""

EXAMPLES = r"""
- name: Read the live targets and their transmit errors since the sender role's last run
  logswap.netconsole.target_info:
    counter_dir: /run/logswap-netconsole
  register: live
"""

RETURN = r"""
targets:
  description: Each target in configfs, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The target's directory name (V(cmdline0) for one the kernel command line started).
      type: str
    enabled:
      description: Whether the target sends.
      type: bool
    state:
      description: Every attribute as the kernel shows it (addresses and MACs normalized, booleans V(0)/V(1)).
      type: dict
    transmit_errors:
      description:
        - The C(transmit_errors) counter (Linux 6.13+; null before), its value at the sender role's previous run,
          the change and whether the counter was reset since.
      type: dict
  sample:
    - name: cmdline0
      enabled: true
      state: {dev_name: eth0, enabled: "1", local_ip: 10.0.0.1, remote_ip: 10.0.0.2, remote_port: "6666"}
      transmit_errors: {transmit_errors: 0, previous: 0, change: 0, reset: false}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import ConfigfsStore, live_targets


def main() -> None:
    module = AnsibleModule(argument_spec={"counter_dir": {"type": "path"}}, supports_check_mode=True)
    try:
        targets = live_targets(ConfigfsStore(), module.params["counter_dir"])
    except OSError as exc:
        module.fail_json(msg=f"could not read {exc.filename or 'configfs'}: {exc.strerror}")
    module.exit_json(changed=False, targets=targets)


if __name__ == "__main__":
    main()
