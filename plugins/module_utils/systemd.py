# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemctl as the modules that install units and configuration use it: asked, and told, one unit at a time;
a failure ends the module run naming the command and what systemctl said."""

from __future__ import annotations

import re
from typing import Any

UNIT = re.compile(r"[A-Za-z0-9:_.@-]{1,240}\.(service|timer|socket|path|target|mount)")
SYSTEMD_DIRS = ("/etc/systemd/", "/run/systemd/", "/usr/lib/systemd/", "/lib/systemd/")
# is-enabled states that need no `systemctl enable` (a unit without [Install] is static)
ENABLED = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"}


def reload_needed(paths: list[str], unit_dirs: tuple[str, ...] = SYSTEMD_DIRS) -> bool:
    """Whether a changed file is one systemd reads its units from (a script it runs is read afresh each time)."""
    return any(path.startswith(unit_dirs) for path in paths)


class Systemctl:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.binary = module.get_bin_path("systemctl", required=True)

    def query(self, verb: str, unit: str) -> str:
        return self.module.run_command([self.binary, verb, unit])[1].strip()

    def show(self, prop: str, unit: str) -> str:
        rc, out, err = self.module.run_command([self.binary, "show", "-p", prop, "--value", unit])
        if rc != 0:
            # not booted with systemd (a chroot, a container without it): say so rather than "no such unit"
            self.module.fail_json(msg=f"systemctl show {unit} failed (rc {rc}): {(err or out).strip()}")
        return out.strip()

    def known(self, unit: str) -> bool:
        return self.show("LoadState", unit) not in ("not-found", "")

    def run(self, *args: str) -> None:
        rc, out, err = self.module.run_command([self.binary, *args])
        if rc != 0:
            self.module.fail_json(msg=f"systemctl {' '.join(args)} failed (rc {rc}): {(err or out).strip()}")
