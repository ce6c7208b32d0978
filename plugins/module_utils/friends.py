# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The receiver's settings and friends: checked before anything on the host changes.

Every value that reaches rsyslog, logrotate or nftables text is checked here against what that setting may be,
so no value can add a directive (a quote, a newline or a brace never gets through), and every message names the
role variable. Values are refused unless written in the exact form the templates render, so a template that
renders the variable as given renders the checked value.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Mapping

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import (
    NetconsoleError,
    as_bool,
    as_list,
    as_mapping,
    check_keys,
    check_pattern,
)
from ansible_collections.logswap.netconsole.plugins.module_utils.kmsgevents import ALERT_KINDS
from ansible_collections.logswap.netconsole.plugins.module_utils.logcap import cap_plan, check_path
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import DEFAULT_CERT as RELP_CERT
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import DEFAULT_KEY as RELP_KEY
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import DEFAULT_PORT as RELP_PORT
from ansible_collections.logswap.netconsole.plugins.module_utils.relp import tcp_port
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import check_fingerprints
from ansible_collections.logswap.netconsole.plugins.module_utils.tls_identity import check_path as check_config_path

# A friend's name becomes a directory name and an rsyslog action name.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
# useradd's NAME_REGEX (Debian's default), with the trailing '$' of machine accounts.
_USER_RE = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\$?")
# An interface name as an address zone: what getnameinfo() puts after '%', so what %fromhost-ip% shows.
_ZONE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
# Absolute path characters that mean nothing to rsyslog, logrotate or a shell glob.
_PATH_RE = re.compile(r"/[A-Za-z0-9_.+@,:=/-]*")
_DIGITS_RE = re.compile(r"[0-9]+")
# logrotate's size syntax: a number of bytes, or k, M, G.
_SIZE_RE = re.compile(r"[1-9][0-9]*[kMG]?")
_TZ_RE = re.compile(r"[+-](0[0-9]|1[0-4]):[0-5][0-9]")

FRIEND_KEYS = ("name", "addresses", "readers")
ALERT_KEYS = ("mail", "webhook", "alert_on", "silence")
# A mail address as an MTA takes it in a To: header: no spaces, commas, quotes, angle brackets or newlines.
_MAIL_RE = re.compile(
    r"[A-Za-z0-9_%+=-][A-Za-z0-9._%+=-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# An http(s) URL: a host name, IPv4 or [IPv6] address, an optional port, a path and query of URL characters.
_URL_RE = re.compile(
    r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]{0,2000})?"
)
SILENCE_MIN, SILENCE_MAX = 60, 30 * 86400
RCVBUF_MIN, RCVBUF_MAX = 4096, 1 << 30  # rsyslog refuses rcvbufSize above 1 GiB


def _int_text(value: object, variable: str, minimum: int, maximum: int) -> int:
    """A whole number written plainly (no sign, space or newline) within bounds."""
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not _DIGITS_RE.fullmatch(text):
        raise NetconsoleError(f"{variable}: {value!r} is not a whole number; write digits only, e.g. {minimum}")
    number = int(text)
    if not minimum <= number <= maximum:
        raise NetconsoleError(f"{variable}: {value!r} is out of range; give a number from {minimum} to {maximum}")
    return number


def _interface(value: object, variable: str) -> str:
    return check_pattern(value, _ZONE_RE, variable, "an interface name (letters, digits, '_', '.', '-'; 15 at most)")


# imudp input() parameters a user may add, each with the check of its value. The role sets port, address,
# ruleset, name and rcvbufSize itself; module() parameters (threads, batchSize, ...) do not belong to input().
def _bool_on_off(value: object, variable: str) -> str:
    return "on" if as_bool(value, variable) else "off"


INPUT_OPTIONS = {
    "ratelimit.interval": lambda v, n: str(_int_text(v, n, 0, 86400)),
    "ratelimit.burst": lambda v, n: str(_int_text(v, n, 1, 1 << 31)),
    "device": _interface,
    "ipfreebind": lambda v, n: str(_int_text(v, n, 0, 2)),
    "defaultTZ": lambda v, n: check_pattern(v, _TZ_RE, n, "a UTC offset such as +01:00"),
    "name.appendPort": _bool_on_off,
}
_ROLE_OWNED = {
    "port": "receiver_port",
    "address": "receiver_bind_address",
    "rcvbufsize": "receiver_rcvbuf",
    "ruleset": "the role (it files each friend's lines)",
    "name": "the role",
    "type": "the role",
}
_MODULE_PARAMETERS = ("threads", "batchsize", "timerequery", "schedulingpolicy", "schedulingpriority", "preservecase")


def _check_name(name: object, variable: str) -> str:
    text = str(name) if isinstance(name, (str, int)) and not isinstance(name, bool) else ""
    if not _NAME_RE.fullmatch(text) or ".." in text:
        raise NetconsoleError(
            f"{variable}: {name!r} cannot be a directory name under the log root; use letters, "
            "digits, '.', '_' or '-' (no '/', '..' or spaces, at most 63 characters)"
        )
    return text


def _check_user(user: object, variable: str, what: str = "user") -> str:
    text = user if isinstance(user, str) else ""
    if not _USER_RE.fullmatch(text):
        raise NetconsoleError(
            f"{variable}: {user!r} is not a valid {what} name (lower-case letters, digits, '_', '.', '-')"
        )
    return text


def _check_reader(user: object, variable: str) -> str:
    text = _check_user(user, variable)
    if text == "root":
        raise NetconsoleError(f"{variable}: readers are unprivileged accounts; root reads everything already")
    return text


def normalize_address(value: object, variable: str) -> str:
    """The form rsyslog's %fromhost-ip% shows for a sender at this address, or fail.

    An IPv4-mapped IPv6 address is the IPv4 sender it stands for (rsyslog receives IPv4 on an IPv4 socket);
    a link-local IPv6 address only means something with its interface, which getnameinfo() appends as '%zone'.
    """
    text = value.strip() if isinstance(value, str) else str(value) if value is not None else ""
    zone = ""
    if "%" in text:
        text, zone = text.split("%", 1)
        _interface(zone, f"{variable}: the zone of {value!r}")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise NetconsoleError(f"{variable}: {value!r} is not an IPv4 or IPv6 address") from None
    if address.version == 6 and address.ipv4_mapped is not None:
        if zone:
            raise NetconsoleError(f"{variable}: {value!r} is an IPv4 address; it takes no zone")
        return str(address.ipv4_mapped)
    if address.version == 6 and address.is_link_local:
        if not zone:
            raise NetconsoleError(
                f"{variable}: {value!r} is link-local, the same address on every link; add the receiver's "
                f"interface it arrives on, e.g. '{address}%eth0'"
            )
        return f"{address}%{zone}"
    if zone:
        raise NetconsoleError(f"{variable}: {value!r}: only a link-local IPv6 address (fe80::/10) takes a zone")
    return str(address)


def validate_friends(friends: object, variable: str = "receiver_friends") -> list[dict]:
    """Return ``[{name, addresses, readers}]`` with canonical addresses, or fail naming the variable."""
    if not isinstance(friends, (list, tuple)):
        raise NetconsoleError(f"{variable}: expected a list of friends, got {type(friends).__name__}")
    result: list[dict] = []
    names: dict[str, int] = {}
    owners: dict[str, str] = {}
    for index, friend in enumerate(friends):
        where = f"{variable}[{index}]"
        friend = as_mapping(friend, where, "a mapping with name, addresses and readers")
        check_keys(friend, FRIEND_KEYS, where)
        name = _check_name(friend.get("name"), f"{where}.name")
        where = f"{variable}[{name}]"
        if name in names:
            raise NetconsoleError(f"{where}.name: {name!r} is given twice (entries {names[name]} and {index})")
        names[name] = index
        addresses = [
            normalize_address(address, f"{where}.addresses")
            for address in as_list(friend.get("addresses"), f"{where}.addresses")
        ]
        if not addresses:
            raise NetconsoleError(f"{where}.addresses: at least one source address is needed")
        for address in addresses:
            if address in owners and owners[address] != name:
                raise NetconsoleError(
                    f"{where}.addresses: {address} is also given for friend {owners[address]!r}; "
                    "lines are filed by source address, so each address belongs to one friend"
                )
            owners[address] = name
        readers = [_check_reader(u, f"{where}.readers") for u in as_list(friend.get("readers"), f"{where}.readers")]
        result.append({"name": name, "addresses": sorted(set(addresses)), "readers": sorted(set(readers))})
    return result


def check_log_root(value: object, variable: str = "receiver_log_root") -> str:
    text = check_pattern(
        value, _PATH_RE, variable, "an absolute path of letters, digits and '_.+@,:=-' (no spaces, quotes or globs)"
    )
    normal = posixpath.normpath(text)
    if normal != text:
        raise NetconsoleError(f"{variable}: {value!r} is not a normalized path; write {normal!r}")
    if text == "/":
        raise NetconsoleError(
            f"{variable}: '/' cannot hold the friends' directories; give a directory such as /var/log/remote"
        )
    return text


def check_input_options(options: object, variable: str = "receiver_input_options") -> list[tuple[str, str]]:
    """``[(parameter, value)]`` for rsyslog's imudp ``input()``: known parameters, each value checked."""
    options = as_mapping(options if options is not None else {}, variable)
    known = {name.lower(): name for name in INPUT_OPTIONS}
    checked = []
    for key, value in options.items():
        lower = str(key).lower()
        if lower in _ROLE_OWNED:
            raise NetconsoleError(f"{variable}: {key!r} is set by {_ROLE_OWNED[lower]}, not here")
        if lower in _MODULE_PARAMETERS:
            raise NetconsoleError(
                f"{variable}: {key!r} is a parameter of imudp's module(), not of input(); the role does not set it"
            )
        if lower not in known:
            raise NetconsoleError(
                f"{variable}: unknown imudp input() parameter {key!r}; the role accepts {', '.join(INPUT_OPTIONS)}"
            )
        name = known[lower]
        checked.append((name, INPUT_OPTIONS[name](value, f"{variable}.{name}")))
    return sorted(checked)


def _check_reachable(bind: str, friends: list[dict], variable: str) -> None:
    """rsyslog binds one socket to a given address (IPv6 sockets IPV6_V6ONLY): the other family never arrives."""
    if not bind:
        return
    version = ipaddress.ip_address(bind.partition("%")[0]).version
    for friend in friends:
        for address in friend["addresses"]:
            if ipaddress.ip_address(address.partition("%")[0]).version != version:
                raise NetconsoleError(
                    f"{variable}: {bind} is an IPv{version} address, so rsyslog would never receive from "
                    f"receiver_friends[{friend['name']}].addresses {address} (IPv{6 if version == 4 else 4}); "
                    "leave receiver_bind_address empty to listen on both"
                )


def _check_mail(value: object, variable: str) -> str:
    return check_pattern(value, _MAIL_RE, variable, "a mail address like alice@example.org (no name, spaces or commas)")


def _check_url(value: object, variable: str) -> str:
    text = check_pattern(
        value, _URL_RE, variable, "an http:// or https:// URL (host, optional port, path; no spaces or quotes)"
    )
    port = re.match(r"https?://(?:\[[^]]*\]|[^:/]*)(?::([0-9]+))?", text).group(1)
    if port is not None and not 1 <= int(port) <= 65535:
        raise NetconsoleError(f"{variable}: {value!r} has port {port}; give a port from 1 to 65535")
    return text


def validate_events(settings: Mapping, friends: list[dict]) -> dict:
    """The events service and the alerts: ``on``, ``sendmail``, ``mail_from`` and per friend ``name``,
    ``addresses``, ``silence``, ``alert_on``, ``mail``, ``webhook`` (every friend, alerts or not). A variable
    missing from ``settings`` takes its role default; one given as null is refused like any wrong value."""

    enabled = as_bool(settings.get("receiver_events", True), "receiver_events")
    silence = _int_text(
        settings.get("receiver_events_silence", 900), "receiver_events_silence", SILENCE_MIN, SILENCE_MAX
    )
    sendmail = check_path(
        settings.get("receiver_alert_sendmail", "/usr/sbin/sendmail"),
        "receiver_alert_sendmail",
        "the events service runs it to send alert mails",
    )
    sender = settings.get("receiver_alert_from", "")
    sender = "" if sender == "" else _check_mail(sender, "receiver_alert_from")
    alerts = as_mapping(
        settings.get("receiver_alerts", {}), "receiver_alerts", "a mapping of friend name to alert settings"
    )
    names = [friend["name"] for friend in friends]
    addresses = {friend["name"]: list(friend.get("addresses", [])) for friend in friends}
    for name in alerts:
        if name not in names:
            raise NetconsoleError(
                f"receiver_alerts: {name!r} is not in receiver_friends ({', '.join(names) or 'none'}); alerts are "
                "for the friends this receiver keeps logs of"
            )
    out = []
    for name in names:
        where = f"receiver_alerts[{name}]"
        entry = as_mapping(alerts.get(name) or {}, where, "a mapping with mail, webhook, alert_on, silence")
        check_keys(entry, ALERT_KEYS, where)
        mail = [_check_mail(address, f"{where}.mail") for address in as_list(entry.get("mail"), f"{where}.mail")]
        webhook = entry.get("webhook")
        webhook = "" if webhook in (None, "") else _check_url(webhook, f"{where}.webhook")
        kinds = as_list(entry.get("alert_on", list(ALERT_KINDS)), f"{where}.alert_on")
        for kind in kinds:
            if kind not in ALERT_KINDS:
                raise NetconsoleError(f"{where}.alert_on: {kind!r} is not one of {', '.join(ALERT_KINDS)}")
        own_silence = entry.get("silence", silence)
        out.append(
            {
                "name": name,
                # where the friend sends from: the service counts a silence only while this receiver has a way
                # to hear one of them (a route, its interface up)
                "addresses": addresses[name],
                "silence": _int_text(own_silence, f"{where}.silence", SILENCE_MIN, SILENCE_MAX),
                "alert_on": [kind for kind in ALERT_KINDS if kind in kinds],
                "mail": sorted(set(mail)),
                "webhook": webhook,
            }
        )
    return {
        "on": enabled,
        "sendmail": sendmail,
        "mail_from": sender,
        "friends": out,
        "mail": any(friend["mail"] for friend in out),
    }


def validate_relp(settings: Mapping) -> dict:
    """The reliable channel's receiver variables: ``on``, ``port``, ``key``, ``cert``, ``peers``. A variable
    missing from ``settings`` takes its role default (the channel off)."""
    enabled = as_bool(settings.get("receiver_relp", False), "receiver_relp")
    peers = check_fingerprints(settings.get("receiver_relp_peers", []), "receiver_relp_peers")
    if enabled and not peers:
        raise NetconsoleError(
            "receiver_relp: the reliable channel is on but receiver_relp_peers is empty, so no friend could "
            "connect; give the friends' certificate fingerprints, or set receiver_relp to false"
        )
    return {
        "on": enabled,
        "port": tcp_port(settings.get("receiver_relp_port", RELP_PORT), "receiver_relp_port"),
        "key": check_config_path(settings.get("receiver_relp_key", RELP_KEY), "receiver_relp_key"),
        "cert": check_config_path(settings.get("receiver_relp_cert", RELP_CERT), "receiver_relp_cert"),
        "peers": peers,
    }


def without_secrets(checked: dict) -> dict:
    """validate_receiver's result without the friends' webhook URLs (they may carry a token): what may be shown.
    A webhook that is set reads "(set)"."""
    events = dict(checked["events"])
    events["friends"] = [dict(friend, webhook="(set)" if friend["webhook"] else "") for friend in events["friends"]]
    return dict(checked, events=events)


def validate_receiver(settings: Mapping, os_family: str = "Debian") -> dict:
    """Every receiver role variable, checked, in one place: ``settings`` maps each variable name to its value."""
    friends = validate_friends(settings.get("receiver_friends"))
    bind_value = settings.get("receiver_bind_address")
    bind = "" if bind_value is None or bind_value == "" else normalize_address(bind_value, "receiver_bind_address")
    _check_reachable(bind, friends, "receiver_bind_address")
    firewall = as_bool(settings.get("receiver_firewall"), "receiver_firewall")
    if firewall and os_family == "RedHat":
        for friend in friends:
            zoned = [a for a in friend["addresses"] if "%" in a]
            if zoned:
                raise NetconsoleError(
                    f"receiver_friends[{friend['name']}].addresses: firewalld rich rules take no zone, so "
                    f"{zoned[0]} cannot be opened with receiver_firewall; open it yourself and set "
                    "receiver_firewall false"
                )

    def number(name: str, minimum: int, maximum: int) -> int:
        return _int_text(settings.get(name), name, minimum, maximum)

    return {
        "friends": friends,
        "port": number("receiver_port", 1, 65535),
        "bind": bind,
        "log_root": check_log_root(settings.get("receiver_log_root")),
        "log_owner": _check_user(settings.get("receiver_log_owner"), "receiver_log_owner"),
        "log_group": _check_user(settings.get("receiver_log_group"), "receiver_log_group", "group"),
        "rcvbuf": number("receiver_rcvbuf", RCVBUF_MIN, RCVBUF_MAX),
        "input_options": check_input_options(settings.get("receiver_input_options")),
        "logrotate_rotate": number("receiver_logrotate_rotate", 0, 100000),
        "logrotate_maxage": number("receiver_logrotate_maxage", 1, 100000),
        "logrotate_maxsize": check_pattern(
            settings.get("receiver_logrotate_maxsize"),
            _SIZE_RE,
            "receiver_logrotate_maxsize",
            "a logrotate size: a number of bytes, or a number followed by k, M or G (e.g. 100M)",
        ),
        "manage_fstab": as_bool(settings.get("receiver_manage_fstab"), "receiver_manage_fstab"),
        "firewall": firewall,
        "cap": cap_plan(settings.get("receiver_friend_max_bytes"), settings.get("receiver_log_root")),
        "events": validate_events(settings, friends),
        "relp": validate_relp(settings),
    }


def refusals(checked: Mapping) -> dict:
    """config_check's ``refuse`` for validate_receiver's result: what the host must have and accept, in words that
    name the receiver variables (every missing account, group or program, every refusal, in one message)."""
    users: dict[str, list[str]] = {}
    for friend in checked["friends"]:
        for user in friend["readers"]:
            users.setdefault(user, []).append(
                f"receiver_friends[{friend['name']}].readers: user {user!r} does not exist on this host; "
                "create the account first (or remove it from readers);"
            )
    owner, group, events = checked["log_owner"], checked["log_group"], checked["events"]
    users.setdefault(owner, []).append(f"receiver_log_owner: user {owner!r} does not exist on this host;")
    return {
        "users": {user: " ".join(words) for user, words in users.items()},
        "groups": {group: f"receiver_log_group: group {group!r} does not exist on this host;"},
        "executables": {
            events["sendmail"]: (
                f"receiver_alerts: some friends get alert mails, but receiver_alert_sendmail {events['sendmail']} "
                "is not an executable on this host; install an MTA (exim4, postfix, or msmtp-mta to relay to a "
                "smarthost) or point receiver_alert_sendmail at its sendmail, or give those friends a webhook instead."
            )
        },
        "unescaping": (
            "turns off escapeControlCharactersOnReceive; friends' datagrams could then put terminal escape sequences "
            "into the files their readers view. Remove that setting, or receive netconsole on another host."
        ),
        "includes": (
            "/etc/rsyslog.conf does not include /etc/rsyslog.d/*.conf, so rsyslog would never read the role's "
            "drop-in; add the include (Debian's and RHEL's default configuration has it)."
        ),
        "rsyslog": (
            "rsyslogd -N1 refused rsyslog's configuration with the role's new drop-in (from receiver_friends, "
            "receiver_port, receiver_bind_address, receiver_log_root, receiver_log_owner, receiver_log_group, "
            "receiver_rcvbuf, receiver_input_options; with the reliable channel also receiver_relp_port, "
            "receiver_relp_peers, receiver_relp_key, receiver_relp_cert); nothing was changed. Another drop-in may "
            "already load imudp or imrelp with module() or bind the port. rsyslogd said:"
        ),
        "logrotate": (
            "logrotate -d refused the role's logrotate configuration (from receiver_log_root, "
            "receiver_logrotate_rotate, receiver_logrotate_maxage, receiver_logrotate_maxsize, receiver_log_owner, "
            "receiver_log_group); nothing was changed. logrotate said:"
        ),
        "nftables": (
            "nft -c refused the role's firewall table (from receiver_friends addresses and receiver_port, with "
            "receiver_firewall true); nothing was changed. nft said:"
        ),
    }


# Where the receiver files a friend's lines, under <log root>/<friend>/ (rsyslog.conf.j2, relp.conf.j2).
CONSOLE_LOG = "console.log"  # netconsole's datagrams
KERNEL_LOG = "kernel.log"  # the reliable channel's records


def receiver_state(checked: Mapping) -> dict:
    """What the receiver role exports as the fact ``receiver_state``: its friends, their files and its ports
    (the RELP port None where the reliable channel is off).

    ``checked`` is :func:`validate_receiver`'s result. Playbooks and tests read the files here instead of
    building ``<log root>/<name>/console.log`` again.
    """
    root = checked["log_root"]
    relp = checked["relp"]
    return {
        "log_root": root,
        "ports": {"udp": checked["port"], "relp": relp["port"] if relp["on"] else None},
        "friends": [dict(friend) for friend in checked["friends"]],
        "files": {
            friend["name"]: {
                "dir": f"{root}/{friend['name']}",
                "console": f"{root}/{friend['name']}/{CONSOLE_LOG}",
                "kernel": f"{root}/{friend['name']}/{KERNEL_LOG}",
            }
            for friend in checked["friends"]
        },
    }
