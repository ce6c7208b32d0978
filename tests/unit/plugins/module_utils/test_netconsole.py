from __future__ import annotations

import pytest

from ansible_collections.logswap.netconsole.plugins.module_utils.netconsole import (
    MAX_PARAM_LENGTH,
    NetconsoleError,
    Target,
    check_parameter_bound,
    check_release_support,
    format_parameter,
    format_target,
    installed_kernels,
    kernel_supports_release,
    kernel_takes_over_cmdline_targets,
    kernel_version,
    parse_parameter,
    parse_target,
    shortest_parameter_length,
    target_from_mapping,
    validate_targets,
)


def test_defaults_give_the_kernels_own_shape():
    assert format_target(Target(remote_ip="203.0.113.2").validated()) == "6665@/,6666@203.0.113.2/"


def test_full_target_as_in_the_classic_setup():
    target = Target(
        remote_ip="203.0.113.2",
        local_ip="198.51.100.1",
        dev_name="eth0",
        remote_mac="00:1D:D4:E2:43:01",
    )
    assert format_target(target.validated()) == "6665@198.51.100.1/eth0,6666@203.0.113.2/00:1d:d4:e2:43:01"


def test_extended_and_release_flags():
    target = Target(remote_ip="10.0.0.2", extended=True, release=True, local_port=4444, remote_port=9353)
    assert format_target(target.validated()) == "+r4444@/,9353@10.0.0.2/"


def test_release_without_extended_is_refused():
    with pytest.raises(NetconsoleError, match=r"release.*extended: true"):
        format_target(Target(remote_ip="10.0.0.2", release=True).validated())


def test_ipv6_addresses_are_compressed():
    target = Target(remote_ip="2001:DB8:0:0::2", local_ip="2001:db8::0:1", dev_name="eth1")
    assert format_target(target.validated()) == "6665@2001:db8::1/eth1,6666@2001:db8::2/"


def test_mixed_ip_versions_are_refused_naming_both():
    with pytest.raises(NetconsoleError, match=r"t\.local_ip: 10\.0\.0\.1 and t\.remote_ip 2001:db8::2"):
        Target(remote_ip="2001:db8::2", local_ip="10.0.0.1", variable="t").validated()


def test_interface_given_as_mac_is_never_written():
    target = Target(remote_ip="10.0.0.2", dev_name="52-54-00-AA-BB-CC", variable="t")
    with pytest.raises(NetconsoleError, match=r"t\.dev_name: '52-54-00-AA-BB-CC' is a MAC address; configfs"):
        format_target(target.validated())
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


# Booleans as INI inventories and -e give them: the text must mean what it says (issue 12, item 4).
@pytest.mark.parametrize(("text", "expected"), [("false", False), ("no", False), ("0", False), ("off", False)])
def test_extended_written_as_text_false_gives_a_plain_target(text, expected):
    target = Target(remote_ip="10.0.0.2", extended=text, variable="t").validated()
    assert target.extended is expected
    assert format_target(target.validated()) == "6665@/,6666@10.0.0.2/"


def test_extended_and_release_written_as_text_true():
    target = Target(remote_ip="10.0.0.2", extended="yes", release="True").validated()
    assert (target.extended, target.release) == (True, True)
    assert format_target(target.validated()).startswith("+r")


def test_release_no_with_extended_is_no_release():
    assert format_target(Target(remote_ip="10.0.0.2", extended=True, release="no").validated()).startswith("+6665")


def test_release_true_with_extended_false_as_text_is_refused():
    with pytest.raises(NetconsoleError, match=r"t\.release: .*set extended: true"):
        Target(remote_ip="10.0.0.2", extended="false", release="true", variable="t").validated()


@pytest.mark.parametrize("field", ["extended", "release"])
def test_a_boolean_that_is_not_one_is_refused_naming_it(field):
    with pytest.raises(NetconsoleError, match=rf"t\.{field}: 'maybe' is not a boolean; write true or false"):
        Target(remote_ip="10.0.0.2", **{field: "maybe"}, variable="t").validated()


def test_a_target_from_a_mapping_refuses_a_misspelt_key():
    needle = r"sender_targets\[0\]: unknown key 'remote_adress'; the keys are remote_ip"
    with pytest.raises(NetconsoleError, match=needle):
        target_from_mapping({"remote_ip": "10.0.0.2", "remote_adress": "10.0.0.3"}, "sender_targets[0]")


@pytest.mark.parametrize("target", [{"remote_port": 6666}, {"remote_ip": ""}, {"remote_ip": None}])
def test_a_target_without_remote_ip_names_it(target):
    with pytest.raises(NetconsoleError, match=r"s\[2\]\.remote_ip: missing"):
        target_from_mapping(target, "s[2]")


@pytest.mark.parametrize("targets", ["10.0.0.2", {"remote_ip": "10.0.0.2"}, None])
def test_targets_must_be_a_list(targets):
    with pytest.raises(NetconsoleError, match=r"^sender_targets: expected a list of targets"):
        validate_targets(targets)


def test_a_target_that_is_not_a_mapping_names_its_index():
    with pytest.raises(NetconsoleError, match=r"sender_targets\[1\]: expected a target"):
        validate_targets([{"remote_ip": "10.0.0.2"}, "10.0.0.3"])


@pytest.mark.parametrize(
    "second",
    [
        {"remote_ip": "10.0.0.2"},
        {"remote_ip": "10.0.0.2", "remote_port": "6666", "extended": True},
        {"remote_ip": " 10.0.0.2", "local_port": 7000},
    ],
)
def test_the_same_receiver_twice_is_refused(second):
    with pytest.raises(NetconsoleError, match=r"sender_targets: the receiver '10\.0\.0\.2 port 6666' is given twice"):
        validate_targets([{"remote_ip": "10.0.0.2"}, second])


def test_the_same_ipv6_receiver_written_two_ways_is_refused():
    with pytest.raises(NetconsoleError, match=r"'2001:db8::2 port 6666' is given twice \(entries 0 and 1\)"):
        validate_targets([{"remote_ip": "2001:db8::2"}, {"remote_ip": "2001:DB8:0::2"}])


def test_one_address_on_two_ports_is_two_receivers():
    targets = validate_targets([{"remote_ip": "10.0.0.2"}, {"remote_ip": "10.0.0.2", "remote_port": 6667}])
    assert [t.remote_port for t in targets] == [6666, 6667]


def test_no_target_at_all_says_what_to_give():
    with pytest.raises(NetconsoleError, match="at least one target is needed; give each receiver's remote_ip"):
        validate_targets([])


def v6(index: int) -> dict:
    return {"remote_ip": f"2001:db8:1234:5678:9abc:def0:1234:{index:04x}", "extended": True}


def test_the_bound_is_what_discovery_fills_at_its_shortest():
    # discovery always fills a 17-character MAC, an interface of 1 character or more, a source of the same family
    assert shortest_parameter_length(validate_targets([{"remote_ip": "10.0.0.2"}])) == len(
        "6665@0.0.0.0/x,6666@10.0.0.2/02:00:00:00:00:00"
    )
    assert shortest_parameter_length(validate_targets([{"remote_ip": "2001:db8::2"}])) == len(
        "6665@1::/x,6666@2001:db8::2/02:00:00:00:00:00"
    )


def test_the_bound_never_exceeds_the_real_parameter():
    given = validate_targets([v6(1), {"remote_ip": "10.0.0.2", "dev_name": "enp1s0"}])
    discovered = [
        Target(**{**t.__dict__, "dev_name": "eth0", "local_ip": ip, "remote_mac": "52:54:00:12:34:56"})
        for t, ip in zip(given, ["2001:db8::1", "10.0.0.1"], strict=True)
    ]
    assert shortest_parameter_length(given) <= len(format_parameter(discovered))


def test_given_values_count_at_their_own_length():
    target = {"remote_ip": "10.0.0.2", "dev_name": "enp129s0f1np1", "local_ip": "10.0.0.100"}
    assert shortest_parameter_length(validate_targets([target])) == len(
        "6665@10.0.0.100/enp129s0f1np1,6666@10.0.0.2/02:00:00:00:00:00"
    )


def test_a_parameter_that_cannot_fit_is_refused_before_discovery():
    assert check_parameter_bound(validate_targets([v6(1), v6(2), v6(3)])) <= MAX_PARAM_LENGTH
    with pytest.raises(
        NetconsoleError, match=r"^sender_targets: the netconsole= parameter would be at least 283 characters even"
    ):
        check_parameter_bound(validate_targets([v6(1), v6(2), v6(3), v6(4)]))


@pytest.mark.parametrize(
    ("release", "version", "supported"),
    [
        ("6.1.0-28-amd64", (6, 1), False),
        ("6.5.13", (6, 5), False),
        ("6.6.0", (6, 6), True),
        ("6.12.95+deb12-amd64", (6, 12), True),
        ("5.14.0-427.el9.x86_64", (5, 14), False),
        ("7.3.1-amd64", (7, 3), True),
        ("10.0", (10, 0), True),
        ("0-rescue-0123abcd", None, False),
    ],
)
def test_release_support_comes_with_linux_6_6(release, version, supported):
    assert kernel_version(release) == version
    assert kernel_supports_release(release) is supported


def test_installed_kernels_are_the_vmlinuz_images():
    paths = ["/boot/vmlinuz-6.1.0-28-amd64", "/boot/vmlinuz-0-rescue-ab", "/boot/config-6.1.0-28-amd64"]
    assert installed_kernels(paths) == {
        "/boot/vmlinuz-0-rescue-ab": "0-rescue-ab",
        "/boot/vmlinuz-6.1.0-28-amd64": "6.1.0-28-amd64",
    }


def release_check(targets: list[dict], images: list[str]) -> None:
    check_release_support(validate_targets(targets), images, "sender_targets", "set sender_persist: false")


PLAIN = {"remote_ip": "10.0.0.2"}
RELEASE = {"remote_ip": "10.0.0.3", "extended": "yes", "release": "yes"}


def test_release_is_fine_when_every_installed_kernel_has_it():
    release_check([PLAIN, RELEASE], ["/boot/vmlinuz-6.12.95+deb12-amd64", "/boot/vmlinuz-6.6.1"])
    release_check([PLAIN, RELEASE], [])  # nothing installed boots it (a container)


def test_an_older_kernel_is_no_reason_to_refuse_targets_without_release():
    release_check([PLAIN, {**RELEASE, "release": "false"}], ["/boot/vmlinuz-6.1.0-28-amd64"])


def test_an_installed_kernel_before_6_6_refuses_release_naming_the_target():
    images = ["/boot/vmlinuz-6.12.95+deb12-amd64", "/boot/vmlinuz-6.1.0-28-amd64"]
    with pytest.raises(NetconsoleError) as info:
        release_check([PLAIN, RELEASE], images)
    message = str(info.value)
    assert message.startswith("sender_targets[1].release: ")
    assert "/boot/vmlinuz-6.1.0-28-amd64 predates Linux 6.6" in message and "6.12" not in message
    assert "Set release: false" in message and "set sender_persist: false" in message


def test_a_rescue_image_of_unknown_version_refuses_release():
    with pytest.raises(NetconsoleError, match=r"vmlinuz-0-rescue-ab carries no version in its name"):
        release_check([RELEASE], ["/boot/vmlinuz-6.12.1", "/boot/vmlinuz-0-rescue-ab"])
