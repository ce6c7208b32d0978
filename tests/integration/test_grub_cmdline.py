"""The sender's GRUB drop-in through Debian's real grub-mkconfig, read back as GRUB's lexer reads it.

Two receivers make a netconsole value with ';', which ends a command in grub.cfg. The role's template is
rendered, sourced by grub-mkconfig (in a private mount namespace, with a stand-in /boot and
/etc/default/grub.d, so the host's boot files are never touched), and the generated grub.cfg must pass
grub-script-check and carry every word whole on its linux lines. The kernel scenario boots it for real.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import jinja2
import pytest
from logswap_testlib import need_root, sh

from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import (
    grub_cfg_problems,
    grub_dropin_values,
    netconsole_words,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import Target, format_parameter

ROOT = Path(__file__).resolve().parents[2]
PARAMETER = format_parameter(
    [
        Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth1", remote_mac="52:54:00:00:00:02"),
        Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth1", remote_port=6667, extended=True),
    ]
)
WORDS = netconsole_words(PARAMETER, 7, 10)


def render_dropin() -> str:
    template = (ROOT / "roles/sender/templates/grub.cfg.j2").read_text()
    cmdline = {"words": WORDS, "grub": grub_dropin_values(WORDS)}
    return jinja2.Template(template).render(ansible_managed="test", __sender_cmdline=cmdline) + "\n"


def grub_mkconfig(tmp_path: Path, dropin: str) -> str:
    """grub.cfg as Debian's grub-mkconfig writes it with ``dropin`` as the only file in /etc/default/grub.d."""
    need_root()
    boot, grubd = tmp_path / "boot", tmp_path / "grub.d"
    (boot / "grub").mkdir(parents=True)
    grubd.mkdir()
    (boot / "vmlinuz-6.1.0-99-amd64").write_bytes(b"")
    (boot / "initrd.img-6.1.0-99-amd64").write_bytes(b"")
    (grubd / "60-logswap-netconsole.cfg").write_text(dropin)
    out = tmp_path / "grub.cfg"
    script = f"mount --bind {boot} /boot && mount --bind {grubd} /etc/default/grub.d && grub-mkconfig -o {out}"
    run = subprocess.run(["unshare", "-m", "sh", "-ec", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return out.read_text()


def test_two_targets_reach_every_linux_line_whole(tmp_path):
    dropin = render_dropin()
    assert f"'netconsole={PARAMETER}'" in dropin
    assert sh("sh", "-n", "-c", dropin).returncode == 0
    grub_cfg = grub_mkconfig(tmp_path, dropin)
    (tmp_path / "check.cfg").write_text(grub_cfg)
    check = sh("grub-script-check", str(tmp_path / "check.cfg"), check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert grub_cfg_problems(grub_cfg, WORDS) == [], grub_cfg
    # the recovery entry too (GRUB_CMDLINE_LINUX only): netconsole is on all three linux lines
    assert grub_cfg.count(f"'netconsole={PARAMETER}'") == 3


def test_the_unquoted_form_passes_grub_script_check_but_loses_the_rest(tmp_path):
    """Why the check reads linux lines as GRUB does: grub-script-check accepts the broken form."""
    dropin = render_dropin().replace(f"'netconsole={PARAMETER}'", f"netconsole={PARAMETER}")
    grub_cfg = grub_mkconfig(tmp_path, dropin)
    (tmp_path / "check.cfg").write_text(grub_cfg)
    assert sh("grub-script-check", str(tmp_path / "check.cfg"), check=False).returncode == 0
    problems = grub_cfg_problems(grub_cfg, WORDS)
    assert problems and "lacks " + " ".join(WORDS) in problems[0]


@pytest.mark.parametrize("tool", ["grub-mkconfig", "grub-script-check", "unshare"])
def test_the_tools_are_installed(tool):
    """make setup installs grub-pc-bin and grub2-common; a missing tool must fail here, not skip."""
    assert sh("sh", "-c", f"command -v {tool}", check=False).returncode == 0, f"{tool} is missing: run make setup"
