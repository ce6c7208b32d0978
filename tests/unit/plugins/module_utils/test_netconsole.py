from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    MAX_PARAM_LENGTH,
    NetconsoleError,
    Target,
    format_parameter,
    format_target,
    kernel_takes_over_cmdline_targets,
    parameter_from_cmdline,
    parse_parameter,
    parse_target,
)


def test_defaults_give_the_kernels_own_shape():
    assert format_target(Target(remote_ip="203.0.113.2")) == "6665@/,6666@203.0.113.2/"


def test_full_target_as_in_the_classic_setup():
    target = Target(
        remote_ip="203.0.113.2",
        local_ip="198.51.100.1",
        dev_name="eth0",
        remote_mac="00:1D:D4:E2:43:01",
    )
    assert format_target(target) == "6665@198.51.100.1/eth0,6666@203.0.113.2/00:1d:d4:e2:43:01"


def test_extended_and_release_flags():
    target = Target(remote_ip="10.0.0.2", extended=True, release=True, local_port=4444, remote_port=9353)
    assert format_target(target) == "+r4444@/,9353@10.0.0.2/"


def test_release_without_extended_is_refused():
    with pytest.raises(NetconsoleError, match=r"release.*extended: true"):
        format_target(Target(remote_ip="10.0.0.2", release=True))


def test_ipv6_addresses_are_compressed():
    target = Target(remote_ip="2001:DB8:0:0::2", local_ip="2001:db8::0:1", dev_name="eth1")
    assert format_target(target) == "6665@2001:db8::1/eth1,6666@2001:db8::2/"


def test_mixed_ip_versions_are_refused_naming_both():
    with pytest.raises(NetconsoleError, match=r"t\.local_ip: 10\.0\.0\.1 and t\.remote_ip 2001:db8::2"):
        Target(remote_ip="2001:db8::2", local_ip="10.0.0.1", variable="t").validated()


def test_interface_given_as_mac_is_never_written():
    target = Target(remote_ip="10.0.0.2", dev_name="52-54-00-AA-BB-CC", variable="t")
    with pytest.raises(NetconsoleError, match=r"t\.dev_name: '52-54-00-AA-BB-CC' is a MAC address; configfs"):
        format_target(target)
    assert target.validated(allow_mac=True).dev_name == "52:54:00:aa:bb:cc"
    # a command line that already holds one is read, to be replaced by a name
    assert parse_target("6665@/52:54:00:aa:bb:cc,6666@10.0.0.2/").dev_name == "52:54:00:aa:bb:cc"


def test_several_targets_are_joined_by_semicolons_and_parse_back():
    targets = [
        Target(remote_ip="10.0.0.2", dev_name="eth0", remote_mac="52:54:00:00:00:02", extended=True),
        Target(remote_ip="2001:db8::2", dev_name="eth0"),
    ]
    value = format_parameter(targets)
    assert value == "+6665@/eth0,6666@10.0.0.2/52:54:00:00:00:02;6665@/eth0,6666@2001:db8::2/"
    assert parse_parameter(value) == [t.validated() for t in targets]


def test_limit_is_the_kernels_256_byte_buffer():
    one = Target(
        remote_ip="2001:db8:1234:5678:9abc:def0:1234:5678",
        local_ip="2001:db8:1234:5678:9abc:def0:1234:5679",
        dev_name="enp129s0f1np1",
        remote_mac="52:54:00:00:00:02",
        extended=True,
    )
    assert len(format_parameter([one, one])) <= MAX_PARAM_LENGTH
    with pytest.raises(NetconsoleError, match=r"sender_targets: the netconsole= parameter would be \d+ characters"):
        format_parameter([one, one, one])


def test_no_targets_is_an_error():
    with pytest.raises(NetconsoleError, match="at least one target"):
        format_parameter([])


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("remote_ip", "203.0.113.256", "t.remote_ip: '203.0.113.256' is not an IPv4 or IPv6 address"),
        ("local_ip", "me", "t.local_ip: 'me'"),
        ("remote_port", 0, "t.remote_port: 0 is not a UDP port"),
        ("local_port", 70000, "t.local_port: 70000 is not a UDP port"),
        ("local_port", True, "t.local_port: True is not a UDP port"),
        ("remote_mac", "00:11:22:33:44", "t.remote_mac: '00:11:22:33:44' is not an Ethernet MAC"),
        ("remote_mac", "00:00:00:00:00:00", "all-zero MAC"),
        ("dev_name", "eth0/1", "t.dev_name: 'eth0/1' is not a network interface name"),
        ("dev_name", "averyveryverylongname", "t.dev_name"),
    ],
)
def test_bad_values_name_the_variable_and_value(field, value, needle):
    fields = {"remote_ip": "10.0.0.2", field: value}
    with pytest.raises(NetconsoleError) as info:
        Target(**fields, variable="t").validated()
    assert needle in str(info.value)


@pytest.mark.parametrize("text", ["6665@/eth0", "6665@/eth0,6666@", "x@/,6666@10.0.0.2/", "+6665/,6666@10.0.0.2/"])
def test_malformed_parameters_are_refused(text):
    with pytest.raises(NetconsoleError):
        parse_target(text)


def test_parse_defaults_and_flags():
    target = parse_target("+@/,@10.0.0.2/")
    assert (target.local_port, target.remote_port, target.extended, target.release) == (
        6665,
        6666,
        True,
        False,
    )
    assert parse_target("r+@/,@10.0.0.2/").release


def test_last_netconsole_word_of_the_command_line_wins():
    cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/vda netconsole=@/,@10.0.0.1/ quiet netconsole=@/,@10.0.0.2/"
    assert parameter_from_cmdline(cmdline) == "@/,@10.0.0.2/"
    assert parameter_from_cmdline("root=/dev/vda") is None


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("6.1.0-28-amd64", False),
        ("6.6.30", False),
        ("6.7.0", True),
        ("6.12.95+deb12-amd64", True),
        ("7.0", True),
    ],
)
def test_cmdline_takeover_needs_linux_6_7(release, expected):
    assert kernel_takes_over_cmdline_targets(release) is expected
