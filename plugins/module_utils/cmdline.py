# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One home for the kernel command line: the words the sender puts there, how GRUB and grubby must be
given them so they arrive whole, and reading them back from /proc/cmdline, grub.cfg and ``grubby --info``.

Why quoting matters: ``;`` separates netconsole targets, and ``;`` also ends a command in grub.cfg (and in a
BLS entry's ``options``, which GRUB's blscfg runs as script). Unquoted, a second target becomes a command of
its own and everything after the first target (``loglevel=``, ``panic=``) never reaches the kernel.
GRUB removes its quotes before it hands the words to the kernel, so /proc/cmdline shows the bare word.

Pure logic, no host access.
"""

from __future__ import annotations

import re

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError, as_int

# The netconsole value is addresses, ports, MACs, an interface name and the separators , @ / ; + (and r).
# Anything else could mean something to the shell that sources the GRUB drop-in or to GRUB itself.
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.:,@/+=;-]+")
# Any word this role puts on the command line: the netconsole characters, and '$' for memmap=SIZE$ADDR (pstore
# at an explicit address). '$' is single-quoted for GRUB (which would expand it) and escaped for the shell.
_TRANSPORT_WORD = re.compile(r"[A-Za-z0-9_.:,@/+=;$-]+")
# Words GRUB reads as they are (no quoting needed).
_GRUB_PLAIN = re.compile(r"[A-Za-z0-9_.:,@/+=-]+")
# Debian's initramfs-tools reads netconsole= and loads the module with it; everywhere else (dracut, a module
# loaded by systemd) the module takes its parameter as <module>.<parameter>= (kmod reads it from /proc/cmdline).
DEBIAN_KEY = "netconsole"
MODULE_KEY = "netconsole.netconsole"
NETCONSOLE_KEYS = (DEBIAN_KEY, MODULE_KEY)


def word_key(word: str) -> str:
    return word.split("=", 1)[0]


def netconsole_words(
    parameter: str, loglevel: object, panic: object, module_form: bool = False, variable: str = "sender_targets"
) -> list[str]:
    """The kernel command line words, as /proc/cmdline will show them: netconsole, loglevel, panic (if > 0)."""
    if not _SAFE_WORD.fullmatch(parameter or ""):
        bad = sorted({c for c in parameter or "" if not _SAFE_WORD.fullmatch(c)})
        raise NetconsoleError(
            f"{variable}: the netconsole parameter {parameter!r} holds {', '.join(map(repr, bad)) or 'nothing'}; "
            "the kernel command line takes only letters, digits and _ . : , @ / + = ; - here "
            "(give dev_name as an interface name made of those)"
        )
    words = [f"{MODULE_KEY if module_form else DEBIAN_KEY}={parameter}"]
    words.append(f"loglevel={as_int(loglevel, 'sender_loglevel', 0, 8)}")
    seconds = as_int(panic, "sender_panic_timeout", 0)
    if seconds > 0:
        words.append(f"panic={seconds}")
    return words


def grub_quote(word: str) -> str:
    """The word as GRUB must read it: single-quoted when it holds ``;`` or ``$`` (GRUB strips the quotes again).

    Single quotes are literal in GRUB script; inside the double quotes of the shell drop-in only ``$`` still
    means something, so :func:`grub_dropin_values` escapes it there.
    """
    if _GRUB_PLAIN.fullmatch(word):
        return word
    if not _TRANSPORT_WORD.fullmatch(word):
        raise NetconsoleError(f"kernel command line: {word!r} cannot be passed through GRUB safely")
    return f"'{word}'"


def grub_dropin_values(words: list[str]) -> dict[str, str]:
    """What the drop-in appends: netconsole to GRUB_CMDLINE_LINUX (every entry, recovery too), the rest to
    GRUB_CMDLINE_LINUX_DEFAULT (after its ``quiet``, so loglevel wins). The values go between the double
    quotes of a shell assignment: ``$`` is escaped there, so the shell hands GRUB ``'memmap=1M$0x...'``."""
    linux = [grub_quote(w) for w in words if word_key(w) in NETCONSOLE_KEYS]
    default = [grub_quote(w) for w in words if word_key(w) not in NETCONSOLE_KEYS]
    return {"linux": " ".join(linux).replace("$", "\\$"), "default": " ".join(default).replace("$", "\\$")}


def kernel_words(cmdline: str) -> list[str]:
    """Split /proc/cmdline as the kernel does: on blanks, double quotes group (and are dropped)."""
    words, current, quoted, started = [], [], False, False
    for char in cmdline:
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        words.append("".join(current))
    return words


def missing_words(wanted: list[str], cmdline: str) -> list[str]:
    """Wanted words not on the command line, compared whole (``loglevel=7`` is not ``loglevel=70``)."""
    present = set(kernel_words(cmdline))
    return [w for w in wanted if w not in present]


def parameter_from_cmdline(cmdline: str) -> str | None:
    """The last netconsole value on a kernel command line (``netconsole=`` or ``netconsole.netconsole=``)."""
    found = None
    for word in kernel_words(cmdline):
        key, sep, value = word.partition("=")
        if sep and key in NETCONSOLE_KEYS:
            found = value
    return found


def grub_commands(script: str) -> list[list[str]]:
    """Commands of a GRUB script as GRUB's lexer splits them into words (quotes removed, ``;`` and newlines
    end a command, ``#`` starts a comment). Variables are left unexpanded; enough to read ``linux`` lines."""
    commands: list[list[str]] = []
    words: list[str] = []
    current: list[str] = []
    started = False
    i, n = 0, len(script)

    def end_word() -> None:
        nonlocal current, started
        if started:
            words.append("".join(current))
        current, started = [], False

    def end_command() -> None:
        nonlocal words
        end_word()
        if words:
            commands.append(words)
        words = []

    while i < n:
        char = script[i]
        if char == "'":
            close = script.find("'", i + 1)
            close = n if close < 0 else close
            current.append(script[i + 1 : close])
            started, i = True, close + 1
            continue
        if char == '"':
            i += 1
            while i < n and script[i] != '"':
                if script[i] == "\\" and i + 1 < n and script[i + 1] in '"\\$\n':
                    i += 1
                current.append(script[i])
                i += 1
            started, i = True, i + 1
            continue
        if char == "\\" and i + 1 < n:
            if script[i + 1] != "\n":
                current.append(script[i + 1])
                started = True
            i += 2
            continue
        if char == "#" and not started:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if char in ";\n":
            end_command()
        elif char.isspace():
            end_word()
        else:
            current.append(char)
            started = True
        i += 1
    end_command()
    return commands


def grub_cfg_problems(grub_cfg: str, words: list[str]) -> list[str]:
    """What is wrong with the kernel command lines of a generated grub.cfg, as GRUB will read them.

    Every ``linux`` command of this system's kernels (grub-mkconfig's 10_linux section when marked; other
    systems found by os-prober and custom entries are not ours) must carry the netconsole word whole, and the
    first one (the default entry) every word. An empty list means the boot will pass them intact.
    """
    begin, end = "### BEGIN /etc/grub.d/10_linux ###", "### END /etc/grub.d/10_linux ###"
    if begin in grub_cfg:
        grub_cfg = grub_cfg.split(begin, 1)[1].split(end, 1)[0]
    linux = [c for c in grub_commands(grub_cfg) if c[0] in ("linux", "linuxefi", "linux16")]
    if not linux:
        return ["no linux command in grub.cfg"]
    problems = []
    netconsole = [w for w in words if word_key(w) in NETCONSOLE_KEYS]
    for index, command in enumerate(linux):
        lacking = [w for w in (words if index == 0 else netconsole) if w not in command[2:]]
        if lacking:
            problems.append(f"linux command {index} ({command[1]}) lacks {' '.join(lacking)}: {' '.join(command)}")
    return problems


def grubby_entries(info: str) -> list[tuple[list[str], list[str]]]:
    """(raw words, words as GRUB reads them) of every ``args="..."`` line of ``grubby --info=ALL``."""
    entries = []
    for line in info.splitlines():
        if not line.startswith("args="):
            continue
        text = line[len("args=") :].strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        lexed = grub_commands(text)
        entries.append((text.split(), [w for command in lexed for w in command]))
    return entries


def _as_grub_reads(raw: str) -> str:
    commands = grub_commands(raw)
    return " ".join(commands[0]) if commands else ""


# pstore's words (module_utils/pstore.py): the four ramoops parameters the role writes (another, such as
# ramoops.ecc, is the user's); memmap= and reserve_mem= only where a ramoops word of the same kernel names their
# region, and efi_pstore's switch only as the role writes it.
PSTORE_KEYS = ("ramoops.mem_address", "ramoops.mem_size", "ramoops.mem_name", "ramoops.record_size")
EFI_PSTORE_ON = "efi_pstore.pstore_disable=N"
REGION_KEYS = ("memmap", "reserve_mem")


def _owned_key(key: str, managed: set[str]) -> bool:
    return key in managed or key in PSTORE_KEYS


def _stale_regions(raws: list[str], lexed: list[str], wanted: set[str]) -> list[str]:
    """Raw words of one kernel's arguments that are pstore's region or switch, no longer wanted."""
    addresses = {w.split("=", 1)[1] for w in lexed if w.startswith("ramoops.mem_address=")}
    names = {w.split("=", 1)[1] for w in lexed if w.startswith("ramoops.mem_name=")}
    stale = []
    for raw in raws:
        word = _as_grub_reads(raw)
        if word in wanted:
            continue
        key, _sep, value = word.partition("=")
        if (
            (key == "memmap" and value.rpartition("$")[2] in addresses)
            or (key == "reserve_mem" and value.rpartition(":")[2] in names)
            or word == EFI_PSTORE_ON
        ):
            stale.append(raw)
    return stale


def grubby_argv(info: str, words: list[str]) -> list[str]:
    """The grubby command that puts ``words`` on every kernel, or [] when every kernel already has them.

    Words are quoted for GRUB (a BLS ``options`` line and grub.cfg are both GRUB script). A netconsole word
    this role no longer wants (the other key, a value quoted differently) is removed by its key as grubby
    stores it, because grubby replaces an argument only when the key matches character for character.
    """
    entries = grubby_entries(info)
    wanted = set(words)
    managed = ({word_key(w) for w in words} - set(REGION_KEYS)) | set(NETCONSOLE_KEYS)
    stale = {
        word_key(raw)
        for raws, _lexed in entries
        for raw in raws
        if _owned_key(word_key(raw).strip("'\""), managed) and _as_grub_reads(raw) not in wanted
    }
    # pstore's region words go whole (by key they would take a memmap= or reserve_mem= of the user's along)
    stale_whole = {raw for raws, lexed in entries for raw in _stale_regions(raws, lexed, wanted)}
    if entries and not stale and not stale_whole and all(wanted <= set(lexed) for _raws, lexed in entries):
        return []
    # grubby itself replaces a word whose key is written exactly as the one added; the others go by key
    added_keys = {word_key(grub_quote(w)) for w in words}
    remove = sorted(stale - added_keys) + sorted(stale_whole)
    argv = ["grubby", "--update-kernel=ALL", "--args=" + " ".join(grub_quote(w) for w in words)]
    if remove:
        argv.append("--remove-args=" + " ".join(remove))
    return argv
