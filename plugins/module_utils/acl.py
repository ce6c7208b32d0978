# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Named-user POSIX ACL entries: read them from getfacl, plan setfacl to reach exactly a reader set."""

from __future__ import annotations

from dataclasses import dataclass, field

DIRECTORY_PERMS = "r-x"
FILE_PERMS = "r--"
# Files inherit r-x from the directory's default ACL; the mask (0640 -> r--) leaves read only,
# so both count as "reader can read" and neither is rewritten.
FILE_PERMS_ACCEPTED = ("r--", "r-x")


@dataclass
class PathAcl:
    path: str
    is_dir: bool
    users: dict[str, str] = field(default_factory=dict)  # access entries user:NAME:PERMS
    default_users: dict[str, str] = field(default_factory=dict)  # default:user:NAME:PERMS


def parse_getfacl(text: str, directories: set[str]) -> list[PathAcl]:
    """Blocks of ``getfacl -R -p --absolute-names`` output, named user entries only."""
    acls: list[PathAcl] = []
    current: PathAcl | None = None
    for line in text.splitlines():
        line = line.split("#effective:")[0].strip()
        if line.startswith("# file: "):
            path = line[len("# file: ") :]
            current = PathAcl(path=path, is_dir=path in directories)
            acls.append(current)
            continue
        if current is None or not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if parts[0] == "default" and len(parts) == 4 and parts[1] == "user" and parts[2]:
            current.default_users[parts[2]] = parts[3]
        elif len(parts) == 3 and parts[0] == "user" and parts[1]:
            current.users[parts[1]] = parts[2]
    return acls


def plan(acl: PathAcl, readers: list[str]) -> tuple[list[str], list[str]]:
    """(entries to set with setfacl -m, entries to remove with setfacl -x) for one path."""
    perms = DIRECTORY_PERMS if acl.is_dir else FILE_PERMS
    accepted = (DIRECTORY_PERMS,) if acl.is_dir else FILE_PERMS_ACCEPTED
    modify = [f"u:{r}:{perms}" for r in readers if acl.users.get(r) not in accepted]
    remove = [f"u:{u}" for u in sorted(acl.users) if u not in readers]
    if acl.is_dir:
        modify += [f"d:u:{r}:{DIRECTORY_PERMS}" for r in readers if acl.default_users.get(r) != DIRECTORY_PERMS]
        remove += [f"d:u:{u}" for u in sorted(acl.default_users) if u not in readers]
    return modify, remove


def describe(acl: PathAcl) -> str:
    lines = [f"user:{u}:{p}" for u, p in sorted(acl.users.items())]
    lines += [f"default:user:{u}:{p}" for u, p in sorted(acl.default_users.items())]
    return "".join(f"{acl.path}: {line}\n" for line in lines) or f"{acl.path}: (no named users)\n"


def expected(acl: PathAcl, readers: list[str]) -> PathAcl:
    perms = DIRECTORY_PERMS if acl.is_dir else FILE_PERMS
    return PathAcl(
        path=acl.path,
        is_dir=acl.is_dir,
        users={r: perms for r in readers},
        default_users={r: DIRECTORY_PERMS for r in readers} if acl.is_dir else {},
    )
