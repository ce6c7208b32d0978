from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError
from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import (
    grub_cfg_problems,
    grub_dropin_values,
    grubby_argv,
    missing_words,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.pstore import choose, config_value

# the probe's 6.1 kernel (docs/pstore.md) and a newer one
DEBIAN_61 = (
    "CONFIG_PSTORE=y\nCONFIG_PSTORE_RAM=m\nCONFIG_EFI_VARS_PSTORE=m\n"
    "# CONFIG_EFI_VARS_PSTORE_DEFAULT_DISABLE is not set\n"
)
OFF_BY_DEFAULT = "CONFIG_PSTORE_RAM=y\nCONFIG_EFI_VARS_PSTORE=y\nCONFIG_EFI_VARS_PSTORE_DEFAULT_DISABLE=y\n"
NO_PSTORE = "# CONFIG_PSTORE is not set\n"


def host(release="6.1.0-50-amd64", config=DEBIAN_61, efi=False):
    return {"release": release, "config": config, "efi": efi}


def test_config_values():
    assert config_value(DEBIAN_61, "PSTORE_RAM") == "m"
    assert config_value(DEBIAN_61, "EFI_VARS_PSTORE_DEFAULT_DISABLE") == "n"
    assert config_value("", "PSTORE_RAM") == "n"


def test_auto_on_611_takes_reserve_mem_named_region_and_loads_the_module():
    got = choose({}, host("6.12.95+deb12-amd64"))
    assert got["backend"] == "ramoops"
    assert got["words"] == ["reserve_mem=1M:4096:logswap", "ramoops.mem_name=logswap", "ramoops.record_size=0x20000"]
    assert got["modules"] == ["ramoops"]
    assert got["size"] == 1 << 20
    assert got["warnings"] == []


def test_auto_on_61_bios_skips_and_says_why():
    got = choose({}, host())
    assert got["backend"] == "none" and got["words"] == []
    assert "no reserve_mem=" in got["reason"] and "did not boot with UEFI" in got["reason"]


def test_auto_on_61_uefi_takes_efi_without_words():
    got = choose({}, host(efi=True))
    assert (got["backend"], got["words"], got["modules"], got["size"]) == ("efi", [], ["efi_pstore"], 0)


def test_auto_prefers_reserve_mem_over_efi():
    assert choose({}, host("7.3.0-1-amd64", efi=True))["backend"] == "ramoops"


def test_auto_leaves_efi_alone_where_the_kernel_disables_it_by_default_but_efi_forces_it_on():
    auto = choose({}, host("6.1.0", OFF_BY_DEFAULT, efi=True))
    assert auto["backend"] == "none" and "off by default" in auto["reason"]
    forced = choose({"backend": "efi"}, host("6.1.0", OFF_BY_DEFAULT, efi=True))
    assert forced["words"] == ["efi_pstore.pstore_disable=N"] and forced["modules"] == []


def test_explicit_address_gives_memmap_words_and_a_warning():
    got = choose({"backend": "ramoops", "address": "0x20000000", "size": "1M"}, host())
    assert got["words"] == [
        "memmap=1M$0x20000000",
        "ramoops.mem_address=0x20000000",
        "ramoops.mem_size=0x100000",
        "ramoops.record_size=0x20000",
    ]
    assert "sender_pstore_address" in got["warnings"][0] and "memmap=" in got["warnings"][0]
    assert choose({"address": "0x20000000"}, host())["backend"] == "ramoops"  # auto honours the request


def test_yaml_false_is_off_and_an_unreadable_config_is_said():
    assert choose({"backend": False}, host("7.3"))["backend"] == "none"
    assert "could not be read" in choose({}, host("6.1.0", ""))["reason"]


def test_off_is_off():
    assert choose({"backend": "off", "address": "0x20000000"}, host("7.3"))["words"] == []


@pytest.mark.parametrize(
    ("settings", "facts", "message"),
    [
        ({"backend": "ramoops"}, host(), r"^sender_pstore: ramoops .* no reserve_mem= .* sender_pstore_address"),
        ({"backend": "ramoops"}, host("7.3", NO_PSTORE), r"^sender_pstore: .* has no ramoops"),
        ({"backend": "efi"}, host(), r"^sender_pstore: efi .* did not boot with UEFI"),
        ({"backend": "efi"}, host(config=NO_PSTORE, efi=True), r"^sender_pstore: efi .* has no efi_pstore"),
        ({"backend": "yes"}, host(), r"^sender_pstore: 'yes' is not one of auto"),
        ({"backend": "auto\n"}, host(), r"^sender_pstore: "),
        ({"size": "1M 2"}, host(), r"^sender_pstore_size: "),
        ({"size": "1M\n"}, host(), r"^sender_pstore_size: "),
        ({"size": "128M"}, host(), r"^sender_pstore_size: 128M is more than 64M"),
        ({"record_size": "2M"}, host(), r"^sender_pstore_record_size: 2M must be .* at most"),
        ({"address": "0x2000$(id)"}, host(), r"^sender_pstore_address: "),
        ({"address": "0x20000100"}, host(), r"^sender_pstore_address: 0x20000100 is not aligned"),
        ({"name": "a b"}, host("7.3"), r"^sender_pstore_name: "),
    ],
)
def test_bad_values_and_impossible_choices_fail_naming_the_variable(settings, facts, message):
    with pytest.raises(NetconsoleError, match=message):
        choose(settings, facts)


MEMMAP = choose({"address": "0x20000000"}, host())["words"]


def test_memmap_dollar_is_quoted_for_grub_and_escaped_for_the_shell_drop_in():
    values = grub_dropin_values(["netconsole=6665@192.0.2.1/eth1,6666@192.0.2.2/", *MEMMAP])
    assert values["default"].split()[0] == "'memmap=1M\\$0x20000000'"
    assert "$" not in values["default"].replace("\\$", "")


def test_grub_cfg_with_the_quoted_memmap_word_passes_it_whole():
    line = "linux /boot/vmlinuz-6.1 root=/dev/vda1 ro 'memmap=1M$0x20000000' ramoops.mem_address=0x20000000\n"
    assert grub_cfg_problems(line, MEMMAP[:2]) == []
    unquoted = line.replace("'memmap=1M$0x20000000'", "memmap=1M\\$0x20000000")
    assert grub_cfg_problems(unquoted, MEMMAP[:2]) == []  # GRUB's own escape reads the same
    assert grub_cfg_problems(line.replace("$", ""), MEMMAP[:2])


def test_grubby_gets_the_word_quoted_and_proc_cmdline_comparison_is_whole():
    argv = grubby_argv('args="ro quiet"\n', MEMMAP)
    assert "'memmap=1M$0x20000000'" in argv[2]
    booted = "BOOT_IMAGE=/vmlinuz ro memmap=1M$0x20000000 ramoops.mem_address=0x20000000"
    assert missing_words(MEMMAP[:2], booted) == []
    assert missing_words(MEMMAP[:2], booted.replace("1M", "2M")) == ["memmap=1M$0x20000000"]


NETCONSOLE = ["netconsole=6665@192.168.77.1/eth1,6666@192.168.77.2/52:54:00:77:00:02", "loglevel=7"]


def test_grubby_takes_pstore_words_away_when_pstore_is_turned_off_and_leaves_the_users_own():
    info = (
        'args="ro quiet netconsole=6665@192.168.77.1/eth1,6666@192.168.77.2/52:54:00:77:00:02 loglevel=7 '
        "'memmap=1M$0x20000000' ramoops.mem_address=0x20000000 ramoops.mem_size=0x100000 "
        'ramoops.record_size=0x20000 memmap=64K$0x30000000 reserve_mem=1M:4096:other"\n'
    )
    argv = grubby_argv(info, NETCONSOLE)
    removed = argv[3].split("=", 1)[1].split(" ")
    assert argv[:2] == ["grubby", "--update-kernel=ALL"]
    assert sorted(removed) == sorted(
        ["ramoops.mem_address", "ramoops.mem_size", "ramoops.record_size", "'memmap=1M$0x20000000'"]
    )
    # with the same words wanted again, nothing to do
    assert grubby_argv(info, NETCONSOLE + MEMMAP) == []


def test_grubby_takes_the_reserve_mem_region_and_efi_switch_away_with_their_ramoops_name():
    info = (
        'args="ro netconsole=6665@192.168.77.1/eth1,6666@192.168.77.2/52:54:00:77:00:02 loglevel=7 '
        'reserve_mem=1M:4096:logswap ramoops.mem_name=logswap efi_pstore.pstore_disable=N"\n'
    )
    removed = grubby_argv(info, NETCONSOLE)[3].split("=", 1)[1].split(" ")
    assert sorted(removed) == sorted(["ramoops.mem_name", "reserve_mem=1M:4096:logswap", "efi_pstore.pstore_disable=N"])


def test_grubby_leaves_a_ramoops_parameter_the_role_never_writes():
    info = (
        'args="ro netconsole=6665@192.168.77.1/eth1,6666@192.168.77.2/52:54:00:77:00:02 loglevel=7 '
        'ramoops.ecc=1 ramoops.console_size=0x8000"\n'
    )
    assert grubby_argv(info, NETCONSOLE) == []
