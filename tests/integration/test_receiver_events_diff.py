"""The events service's configuration holds the friends' webhook URLs (root only, 0600): a run with --diff must
not print them. Runs the role's programs.yml in check mode on localhost, its files redirected into tmp_path (as
root, as the integration tests run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from logswap_testlib import COLLECTIONS, ROOT

PLAYBOOK = ROOT / "tests" / "lib" / "receiver_events_diff.yml"


def test_a_diff_run_even_with_vvv_does_not_print_the_webhook_token_but_says_the_configuration_changes(tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("receiver ansible_connection=local\n")
    etc = tmp_path / "etc"  # as the role leaves it (root, 0755), so the configuration's task runs in check mode
    etc.mkdir()
    etc.chmod(0o755)
    extra = {
        "ansible_python_interpreter": sys.executable,
        "__receiver_events_conf": str(etc / "events.json"),
        "__receiver_events_bin": str(tmp_path / "netconsole-events"),
        # named as the service: the units module then knows, in check mode, that it makes the unit
        "__receiver_events_unit": str(tmp_path / "logswap-netconsole-events.service"),
        "__receiver_cap_command": str(tmp_path / "cap"),
        "__receiver_logrotate_conf": str(tmp_path / "logrotate"),
        "__receiver_report_bin": str(tmp_path / "netconsole-report"),
        "__receiver_report_lib": str(tmp_path / "lib"),
    }
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        ["ansible-playbook", "-vvv", "-i", str(inventory), str(PLAYBOOK), "--check", "--diff", "-e", json.dumps(extra)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    task = out.split("Install the cap command, logrotate's file, netconsole-report and the events service", 1)[1]
    assert "changed: [receiver]" in task
    # the run still says the configuration changes, without its content
    assert f"+++ after: {etc / 'events.json'}" in out and "(new content not shown)" in out
    assert "T0KEN" not in out
    assert not (etc / "events.json").exists() and not (tmp_path / "lib").exists()
