"""boot_info reads what the command line choice depends on: the running kernel's release and command line, its
pstore options (not the whole configuration), UEFI, and the installed kernels."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.logswap.netconsole.plugins.module_utils.pstore import config_value
from ansible_collections.logswap.netconsole.plugins.modules import boot_info

CONFIG = """#
# Automatically generated file; DO NOT EDIT.
CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"
CONFIG_PSTORE=y
CONFIG_PSTORE_RAM=m
# CONFIG_PSTORE_BLK is not set
CONFIG_EFI_VARS_PSTORE=m
CONFIG_EFI_VARS_PSTORE_DEFAULT_DISABLE=y
CONFIG_NETCONSOLE=m
CONFIG_EFIX=y
"""


def run(capsys, args: dict) -> dict:
    with patch_module_args({**args, "_ansible_check_mode": True}), pytest.raises(SystemExit):
        boot_info.main()
    return json.loads(capsys.readouterr().out)


def test_the_running_kernel_its_pstore_options_and_the_installed_kernels(tmp_path, capsys):
    release = os.uname().release
    (tmp_path / f"config-{release}").write_text(CONFIG)
    for name in (f"vmlinuz-{release}", "vmlinuz-6.12.12+bpo-amd64", "initrd.img-6.1.0-28-amd64"):
        (tmp_path / name).write_text("")
    result = run(capsys, {"boot": str(tmp_path)})
    assert not result["changed"]
    assert result["release"] == release
    assert result["kernels"] == sorted([f"{tmp_path}/vmlinuz-{release}", f"{tmp_path}/vmlinuz-6.12.12+bpo-amd64"])
    assert result["config"] == (
        f"# {tmp_path}/config-{release}\nCONFIG_PSTORE=y\nCONFIG_PSTORE_RAM=m\n# CONFIG_PSTORE_BLK is not set\n"
        "CONFIG_EFI_VARS_PSTORE=m\nCONFIG_EFI_VARS_PSTORE_DEFAULT_DISABLE=y\nCONFIG_EFIX=y\n"
    )
    # what the pstore choice reads from it is what it read from the whole file
    for option in ("PSTORE_RAM", "EFI_VARS_PSTORE", "EFI_VARS_PSTORE_DEFAULT_DISABLE", "PSTORE_BLK", "NETCONSOLE"):
        expected = config_value(CONFIG, option) if option != "NETCONSOLE" else "n"
        assert config_value(result["config"], option) == expected
    with open("/proc/cmdline", encoding="utf-8") as handle:
        assert result["cmdline"] == handle.read().rstrip("\n")
    assert result["efi"] == os.path.isdir("/sys/firmware/efi")


def test_an_unreadable_configuration_gives_nothing_and_a_bad_prefix_is_refused(tmp_path, capsys):
    result = run(capsys, {"boot": str(tmp_path)})
    assert result["config"] == "" and result["kernels"] == []
    failed = run(capsys, {"boot": str(tmp_path), "config_options": ["PSTORE", "X|.*"]})
    assert failed["failed"] and "config_options: 'X|.*' is not an option name prefix" in failed["msg"]


def test_pstore_records_each_shipped_or_pending_without_making_the_shippers_state(tmp_path, capsys):
    store = tmp_path / "pstore"
    (store / "1764576900").mkdir(parents=True)
    (store / "1764576900" / "dmesg-ramoops-0").write_text("<0>Kernel panic - not syncing: first\n")
    (store / "1764576900" / "dmesg.txt").write_text("systemd-pstore's joined copy, not a record\n")
    (store / "dmesg-efi-176457690001").write_text("<0>Kernel panic - not syncing: second\n")
    shipped = tmp_path / "shipped"
    first = run(capsys, {"boot": str(tmp_path), "pstore_dir": str(store), "pstore_shipped_dir": str(shipped)})
    records = first["pstore_records"]
    assert [record["state"] for record in records] == ["pending", "pending"]
    assert {record["path"] for record in records} == {
        str(store / "1764576900" / "dmesg-ramoops-0"),
        str(store / "dmesg-efi-176457690001"),
    }
    assert not shipped.exists()  # read only
    shipped.mkdir()
    (shipped / records[0]["id"]).write_text("")
    again = run(capsys, {"boot": str(tmp_path), "pstore_dir": str(store), "pstore_shipped_dir": str(shipped)})
    assert [record["state"] for record in again["pstore_records"]] == ["shipped", "pending"]
    assert run(capsys, {"boot": str(tmp_path), "pstore_dir": str(tmp_path / "none")})["pstore_records"] == []


def test_a_pstore_record_that_cannot_be_read_is_left_out_with_a_warning(tmp_path, capsys):
    store = tmp_path / "pstore"
    store.mkdir()
    (store / "dmesg-ramoops-0").write_text("<0>Kernel panic - not syncing: kept\n")
    (store / "dmesg-ramoops-1").symlink_to(tmp_path / "gone")  # removed meanwhile (tmpfiles' ageing, say)
    result = run(capsys, {"boot": str(tmp_path), "pstore_dir": str(store)})
    assert not result.get("failed") and [r["path"] for r in result["pstore_records"]] == [
        str(store / "dmesg-ramoops-0")
    ]
    warned = []
    module = type("Module", (), {"warn": lambda self, text: warned.append(text)})()
    assert len(boot_info.pstore_records(module, str(store), str(tmp_path / "shipped"))) == 1
    assert warned == [
        f"pstore record not read, left out of pstore_records: {store}/dmesg-ramoops-1: No such file or directory"
    ]
