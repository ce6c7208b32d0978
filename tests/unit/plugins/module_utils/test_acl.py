from __future__ import annotations

from ansible_collections.logswap.netconsole.plugins.module_utils.acl import describe, parse_getfacl, plan

GETFACL = """\
# file: /var/log/remote/alice
# owner: root
# group: adm
user::rwx
user:alice:r-x
user:mallory:r-x
group::r-x
mask::r-x
other::---
default:user::rwx
default:user:alice:r-x
default:group::r-x
default:mask::r-x
default:other::---

# file: /var/log/remote/alice/console.log
# owner: root
# group: adm
user::rw-
user:alice:r-x\t#effective:r--
group::r-x\t#effective:r--
mask::r--
other::---
"""


def acls():
    return parse_getfacl(GETFACL, {"/var/log/remote/alice"})


def test_named_users_are_read_per_path():
    directory, log = acls()
    assert directory.is_dir and directory.users == {"alice": "r-x", "mallory": "r-x"}
    assert directory.default_users == {"alice": "r-x"}
    assert not log.is_dir and log.users == {"alice": "r-x"}


def test_a_user_no_longer_listed_is_removed_everywhere():
    directory, log = acls()
    assert plan(directory, ["alice"]) == ([], ["u:mallory"])
    assert plan(log, ["alice"]) == ([], [])


def test_inherited_r_x_on_files_is_accepted_as_read():
    _directory, log = acls()
    assert plan(log, ["alice"]) == ([], [])


def test_new_reader_gets_access_and_default_entries():
    directory, log = acls()
    assert plan(directory, ["alice", "carol"]) == (["u:carol:r-x", "d:u:carol:r-x"], ["u:mallory"])
    assert plan(log, ["carol"]) == (["u:carol:r--"], ["u:alice"])


def test_describe_is_stable():
    _directory, log = acls()
    assert describe(log) == "/var/log/remote/alice/console.log: user:alice:r-x\n"
