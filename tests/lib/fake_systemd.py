"""A stand-in for systemctl on PATH, for the modules that install units and restart services.

systemd is not PID 1 on the machine the tests run on, so this small program keeps each unit's state in a JSON
file and logs every call; the real systemctl runs in the pair, receiver and kernel scenarios.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FAKE_SYSTEMCTL = r"""#!/usr/bin/python3
import json, os, sys
state_path = os.environ["FAKE_SYSTEMD_STATE"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {"units": {}, "calls": []}
args = sys.argv[1:]
state["calls"].append(args)
units = state["units"]
verb, unit = args[0], args[-1]
out, rc = "", 0
if verb == "show":
    prop = args[args.index("-p") + 1]
    if prop == "LoadState":
        out = "loaded" if unit in units else "not-found"
    else:
        out = str(units.get(unit, {}).get(prop, ""))
elif verb == "is-enabled":
    out = units.get(unit, {}).get("enabled", "disabled"); rc = 0 if out == "enabled" else 1
elif verb == "is-active":
    out = units.get(unit, {}).get("active", "inactive"); rc = 0 if out == "active" else 3
elif verb == "daemon-reload" and state.get("lazy", 0) > 0:
    state["lazy"] -= 1  # a slow systemd that does not see the new unit files yet
elif verb == "daemon-reload":
    for name in os.listdir(os.environ["FAKE_UNIT_DIR"]):
        units.setdefault(name, {})
    for name in [n for n in units if not units[n].get("host") and n not in os.listdir(os.environ["FAKE_UNIT_DIR"])]:
        del units[name]
elif unit not in units:
    print(f"Unit {unit} not found.", file=sys.stderr); rc = 5
elif verb == "enable":
    units[unit]["enabled"] = "enabled"
elif verb == "disable":
    units[unit]["enabled"] = "disabled"
elif verb in ("start", "restart") or (verb == "try-restart" and units[unit].get("active") == "active"):
    units[unit]["active"] = "active"
    if verb != "start":
        state.setdefault("restarts", {})[unit] = state.get("restarts", {}).get(unit, 0) + 1
elif verb == "stop":
    units[unit]["active"] = "inactive"
json.dump(state, open(state_path, "w"))
print(out)
sys.exit(rc)
"""


def install_fake_systemctl(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """The stand-in first on PATH; its state file and its unit directory (tmp_path/etc/systemd/system)."""
    bin_dir, unit_dir = tmp_path / "bin", tmp_path / "etc" / "systemd" / "system"
    bin_dir.mkdir()
    unit_dir.mkdir(parents=True)
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMD_STATE", str(tmp_path / "systemd.json"))
    monkeypatch.setenv("FAKE_UNIT_DIR", str(unit_dir))
    return tmp_path / "systemd.json", unit_dir


def state(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"units": {}, "calls": []}


def set_units(path: Path, units: dict) -> None:
    """Units the host has before the module runs (systemd's own or a package's: kept across daemon-reloads)."""
    current = state(path)
    current["units"].update({name: {"host": True, **unit} for name, unit in units.items()})
    path.write_text(json.dumps(current))
