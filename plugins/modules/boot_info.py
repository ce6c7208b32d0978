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
    (C(/sys/firmware/efi)), the kernels installed in O(boot) (each boots the command line the role writes), and the
    pstore records kept from earlier panics, each shipped to the friends or still pending.
  - One module run for what took five tasks (setup, two slurps, stat, find, and the shipper's C(--list)).
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
  pstore_dir:
    description: Where systemd-pstore moves the records after a boot (the shipper reads them there).
    type: path
    default: /var/lib/systemd/pstore
  pstore_shipped_dir:
    description: Where the pstore shipper marks each record it handed to the reliable channel (a file per id).
    type: path
    default: /var/lib/logswap-netconsole/pstore-shipped
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
pstore_records:
  description:
    - Every record in O(pstore_dir), oldest first, as the shipper names it (C(<UTC time>-<sha256 prefix>)),
      C(shipped) where O(pstore_shipped_dir) marks it and C(pending) otherwise; empty where there is none.
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 20261201T081500Z-0123456789ab, state: shipped, path: /var/lib/systemd/pstore/1764576900/dmesg-ramoops-0}
"""

import glob
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.pstoreship import PSTORE_DIR, STATE_DIR, find_records


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


def pstore_records(module: AnsibleModule, pstore_dir: str, shipped_dir: str) -> list[dict]:
    """The records and whether each was shipped (the shipper's --list, without making its state directory); one
    that cannot be read is left out with a warning, never failing the run."""
    try:
        shipped = set(os.listdir(shipped_dir))
    except OSError:
        shipped = set()
    unread: list[str] = []
    records = [
        {"id": rid, "state": "shipped" if rid in shipped else "pending", "path": path}
        for rid, path in find_records(pstore_dir, unread)
    ]
    for reason in unread:
        module.warn(f"pstore record not read, left out of pstore_records: {reason}")
    return records


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "boot": {"type": "path", "default": "/boot"},
            "config_options": {"type": "list", "elements": "str", "default": ["PSTORE", "EFI"]},
            "pstore_dir": {"type": "path", "default": PSTORE_DIR},
            "pstore_shipped_dir": {"type": "path", "default": STATE_DIR},
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
        pstore_records=pstore_records(module, module.params["pstore_dir"], module.params["pstore_shipped_dir"]),
    )


if __name__ == "__main__":
    main()
