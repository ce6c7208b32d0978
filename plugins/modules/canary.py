#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: canary
short_description: Emit a unique kernel log line (or, without netconsole, its datagram) to prove delivery
version_added: 0.1.0
description:
  - With O(method=kmsg) the line is written to C(/dev/kmsg) at O(level); the kernel sends it to every enabled
    netconsole target, exactly as it would send a panic.
  - With O(method=udp) the module sends the datagram netconsole would send, from O(targets[].local_ip) and
    O(targets[].local_port) to O(targets[].remote_ip) and O(targets[].remote_port). This B(emulates) netconsole
    where the kernel cannot run it (a container); the result says so.
  - V(auto) picks V(kmsg) when an enabled netconsole target exists in configfs, V(udp) otherwise.
    Never writes to C(/dev/kmsg) without a live target (in a container that is the host's kernel log).
  - In check mode nothing is sent.
author:
  - logswap.netconsole maintainers (@logswap)
options:
  text:
    description: The line, one line of at most 900 characters (C(/dev/kmsg) refuses longer writes).
    type: str
    required: true
  level:
    description: Kernel log level of the line (0 emergency .. 7 debug); it must be below the console log level.
    type: int
    default: 4
  method:
    description: How to emit the line.
    type: str
    choices: [auto, kmsg, udp]
    default: auto
  targets:
    description: Where netconsole sends; used by O(method=udp).
    type: list
    elements: dict
    default: []
    suboptions:
      local_ip:
        description: Source address.
        type: str
        required: true
      local_port:
        description: Source port.
        type: int
        default: 6665
      remote_ip:
        description: Receiver address.
        type: str
        required: true
      remote_port:
        description: Receiver port.
        type: int
        default: 6666
      extended:
        description: Send in netconsole's extended format.
        type: bool
        default: false
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Emit a canary through the kernel
  logswap.netconsole.canary:
    text: "logswap-canary {{ 999999 | random }}"
  register: canary
"""

RETURN = r"""
method:
  description: How the line was emitted, V(kmsg) or V(udp).
  returned: always
  type: str
  sample: kmsg
emulated:
  description: True when the datagram was sent by this module instead of the kernel's netconsole.
  returned: always
  type: bool
  sample: false
sent_at:
  description: Seconds since the epoch when the line was emitted.
  returned: always
  type: float
  sample: 1795417300.123456
"""

import os
import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.configfs import ConfigfsStore

MAX_TEXT = 900


def live_target_exists() -> bool:
    store = ConfigfsStore()
    return any(store.enabled(name) for name in store.targets())


def in_container() -> bool:
    """/proc/cmdline and /dev/kmsg in a container belong to the host's kernel."""
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    try:
        with open("/proc/1/environ", "rb") as handle:
            return b"container=" in handle.read()
    except OSError:
        return False


def cmdline_has_netconsole() -> bool:
    """A command line target on kernels before 6.7 is live but not visible in configfs."""
    with open("/proc/cmdline", encoding="utf-8") as handle:
        return "netconsole=" in handle.read() and not in_container()


def datagram(text: str, level: int, extended: bool) -> bytes:
    """What netconsole would put on the wire for the line."""
    uptime = time.monotonic()
    if extended:
        return f"{level},0,{int(uptime * 1e6)},-;{text}\n".encode()
    return f"[{uptime:12.6f}] {text}\n".encode()


def send_udp(targets: list[dict], text: str, level: int) -> None:
    for target in targets:
        family = socket.AF_INET6 if ":" in target["remote_ip"] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((target["local_ip"], target["local_port"]))
            sock.sendto(datagram(text, level, target["extended"]), (target["remote_ip"], target["remote_port"]))


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "text": {"type": "str", "required": True},
            "level": {"type": "int", "default": 4},
            "method": {"type": "str", "choices": ["auto", "kmsg", "udp"], "default": "auto"},
            "targets": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "local_ip": {"type": "str", "required": True},
                    "local_port": {"type": "int", "default": 6665},
                    "remote_ip": {"type": "str", "required": True},
                    "remote_port": {"type": "int", "default": 6666},
                    "extended": {"type": "bool", "default": False},
                },
            },
        },
        supports_check_mode=True,
    )
    params = module.params
    text, level = params["text"], params["level"]
    if "\n" in text or len(text) > MAX_TEXT:
        module.fail_json(msg=f"text: one line of at most {MAX_TEXT} characters, got {len(text)}")
    if not 0 <= level <= 7:
        module.fail_json(msg=f"level: {level} is not a kernel log level (0-7)")
    method = params["method"]
    if method == "auto":
        method = "kmsg" if live_target_exists() or cmdline_has_netconsole() else "udp"
    if method == "udp" and not params["targets"]:
        module.fail_json(msg="targets: method udp needs the targets to emulate")
    result = {"changed": False, "method": method, "emulated": method == "udp", "sent_at": time.time()}
    if module.check_mode:
        module.exit_json(**result)
    if method == "kmsg":
        with open("/dev/kmsg", "w", encoding="utf-8") as kmsg:
            kmsg.write(f"<{level}>{text}\n")
    else:
        send_udp(params["targets"], text, level)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
