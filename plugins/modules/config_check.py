#!/usr/bin/python
# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_check
short_description: Check new rsyslog drop-ins, logrotate and nftables files with the programs that read them
version_added: 0.1.0
description:
  - Copies the host's whole rsyslog configuration into a scratch directory with the new drop-ins in place of the
    old ones, and runs C(rsyslogd -N1) on it, C(logrotate -d) on the new logrotate file and C(nft -c) on the new
    table. Nothing outside the scratch directory is written, in check mode or not, and the scratch directory is
    removed whatever happens.
  - Also says which of the host's other rsyslog files turn off C(escapeControlCharactersOnReceive) and whether the
    main configuration includes the drop-in directory at all.
  - It reports what the programs said. With O(refuse) it fails with every problem O(refuse) names at once, each in
    the caller's words (the receiver role's messages name its variables); without it, it never fails for a finding.
  - Also says which of the accounts, groups and programs the new configuration names do not exist on the host
    (the log owner, the readers granted by ACL, the local MTA's sendmail).
  - One module run for what takes fifteen (getent, stat, find, slurp, tempfile, copies, templates, three commands,
    cleanup).
author:
  - logswap.netconsole maintainers (@logswap)
options:
  rsyslog_dropins:
    description:
      - New drop-ins, file name to content; they replace the files of the same name in O(rsyslog_dir).
      - A name is a plain file name ending in C(.conf) (the name the main configuration includes).
    type: dict
    default: {}
  rsyslog_omit:
    description: File names in O(rsyslog_dir) to leave out (drop-ins the new configuration removes).
    type: list
    elements: str
    default: []
  logrotate:
    description: The new logrotate configuration; not checked when not given.
    type: str
  nftables:
    description: The new nftables table; not checked when not given.
    type: str
  users:
    description: Accounts the new configuration names; those the host does not know are returned in RV(missing).
    type: list
    elements: str
    default: []
  groups:
    description: Groups the new configuration names; those the host does not know are returned in RV(missing).
    type: list
    elements: str
    default: []
  executables:
    description: Programs the new configuration runs; those that are not executable files are in RV(missing).
    type: list
    elements: path
    default: []
  rsyslog_conf:
    description: rsyslog's main configuration.
    type: path
    default: /etc/rsyslog.conf
  rsyslog_dir:
    description: The drop-in directory the main configuration includes.
    type: path
    default: /etc/rsyslog.d
  refuse:
    description:
      - Fail with every problem found that a key here names, each in the words given (the checks all run first).
      - V(users), V(groups), V(executables) map a name to the message for it missing (a name without one gets
        "user 'x' does not exist on this host.").
      - V(unescaping) follows the files that turn off escapeControlCharactersOnReceive; V(includes) is said when
        the main configuration does not include O(rsyslog_dir); V(rsyslog), V(logrotate), V(nftables) are
        followed by what the program said when it refused.
      - Not given, the module reports and never fails for a finding.
    type: dict
extends_documentation_fragment:
  - logswap.netconsole.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Check the new drop-in and logrotate file
  logswap.netconsole.config_check:
    rsyslog_dropins:
      30-logswap-netconsole.conf: "{{ lookup('ansible.builtin.template', 'rsyslog.conf.j2') }}"
    logrotate: "{{ lookup('ansible.builtin.template', 'logrotate.j2') }}"
    users: [syslog, alice]
    groups: [adm]
  register: checked

- name: Refuse what rsyslogd refused
  ansible.builtin.assert:
    that: checked.rsyslog.rc == 0
    fail_msg: "rsyslogd -N1 said: {{ checked.rsyslog.output }}"

- name: Check, and fail with every problem in one message
  logswap.netconsole.config_check:
    rsyslog_dropins:
      30-logswap-netconsole.conf: "{{ lookup('ansible.builtin.template', 'rsyslog.conf.j2') }}"
    users: [alice]
    refuse:
      users: {alice: "receiver_readers: user 'alice' does not exist on this host."}
      rsyslog: "rsyslogd -N1 refused the new drop-in (from receiver_port). rsyslogd said:"
"""

RETURN = r"""
rsyslog:
  description: C(rsyslogd -N1) on the whole configuration, scratch paths given back as the real ones.
  returned: always
  type: dict
  sample: {rc: 0, output: "rsyslogd: version 8.2302.0, config validation run (level 1), master config ..."}
logrotate:
  description:
    - C(logrotate -d) on the new file, and the lines of its output that name an error.
    - rc 0 and no errors when O(logrotate) was not given.
  returned: always
  type: dict
  sample: {rc: 0, errors: []}
nftables:
  description: C(nft -c -f) on the new table; rc 0 and no output when O(nftables) was not given.
  returned: always
  type: dict
  sample: {rc: 0, output: ""}
unescaping:
  description: The host's other rsyslog files that turn off escapeControlCharactersOnReceive.
  returned: always
  type: list
  elements: str
includes_dropins:
  description: Whether the main configuration names the drop-in directory (else it never reads the drop-ins).
  returned: always
  type: bool
missing:
  description:
    - The O(users) and O(groups) the host's name service does not know (local files, LDAP, whatever NSS reads),
      and the O(executables) that are not executable files, each in the order given.
  returned: always
  type: dict
  sample: {users: [alice], groups: [], executables: [/usr/sbin/sendmail]}
"""

import glob
import grp
import os
import pwd
import re
import shutil
import tempfile
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.logswap.netconsole.plugins.module_utils.configcheck import REFUSE_KEYS, refusals

UNESCAPING = re.compile(r"(?im)^[^#\n]*escapecontrolcharactersonreceive\W*(off|0)\b")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}\.conf")


def read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def unescaping(conf: str, others: list[str]) -> list[str]:
    """The files that turn off escaping control characters on receive."""
    return [path for path in [conf, *others] if os.path.isfile(path) and UNESCAPING.search(read(path))]


def write(path: str, text: str, mode: int = 0o600) -> None:
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w", encoding="utf-8") as handle:
        handle.write(text)


def scratch_rsyslog(scratch: str, main_text: str, dropin_dir: str, kept: list[str], new: dict[str, str]) -> str:
    """The main configuration reading its drop-ins from the scratch copy of the directory; its path."""
    scratch_dir = os.path.join(scratch, "rsyslog.d")
    os.mkdir(scratch_dir, 0o700)
    for path in kept:
        shutil.copyfile(path, os.path.join(scratch_dir, os.path.basename(path)))
    for name, text in new.items():
        write(os.path.join(scratch_dir, name), text)
    conf = os.path.join(scratch, "rsyslog.conf")
    write(conf, main_text.replace(dropin_dir + "/", scratch_dir + "/"))
    return conf


def unknown(names: list[str], lookup: Callable[[str], object]) -> list[str]:
    """The names the name service does not know (lookup raises KeyError for them)."""
    missing = []
    for name in names:
        try:
            lookup(name)
        except KeyError:
            missing.append(name)
    return missing


def is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def missing_references(params: dict) -> dict[str, list[str]]:
    return {
        "users": unknown(params["users"], pwd.getpwnam),
        "groups": unknown(params["groups"], grp.getgrnam),
        "executables": [path for path in params["executables"] if not is_executable_file(path)],
    }


def run(module: AnsibleModule, argv: list[str], real_paths: dict[str, str]) -> dict:
    """rc and what the program said, the scratch copies' paths given back as the real files'."""
    binary = module.get_bin_path(argv[0], required=True, opt_dirs=["/usr/sbin", "/sbin"])
    rc, out, err = module.run_command([binary, *argv[1:]])
    output = f"{err}\n{out}".strip()
    for scratch, real in real_paths.items():
        output = output.replace(scratch, real)
    return {"rc": rc, "output": output}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "rsyslog_dropins": {"type": "dict", "default": {}},
            "rsyslog_omit": {"type": "list", "elements": "str", "default": []},
            "logrotate": {"type": "str"},
            "nftables": {"type": "str"},
            "users": {"type": "list", "elements": "str", "default": []},
            "groups": {"type": "list", "elements": "str", "default": []},
            "executables": {"type": "list", "elements": "path", "default": []},
            "rsyslog_conf": {"type": "path", "default": "/etc/rsyslog.conf"},
            "rsyslog_dir": {"type": "path", "default": "/etc/rsyslog.d"},
            "refuse": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    params = module.params
    new, omit, dropin_dir = params["rsyslog_dropins"], set(params["rsyslog_omit"]), params["rsyslog_dir"].rstrip("/")
    bad = sorted(name for name in [*new, *omit] if not NAME.fullmatch(name))
    if bad:
        module.fail_json(
            msg=f"rsyslog_dropins/rsyslog_omit: {', '.join(map(repr, bad))} is not a plain file name ending in .conf"
        )
    unknown_keys = sorted(set(params["refuse"] or {}) - set(REFUSE_KEYS))
    if unknown_keys:
        module.fail_json(msg=f"refuse: unknown keys {', '.join(unknown_keys)}; give some of {', '.join(REFUSE_KEYS)}")
    if not os.path.isfile(params["rsyslog_conf"]):
        module.fail_json(msg=f"rsyslog_conf: {params['rsyslog_conf']} is not a file; is rsyslog installed?")
    main_text = read(params["rsyslog_conf"])
    others = sorted(glob.glob(os.path.join(dropin_dir, "*.conf")))
    kept = [path for path in others if os.path.basename(path) not in new and os.path.basename(path) not in omit]
    result = {
        "changed": False,
        "unescaping": unescaping(params["rsyslog_conf"], kept),
        "includes_dropins": dropin_dir + "/" in main_text,
        "logrotate": {"rc": 0, "errors": []},
        "nftables": {"rc": 0, "output": ""},
        "missing": missing_references(params),
    }
    scratch = tempfile.mkdtemp(suffix=".logswap-check")
    real_paths = {f"{scratch}/rsyslog.d/": f"{dropin_dir}/", f"{scratch}/rsyslog.conf": params["rsyslog_conf"]}
    try:
        conf = scratch_rsyslog(scratch, main_text, dropin_dir, kept, {k: str(v) for k, v in new.items()})
        result["rsyslog"] = run(module, ["rsyslogd", "-N1", "-f", conf], real_paths)
        if params["logrotate"] is not None:
            write(os.path.join(scratch, "logrotate"), params["logrotate"], 0o644)
            checked = run(module, ["logrotate", "-d", os.path.join(scratch, "logrotate")], {})
            errors = [line for line in checked["output"].splitlines() if "error" in line]
            result["logrotate"] = {"rc": checked["rc"], "errors": errors}
        if params["nftables"] is not None:
            write(os.path.join(scratch, "nftables.nft"), params["nftables"])
            result["nftables"] = run(module, ["nft", "-c", "-f", os.path.join(scratch, "nftables.nft")], {})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    problems = refusals(result, params["refuse"]) if params["refuse"] else []
    if problems:
        module.fail_json(msg=" ".join(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
