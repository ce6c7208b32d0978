"""The sender role's input checks through ansible-playbook: an INI inventory and -e give booleans and numbers as
text, and the role must take them as meant, or refuse them naming the variable, before anything changes.

Runs the role's read-only `discover` entry point on localhost with every target complete, so nothing is
discovered or installed; the installed kernels are files in a directory the test creates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from logswap_testlib import COLLECTIONS, ROOT

PLAYBOOK = ROOT / "tests" / "lib" / "sender_inputs.yml"
COMPLETE = {"remote_ip": "10.9.9.9", "remote_mac": "02:00:00:00:00:09", "dev_name": "eth0", "local_ip": "10.9.9.1"}
TARGET = repr(COMPLETE)[:-1]  # as an INI host line writes it, open for more keys


def run(tmp_path: Path, host_vars: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    """One run against an INI inventory whose host line carries ``host_vars`` exactly as a user writes it."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"sender ansible_connection=local {host_vars}\n")
    out = tmp_path / "inputs.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(inventory),
            str(PLAYBOOK),
            "-e",
            json.dumps({"inputs_out": str(out), "ansible_python_interpreter": sys.executable}),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    proc.stdout += proc.stderr
    return proc, json.loads(out.read_text()) if out.exists() else None


def test_ini_booleans_written_as_text_mean_what_they_say(tmp_path):
    proc, decided = run(
        tmp_path,
        f"\"sender_targets=[{TARGET}, 'extended': 'false', 'release': 'no'}}]\" "
        "sender_persist=no sender_require_live=yes sender_loglevel=5",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["discovered"][0]["extended"] is False and decided["discovered"][0]["release"] is False
    assert decided["parameter"] == "6665@10.9.9.1/eth0,6666@10.9.9.9/02:00:00:00:00:09"
    assert (decided["persist"], decided["require_live"]) == (False, True)
    assert decided["words"] == ["netconsole=6665@10.9.9.1/eth0,6666@10.9.9.9/02:00:00:00:00:09", "loglevel=5"]


def test_extra_vars_true_as_text_gives_an_extended_target(tmp_path):
    targets = [{**COMPLETE, "extended": "yes"}]
    proc, decided = run(tmp_path, "", "-e", json.dumps({"sender_targets": targets, "sender_panic_timeout": "10"}))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["parameter"].startswith("+6665@")
    assert decided["words"][1:] == ["loglevel=7", "panic=10"]


@pytest.mark.parametrize(
    ("host_vars", "needle"),
    [
        (f"\"sender_targets=[{TARGET}, 'extendd': True}}]\"", "sender_targets[0]: unknown key 'extendd'"),
        (f"\"sender_targets=[{TARGET}, 'extended': 'maybe'}}]\"", "sender_targets[0].extended: 'maybe' is not a"),
        (f'"sender_targets=[{TARGET}}}, {TARGET}}}]"', "the receiver '10.9.9.9 port 6666' is given twice"),
        (f'"sender_targets=[{TARGET}}}]" sender_require_live=perhaps', "sender_require_live"),
        (f'"sender_targets=[{TARGET}}}]" sender_loglevel=9', "sender_loglevel: 9 is out of range"),
        (f'"sender_targets=[{TARGET}}}]" sender_panic_timeout=-1', "sender_panic_timeout: -1 is out of range"),
        (f'"sender_targets=[{TARGET}}}]" sender_discovery_timeout=0', "sender_discovery_timeout: 0 is out of range"),
        (
            f'"sender_targets=[{TARGET}}}]" sender_extended=maybe',
            "argument 'sender_extended' is of type str and we were unable to convert to bool",
        ),
        (
            f'"sender_targets=[{TARGET}}}]" sender_msgid=perhaps',
            "argument 'sender_msgid' is of type str and we were unable to convert to bool",
        ),
        (
            f'"sender_targets=[{TARGET}}}]" sender_taskname=2',
            "argument 'sender_taskname' is of type int and we were unable to convert to bool",
        ),
        (f'"sender_targets=[{TARGET}}}]" "sender_name=a b"', "sender_name: 'a b' is not a host name"),
        (f'"sender_targets=[{TARGET}}}]" sender_heartbeat_interval=5s', "sender_heartbeat_interval: '5s' is 5 s"),
        (f'"sender_targets=[{TARGET}}}]" sender_heartbeat_interval=soon', "sender_heartbeat_interval: 'soon' is not"),
        (f'"sender_targets=[{TARGET}}}]" sender_self_repair_interval=5s', "sender_self_repair_interval: '5s' is 5 s"),
        (
            f'"sender_targets=[{TARGET}}}]" sender_self_repair_interval=2d',
            "sender_self_repair_interval: '2d' is 172800 s; give 0 (off) or at least 10 s and at most 86400 s",
        ),
        (f'"sender_targets=[{TARGET}}}]" sender_self_repair=maybe', "sender_self_repair"),
        (
            f'"sender_targets=[{TARGET}}}]" sender_loglevel=2',
            "sender_heartbeat_interval: with sender_loglevel 2 only alert and emergency lines reach the console",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_variable(tmp_path, host_vars, needle):
    proc, decided = run(tmp_path, host_vars)
    assert proc.returncode != 0 and needle in proc.stdout, proc.stdout[-3000:]
    assert decided is None


def test_extended_is_the_default_and_sender_extended_turns_it_off(tmp_path):
    proc, decided = run(tmp_path, f'"sender_targets=[{TARGET}}}]"')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["discovered"][0]["extended"] is True
    assert decided["parameter"] == "+6665@10.9.9.1/eth0,6666@10.9.9.9/02:00:00:00:00:09"
    proc, decided = run(tmp_path, f'"sender_targets=[{TARGET}}}]" sender_extended=no')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["parameter"] == "6665@10.9.9.1/eth0,6666@10.9.9.9/02:00:00:00:00:09"


def test_heartbeat_off_needs_no_console_level(tmp_path):
    proc, _decided = run(tmp_path, f'"sender_targets=[{TARGET}}}]" sender_heartbeat_interval=0 sender_loglevel=1')
    assert proc.returncode == 0, proc.stdout[-3000:]


def kernels(tmp_path: Path, *releases: str) -> str:
    boot = tmp_path / "boot"
    boot.mkdir()
    for release in releases:
        (boot / f"vmlinuz-{release}").write_bytes(b"")
    (boot / "config-6.1.0-28-amd64").write_bytes(b"")  # not a kernel image
    return json.dumps({"__sender_boot": str(boot)})


RELEASE = f"\"sender_targets=[{TARGET}, 'extended': 'yes', 'release': 'yes'}}]\""


def test_release_is_refused_while_an_installed_kernel_predates_6_6(tmp_path):
    proc, decided = run(tmp_path, RELEASE, "-e", kernels(tmp_path, "6.12.95+deb12-amd64", "6.1.0-28-amd64"))
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "sender_targets[0].release: the kernel command line is written for every installed kernel" in proc.stdout
    assert "vmlinuz-6.1.0-28-amd64 predates Linux 6.6" in proc.stdout
    assert decided is None


def test_release_is_written_when_every_installed_kernel_has_it(tmp_path):
    proc, decided = run(tmp_path, RELEASE, "-e", kernels(tmp_path, "6.12.95+deb12-amd64", "6.6.0"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["parameter"].startswith("+r6665@")


def test_release_on_the_live_target_only_is_not_checked_against_installed_kernels(tmp_path):
    proc, decided = run(tmp_path, RELEASE + " sender_persist=false", "-e", kernels(tmp_path, "6.1.0-28-amd64"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert decided["persist"] is False and decided["parameter"].startswith("+r")


def test_targets_whose_parameter_cannot_fit_255_characters_are_refused_naming_sender_targets(tmp_path):
    targets = ", ".join(f"{{'remote_ip': '2001:db8:1234:5678:9abc:def0:1234:{index:04x}'}}" for index in range(1, 5))
    proc, decided = run(tmp_path, f'"sender_targets=[{targets}]" sender_extended=true')
    assert proc.returncode != 0 and decided is None
    assert "sender_targets: the netconsole= parameter would be at least" in proc.stdout, proc.stdout[-3000:]
