from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.cmdline import (
    grub_cfg_problems,
    grub_commands,
    grub_dropin_values,
    grub_quote,
    grubby_argv,
    kernel_words,
    missing_words,
    netconsole_words,
    parameter_from_cmdline,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    NetconsoleError,
    Target,
    format_parameter,
)

TWO = format_parameter(
    [
        Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth1", remote_mac="52:54:00:00:00:02"),
        Target(remote_ip="192.0.2.3", local_ip="192.0.2.1", dev_name="eth1", remote_port=7777, extended=True),
    ]
)
ONE = format_parameter([Target(remote_ip="192.0.2.2", local_ip="192.0.2.1", dev_name="eth1")])


def test_two_targets_are_one_word_and_loglevel_panic_follow():
    assert ";" in TWO
    assert netconsole_words(TWO, 7, 10) == [f"netconsole={TWO}", "loglevel=7", "panic=10"]
    assert netconsole_words(ONE, "4", "0") == [f"netconsole={ONE}", "loglevel=4"]


def test_rhel_family_gets_the_module_parameter_form():
    assert netconsole_words(TWO, 7, 0, module_form=True)[0] == f"netconsole.netconsole={TWO}"


@pytest.mark.parametrize("dev", ["eth'0", "e$(id)", "eth`0`", 'eth"0', "eth\\0"])
def test_a_value_grub_or_the_shell_would_read_is_refused_naming_the_variable(dev):
    with pytest.raises(NetconsoleError, match=r"^sender_targets: the netconsole parameter"):
        netconsole_words(f"6665@192.0.2.1/{dev},6666@192.0.2.2/", 7, 0)


def test_loglevel_and_panic_are_checked():
    with pytest.raises(NetconsoleError, match="sender_loglevel"):
        netconsole_words(ONE, 9, 0)
    with pytest.raises(NetconsoleError, match="sender_panic_timeout"):
        netconsole_words(ONE, 7, "-1")


def test_grub_quoting_only_where_needed():
    assert grub_quote(f"netconsole={ONE}") == f"netconsole={ONE}"
    assert grub_quote(f"netconsole={TWO}") == f"'netconsole={TWO}'"
    values = grub_dropin_values(netconsole_words(TWO, 7, 10))
    assert values == {"linux": f"'netconsole={TWO}'", "default": "loglevel=7 panic=10"}


def test_grub_lexer_reads_quoted_words_whole_and_unquoted_semicolon_as_a_new_command():
    quoted = f"\tlinux\t/vmlinuz root=/dev/vda1 ro  'netconsole={TWO}'  loglevel=7 panic=10\n"
    assert grub_commands(quoted) == [
        ["linux", "/vmlinuz", "root=/dev/vda1", "ro", f"netconsole={TWO}", "loglevel=7", "panic=10"]
    ]
    broken = grub_commands(quoted.replace(f"'netconsole={TWO}'", f"netconsole={TWO}"))
    assert len(broken) == 2 and broken[0][-1] == f"netconsole={TWO.split(';', maxsplit=1)[0]}"
    assert grub_commands('echo "a \\" b" c\\;d # note\n# all comment\nx') == [["echo", 'a " b', "c;d"], ["x"]]


def grub_cfg(args: str, recovery_args: str) -> str:
    return (
        "menuentry 'Debian' {\n"
        f"\tlinux\t/boot/vmlinuz-6.1.0 root=UUID=x ro {args}\n"
        "\tinitrd\t/boot/initrd.img-6.1.0\n}\n"
        "submenu 'Advanced' {\n menuentry 'Debian (recovery mode)' {\n"
        f"\t\tlinux\t/boot/vmlinuz-6.1.0 root=UUID=x ro single {recovery_args}\n }}\n}}\n"
    )


def test_grub_cfg_problems_accepts_the_quoted_form_and_names_what_the_unquoted_one_loses():
    words = netconsole_words(TWO, 7, 10)
    good = grub_cfg(f" 'netconsole={TWO}'  loglevel=7 panic=10", f" 'netconsole={TWO}'")
    assert grub_cfg_problems(good, words) == []
    bad = grub_cfg(f" netconsole={TWO}  loglevel=7 panic=10", f" netconsole={TWO}")
    problems = grub_cfg_problems(bad, words)
    assert len(problems) == 2 and f"lacks netconsole={TWO} loglevel=7 panic=10" in problems[0]
    assert grub_cfg_problems("set timeout=0\n", words) == ["no linux command in grub.cfg"]


def test_grub_cfg_problems_reads_only_this_systems_kernels():
    words = netconsole_words(ONE, 7, 0)
    ours = grub_cfg(f"netconsole={ONE} loglevel=7", f"netconsole={ONE}")
    other = "menuentry 'Fedora (on /dev/vdb1)' {\n\tlinux /boot/vmlinuz-6.5 root=/dev/vdb1\n}\n"
    marked = (
        f"### BEGIN /etc/grub.d/10_linux ###\n{ours}### END /etc/grub.d/10_linux ###\n"
        f"### BEGIN /etc/grub.d/30_os-prober ###\n{other}### END /etc/grub.d/30_os-prober ###\n"
    )
    assert grub_cfg_problems(marked, words) == []
    assert len(grub_cfg_problems(ours + other, words)) == 1  # unmarked: every linux command counts


def test_proc_cmdline_words_compare_whole():
    cmdline = 'BOOT_IMAGE=/vmlinuz root=LABEL=x ro loglevel=70 panic=100 dyndbg="file a.c +p"\n'
    assert missing_words(["loglevel=7", "panic=10"], cmdline) == ["loglevel=7", "panic=10"]
    assert kernel_words(cmdline)[-1] == "dyndbg=file a.c +p"
    assert missing_words([f"netconsole={TWO}", "loglevel=7"], f"ro netconsole={TWO} loglevel=7") == []


def test_last_netconsole_word_of_the_command_line_wins_in_either_form():
    cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/vda netconsole=@/,@10.0.0.1/ quiet netconsole=@/,@10.0.0.2/"
    assert parameter_from_cmdline(cmdline) == "@/,@10.0.0.2/"
    assert parameter_from_cmdline(f"ro netconsole.netconsole={TWO} quiet") == TWO
    assert parameter_from_cmdline("root=/dev/vda netconsolex=1") is None


def grubby_info(*args: str) -> str:
    return "".join(
        f'index={i}\nkernel="/boot/vmlinuz-5.14.0-{i}.el9.x86_64"\nargs="{a}"\nroot="UUID=x"\n'
        for i, a in enumerate(args)
    )


RHEL_WORDS = netconsole_words(TWO, 7, 10, module_form=True)


def test_grubby_argv_quotes_the_semicolon_for_grub():
    argv = grubby_argv(grubby_info("ro crashkernel=1G-4G:192M rhgb quiet", "ro quiet"), RHEL_WORDS)
    assert argv == [
        "grubby",
        "--update-kernel=ALL",
        f"--args='netconsole.netconsole={TWO}' loglevel=7 panic=10",
    ]


def test_grubby_argv_is_empty_when_every_kernel_has_every_word_whole():
    done = f"ro quiet 'netconsole.netconsole={TWO}' loglevel=7 panic=10"
    assert grubby_argv(grubby_info(done, done), RHEL_WORDS) == []
    # a substring is not the word: loglevel=70 and panic=100 are other values
    near = f"ro quiet 'netconsole.netconsole={TWO}' loglevel=70 panic=100"
    assert grubby_argv(grubby_info(done, near), RHEL_WORDS)[2].endswith("loglevel=7 panic=10")
    # one kernel lacking a word is enough
    assert grubby_argv(grubby_info(done, "ro quiet"), RHEL_WORDS) != []


def test_grubby_removes_forms_it_would_not_replace_itself():
    # the unquoted form (its ';' broke the boot) and the Debian key an earlier release wrote on RHEL
    old = f"ro netconsole.netconsole={TWO} netconsole={ONE} loglevel=4"
    argv = grubby_argv(grubby_info(old), RHEL_WORDS)
    assert argv[-1] == "--remove-args=netconsole netconsole.netconsole"
    # back from two targets to one: the quoted key is a different key to grubby
    one = netconsole_words(ONE, 7, 0, module_form=True)
    argv = grubby_argv(grubby_info(f"ro 'netconsole.netconsole={TWO}' loglevel=7"), one)
    assert argv == [
        "grubby",
        "--update-kernel=ALL",
        f"--args=netconsole.netconsole={ONE} loglevel=7",
        "--remove-args='netconsole.netconsole",
    ]
    # a second loglevel (the last one counts) is not left behind
    assert grubby_argv(grubby_info(f"ro netconsole.netconsole={ONE} loglevel=7 loglevel=4"), one) != []
