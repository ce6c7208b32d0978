"""The sender's self-repair check against real network namespaces: what it finds again, and what it changes.

snd:s0 10.78.1.1 ---- rcv:e0 10.78.1.2 (on-link receiver)

The check runs as the host runs it: the files the role installs (the list in roles/sender/tasks/services.yml) in
the package layout it installs them in, started with ``python3 -I -c`` as repair.sh.j2 does, inside the sender's
namespace, so discovery is the real module_utils/discovery.py over netlink. This kernel has no configfs
netconsole, so the target is a directory of plain files (tests/unit/.../test_repair.py checks the writes against
the fake kernel's rules).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from logswap_testlib import MODULE_UTILS, ROOT, need_root, sh

PREFIX = "lsr" + uuid.uuid4().hex[:5]
SND, RCV = f"{PREFIX}-snd", f"{PREFIX}-rcv"
RECEIVER = "10.78.1.2"


def shipped_files() -> list[str]:
    """The module_utils the role installs on the host for the check."""
    tasks = yaml.safe_load((ROOT / "roles/sender/tasks/services.yml").read_text())
    return next(task for task in tasks if "logswap.netconsole.units" in task)["vars"]["__sender_repair_code"]


def mac_of(ns: str, dev: str) -> str:
    return sh("ip", "-n", ns, "-br", "link", "show", dev).stdout.split()[2].lower()


@pytest.fixture(scope="module")
def net():
    need_root()
    for ns in (SND, RCV):
        sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", f"{PREFIX}a", "type", "veth", "peer", "name", f"{PREFIX}b")
        sh("ip", "link", "set", f"{PREFIX}a", "netns", SND, "name", "s0")
        sh("ip", "link", "set", f"{PREFIX}b", "netns", RCV, "name", "e0")
        for ns, dev, cidr in ((SND, "s0", "10.78.1.1/24"), (RCV, "e0", f"{RECEIVER}/24")):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        yield
    finally:
        for ns in (SND, RCV):
            sh("ip", "netns", "del", ns, check=False)


@pytest.fixture
def host(tmp_path, net):
    """The installed check (package tree and configuration) and a live target that sends to the receiver."""
    package = tmp_path / "lib" / "ansible_collections" / "logswap" / "netconsole" / "plugins" / "module_utils"
    package.mkdir(parents=True)  # namespace packages, as the role installs them (no __init__.py)
    for name in shipped_files():
        shutil.copy(MODULE_UTILS / name, package / name)
    target = tmp_path / "netconsole" / "cmdline0"
    target.mkdir(parents=True)
    attributes = {
        "enabled": "1",
        "extended": "1",
        "dev_name": "s0",
        "local_port": "6665",
        "remote_port": "6666",
        "local_ip": "10.78.1.1",
        "remote_ip": RECEIVER,
        "local_mac": mac_of(SND, "s0"),
        "remote_mac": mac_of(RCV, "e0"),
    }
    for name, value in attributes.items():
        (target / name).write_text(value + "\n")
    config = {
        "targets": [{"name": "cmdline0", "remote_ip": RECEIVER, "variable": "sender_targets[0]"}],
        "timeout": 2,
        "confirm": 1,
        "holddown": 60,
        "level": 5,
        "kmsg": str(tmp_path / "kmsg"),
        "configfs": str(tmp_path / "netconsole"),
        "state": str(tmp_path / "run" / "repair-state.json"),
    }
    (tmp_path / "repair.json").write_text(json.dumps(config))
    return tmp_path


def run_check(host: Path) -> subprocess.CompletedProcess:
    """repair.sh.j2's command, in the sender's namespace."""
    code = (
        f"import sys; sys.path.insert(0, {str(host / 'lib')!r}); "
        "from ansible_collections.logswap.netconsole.plugins.module_utils import repair; sys.exit(repair.main())"
    )
    return subprocess.run(
        ["ip", "netns", "exec", SND, sys.executable, "-I", "-c", code, "--config", str(host / "repair.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def confirm_reachable() -> None:
    """Resolve the receiver afresh so the sender's entry is REACHABLE (with arp_notify off, the default, a MAC
    change sends no gratuitous ARP: the entry stays reachable with the old MAC for 15-45 s)."""
    sh("ip", "-n", SND, "neigh", "flush", "dev", "s0")
    send = f"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'', ({RECEIVER!r}, 9))"
    sh("ip", "netns", "exec", SND, sys.executable, "-c", send)
    deadline = time.monotonic() + 5
    while "REACHABLE" not in sh("ip", "-n", SND, "neigh", "show", RECEIVER, "dev", "s0").stdout:
        assert time.monotonic() < deadline, sh("ip", "-n", SND, "neigh").stdout
        time.sleep(0.05)


def live(host: Path, attribute: str) -> str:
    return (host / "netconsole" / "cmdline0" / attribute).read_text().strip()


def test_the_installed_files_import_and_check_their_configuration(host):
    code = (
        f"import sys; sys.path.insert(0, {str(host / 'lib')!r}); "
        "from ansible_collections.logswap.netconsole.plugins.module_utils import repair; sys.exit(repair.main())"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, "--check", "--config", str(host / "repair.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (host / "broken.json").write_text("{")
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, "--check", "--config", str(host / "broken.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "broken.json" in proc.stderr


def test_an_unchanged_next_hop_changes_nothing(host):
    before = live(host, "remote_mac")
    proc = run_check(host)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ok: cmdline0: as discovered (next hop {RECEIVER} on s0, {before})" in proc.stdout
    assert live(host, "remote_mac") == before and not (host / "kmsg").exists()


def test_a_replaced_receiver_nic_is_found_although_the_old_entry_is_still_reachable(host):
    old = live(host, "remote_mac")
    # the sender has just confirmed the old MAC: a plain lookup would take the reachable entry as it is
    confirm_reachable()
    new = "02:00:00:78:01:99"
    sh("ip", "-n", RCV, "link", "set", "dev", "e0", "address", new)
    try:
        proc = run_check(host)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"repaired: cmdline0: remote_mac {old} -> {new} (next hop {RECEIVER} on s0; seen twice" in proc.stdout
        assert live(host, "remote_mac") == new and live(host, "enabled") == "1"
        assert (
            (host / "kmsg").read_text().startswith(f"<5>logswap-netconsole-repair: cmdline0: remote_mac {old} -> {new}")
        )
        # the next run: nothing differs, nothing written
        (host / "kmsg").unlink()
        proc = run_check(host)
        assert "ok: cmdline0: as discovered" in proc.stdout and not (host / "kmsg").exists()
    finally:
        sh("ip", "-n", RCV, "link", "set", "dev", "e0", "address", old)


def test_a_next_hop_that_does_not_answer_changes_nothing(host):
    before = live(host, "remote_mac")
    sh("ip", "-n", RCV, "addr", "del", f"{RECEIVER}/24", "dev", "e0")
    try:
        proc = run_check(host)
    finally:
        sh("ip", "-n", RCV, "addr", "add", f"{RECEIVER}/24", "dev", "e0")
    assert proc.returncode == 1
    assert (
        "failed: cmdline0: the next hop could not be found, nothing changed: the MAC address of 10.78.1.2"
        in proc.stdout
    )
    assert "sender_targets[0].remote_mac" in proc.stdout
    assert live(host, "remote_mac") == before and not (host / "kmsg").exists()
