"""Fixtures for integration tests that need root: network namespaces and module runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
MODULES = ROOT / "plugins" / "modules"
MODULE_UTILS = ROOT / "plugins" / "module_utils"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: creates network namespaces, mounts and services")


def run_module(name: str, args: dict, netns: str | None = None, check_mode: bool = False) -> dict:
    """Run one of the collection's modules the way Ansible does (args file), in a namespace."""
    module_args = dict(args, _ansible_check_mode=check_mode)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
    prefix = ["ip", "netns", "exec", netns] if netns else []
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    proc = subprocess.run(
        [*prefix, sys.executable, str(MODULES / f"{name}.py"), handle.name],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    os.unlink(handle.name)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"module {name} printed no JSON: {proc.stdout}\n{proc.stderr}") from None


@contextmanager
def loop_filesystem(tmp_path: Path, mkfs: list[str], options: str, size: str = "128M") -> Iterator[tuple[Path, Path]]:
    """A filesystem made by ``mkfs`` in an image file, loop-mounted with ``options``: (image, mount point)."""
    need_root()
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    sh("truncate", "-s", size, str(image))
    sh(*mkfs, str(image))
    try:
        sh("mount", "-o", f"loop,{options}", str(image), str(mnt))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"loop mounts unavailable here: {exc.stderr.strip()}")
    try:
        yield image, mnt
    finally:
        sh("umount", str(mnt), check=False)


def need_program(path: str, package: str) -> None:
    """Fail, not skip: under make test everything make setup installs must be there."""
    if not Path(path).exists():
        pytest.fail(f"{path} is missing (make setup installs {package})")


def render_receiver(extra: dict) -> None:
    """Render the receiver role's templates through its own check (tests/lib/render_receiver.yml)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    playbook = str(ROOT / "tests" / "lib" / "render_receiver.yml")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", playbook, "-e", json.dumps(extra)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def make_namespaces(*namespaces: str) -> None:
    """Network namespaces made afresh (a leftover of an interrupted run is removed first), loopback up."""
    remove_namespaces(*namespaces)
    for ns in namespaces:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def remove_namespaces(*namespaces: str) -> None:
    for ns in namespaces:
        sh("ip", "netns", "del", ns, check=False)


def link_namespaces(a: tuple[str, str, list[str]], b: tuple[str, str, list[str]]) -> None:
    """A veth pair between two namespaces: (namespace, device, [address/len, ...]) for each end, up.

    IPv6 addresses without duplicate address detection, so they are usable at once.
    """
    sh("ip", "link", "add", a[1], "netns", a[0], "type", "veth", "peer", "name", b[1], "netns", b[0])
    for ns, dev, addresses in (a, b):
        for address in addresses:
            sh("ip", "-n", ns, "addr", "add", address, "dev", dev, *(["nodad"] if ":" in address else []))
        sh("ip", "-n", ns, "link", "set", dev, "up")


@contextmanager
def veth_namespaces(prefix: str, tx_addresses: list[str], rx_addresses: list[str]) -> Iterator[tuple[str, str]]:
    """Two namespaces ``<prefix>-tx`` and ``<prefix>-rx`` joined by a veth pair (``<prefix>t``, ``<prefix>r``)
    with the given ``address/len`` each; removed afterwards."""
    tx, rx = f"{prefix}-tx", f"{prefix}-rx"
    make_namespaces(tx, rx)
    try:
        link_namespaces((tx, f"{prefix}t", tx_addresses), (rx, f"{prefix}r", rx_addresses))
        yield tx, rx
    finally:
        remove_namespaces(tx, rx)


def relp_test_input(numbers: str, ruleset: str = "logswap_relp_test") -> str:
    """An rsyslog file input bound to the sender role's forwarding ruleset, in place of the kernel's log.

    The kernel input cannot run in a container or a namespace (it would read this machine's kernel log), so the
    tests (integration, the reliable scenario) and bench/relp.py feed ``numbers`` through it; the second word of
    each line is its sequence number. imfile itself is loaded by the sender's drop-in (its pstore spool input):
    loading it twice is an error.
    """
    return f"""
ruleset(name="{ruleset}") {{
    set $!sequnum = field($msg, 32, 2);
    call logswap_relp_kernel
}}
input(type="imfile" file="{numbers}" tag="kernel" facility="kern" severity="warning" ruleset="{ruleset}")
"""


def wait_udp_port(netns: str, port: int, tables: tuple[str, ...] = ("udp",), what: str = "the receiver") -> None:
    """Wait until something in ``netns`` has bound UDP ``port`` in every one of /proc/net/``tables``."""
    needle = f":{port:04X} "
    deadline = time.monotonic() + 10
    while not all(needle in sh("ip", "netns", "exec", netns, "cat", f"/proc/net/{t}").stdout for t in tables):
        assert time.monotonic() < deadline, f"{what} did not bind UDP {port} within 10 s"
        time.sleep(0.05)


@contextmanager
def rsyslogd_in(netns: str, config: Path, tables: tuple[str, ...] = ("udp",)) -> Iterator[subprocess.Popen]:
    """The real rsyslogd in the foreground in ``netns`` with ``config`` (checked with -N1 first), listening on 6666."""
    sh("rsyslogd", "-N1", "-f", str(config))
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, "rsyslogd", "-n", "-iNONE", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_udp_port(netns, 6666, tables, "rsyslogd")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


class EventsService:
    """netconsole-events as the receiver role installs it: kmsgfollow.py, kmsgevents.py and kmsgview.py side by
    side in ``lib``, run the way the role's netconsole-events script runs them, with ``--config``. ``prefix``
    goes before the interpreter (make bench: the unit's Nice=10 and idle I/O class, a CPU)."""

    def __init__(self, lib: Path, config: Path, log: Path, prefix: tuple[str, ...] = ()) -> None:
        self.lib, self.config, self.log, self.prefix = lib, config, log, prefix
        lib.mkdir(parents=True, exist_ok=True)
        for name in ("kmsgview.py", "kmsgevents.py", "kmsgfollow.py"):
            shutil.copy(MODULE_UTILS / name, lib / name)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        code = f"import sys; sys.path.insert(0, {str(self.lib)!r}); import kmsgfollow; sys.exit(kmsgfollow.main())"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*self.prefix, "/usr/bin/python3", "-I", "-c", code, "--config", str(self.config)],
                stderr=log,
                stdout=log,
            )

    def stop(self, signum: int = signal.SIGTERM) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
        self.proc.send_signal(signum)
        self.proc.wait(10)


def receiver_states(inventory: str, hosts: str = "netconsole") -> dict[str, dict]:
    """Each receiver's ``receiver_state``, the receiver role's own fact, read through its entry point ``state``
    (which changes nothing). ``hosts`` is the group: ``netconsole`` runs the collection's discovery first and
    gives each host its friends as playbooks/netconsole.yml does; any other group has its receiver_friends."""
    with tempfile.TemporaryDirectory() as out:
        friends = "inventory_hostname | logswap.netconsole.netconsole_friends(groups['netconsole'], hostvars)"
        learn: dict = {
            "name": "Set receiver_state",
            "ansible.builtin.include_role": {"name": "logswap.netconsole.receiver", "tasks_from": "state"},
        }
        if hosts == "netconsole":  # as playbooks/netconsole.yml gives each host its friends
            learn.update(vars={"receiver_friends": "{{ " + friends + " }}"}, when=friends + " | length > 0")
        keep = {
            "name": "Keep it for the tests",
            "ansible.builtin.copy": {
                "content": "{{ receiver_state | to_json }}",
                "dest": out + "/{{ inventory_hostname }}.json",
                "mode": "0600",
            },
            "delegate_to": "localhost",
            "when": "receiver_state is defined",
        }
        plays = [{"name": "Learn receiver_state", "hosts": hosts, "gather_facts": False, "tasks": [learn, keep]}]
        if hosts == "netconsole":
            plays.insert(0, {"ansible.builtin.import_playbook": "logswap.netconsole.discover"})
        playbook = Path(out) / "receiver_state.yml"
        playbook.write_text(json.dumps(plays))
        proc = subprocess.run(
            ["ansible-playbook", "-i", inventory, str(playbook)],
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"),
        )
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        return {path.stem: json.loads(path.read_text()) for path in Path(out).glob("*.json")}


def render_relp(work: Path, sender: str, receiver: str) -> None:
    """The roles' own relp.conf.j2 for both ends into work (tests/lib/render_relp.yml: through the roles' checks,
    keys and certificates made by tls_identity, each end pinning the other), the receiver's log root work/log."""
    values = {
        "render_dir": str(work),
        "render_sender_address": sender,
        "render_receiver_address": receiver,
        "receiver_log_root": str(work / "log"),
    }
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            str(ROOT / "tests" / "lib" / "render_relp.yml"),
            "-e",
            json.dumps(values),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS)),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def omrelp_variant(text: str, params: str) -> str:
    """A rendered sender drop-in with its omrelp action's parameters changed: each name="value" in `params`
    replaces that parameter or is added; name=- removes it (a setting measured beside the role's)."""
    for name, value in re.findall(r'([\w.]+)=("[^"]*"|-)', params):
        pattern = re.compile(rf'\s+{re.escape(name)}="[^"]*"', re.IGNORECASE)
        if value == "-":
            text = pattern.sub("", text, count=1)
        elif pattern.search(text):
            text = pattern.sub(f" {name}={value}", text, count=1)
        else:
            text = text.replace('action.resumeInterval="5"', f'action.resumeInterval="5" {name}={value}', 1)
    return text
