#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: boot_info
short_description: What a host boots, read in one run before the kernel command line is chosen
version_added: 0.1.0
description:
  - Reads, and changes nothing, what the sender role's choice of the kernel command line depends on. The running
    kernel's release and the command line it booted with (C(/proc/cmdline)), the options of its configuration
    (C(/boot/config-<release>)) that name pstore backends, whether the host booted with UEFI
    (C(/sys/firmware/efi)), and the kernels installed in O(boot) (each boots the command line the role writes).
  - One module run for what took four tasks (setup, two slurps, stat, find).
author:
  - logswap.netconsole maintainers (@logswap)
options:
  boot:
    description: Where the kernels and their configurations are installed.
    type: path
    default: /boot
  config_options:
    description:
      - Prefixes of the kernel configuration options returned in RV(config) (without C(CONFIG_)); the rest of the
        file, some thousand lines, is left out of the result.
    type: list
    elements: str
    default: [PSTORE, EFI]
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: logswap.netconsole.boot_sync
"""

EXAMPLES = r"""
- name: Read what this host boots
  logswap.netconsole.boot_info:
  register: boot

- name: Say whether the running kernel has ramoops
  ansible.builtin.debug:
    msg: "{{ 'CONFIG_PSTORE_RAM=' in boot.config }}"
"""

RETURN = r"""
release:
  description: The running kernel's release (C(uname -r)).
  returned: always
  type: str
  sample: 6.1.0-28-amd64
cmdline:
  description: The command line the running kernel booted with, as C(/proc/cmdline) has it (no trailing newline).
  returned: always
  type: str
  sample: BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=/dev/vda1 ro netconsole=@/eth0,6666@192.0.2.2/
config:
  description:
    - The lines of the running kernel's configuration that set an option named in O(config_options), with a first
      comment line naming the file; empty where the file could not be read.
  returned: always
  type: str
  sample: "# /boot/config-6.1.0-28-amd64\nCONFIG_PSTORE=y\nCONFIG_PSTORE_RAM=m\n"
efi:
  description: Whether the host booted with UEFI.
  returned: always
  type: bool
kernels:
  description: The kernel images installed in O(boot) (C(vmlinuz-*)), sorted.
  returned: always
  type: list
  elements: str
  sample: [/boot/vmlinuz-6.1.0-28-amd64]
"""

import glob
import os
import re

from ansible.module_utils.basic import AnsibleModule


def read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def config_lines(path: str, prefixes: list[str]) -> str:
    """The file's CONFIG_<prefix>... lines (set or "is not set"), after a comment naming it; '' if unreadable."""
    text = read(path)
    if text is None:
        return ""
    names = "|".join(map(re.escape, prefixes))
    wanted = re.compile(rf"^(# )?CONFIG_({names})\w*[= ]")
    return "".join([f"# {path}\n", *(line + "\n" for line in text.splitlines() if wanted.match(line))])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "boot": {"type": "path", "default": "/boot"},
            "config_options": {"type": "list", "elements": "str", "default": ["PSTORE", "EFI"]},
        },
        supports_check_mode=True,
    )
    boot, prefixes = module.params["boot"].rstrip("/") or "/", module.params["config_options"]
    bad = [prefix for prefix in prefixes if not re.fullmatch(r"[A-Z0-9_]+", prefix)]
    if bad:
        module.fail_json(msg=f"config_options: {', '.join(map(repr, bad))} is not an option name prefix (A-Z, 0-9, _)")
    release = os.uname().release
    module.exit_json(
        changed=False,
        release=release,
        cmdline=(read("/proc/cmdline") or "").rstrip("\n"),
        config=config_lines(os.path.join(boot, f"config-{release}"), prefixes),
        efi=os.path.isdir("/sys/firmware/efi"),
        kernels=sorted(glob.glob(os.path.join(glob.escape(boot), "vmlinuz-*"))),
    )


if __name__ == "__main__":
    main()
