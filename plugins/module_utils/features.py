# Copyright: logswap.netconsole contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which netconsole features a target directory offers, which to switch on, and what its counter says.

Pure logic: the target module lists the files of the live target directory, this decides. The names are the
kernel's own (drivers/net/netconsole.c: CONFIGFS_ATTR(sysdata_, cpu_nr_enabled) and friends, in the target's
``userdata/`` directory); its documentation has named them differently, so only the files count, never a version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ansible_collections.logswap.netconsole.plugins.module_utils.checks import NetconsoleError

# sysdata feature -> its file under <target>/userdata/ (Linux 6.15+; msgid later)
SYSDATA_FILES = {
    "cpu_nr": "cpu_nr_enabled",
    "taskname": "taskname_enabled",
    "release": "release_enabled",
    "msgid": "msgid_enabled",
}
# Where each feature first appeared, for messages and docs only: the decision is made on the files.
SINCE = {
    "release": "6.6",
    "userdata": "6.9",
    "transmit_errors": "6.13",
    "sysdata.cpu_nr": "6.15",
    "sysdata.taskname": "6.15",
    "sysdata.release": "6.15",
    "sysdata.msgid": "6.17",
}
# Read-only counters: reported, never compared or written.
COUNTERS = ("transmit_errors",)
MISSING_CHOICES = ("fail", "skip")


@dataclass(frozen=True)
class Offered:
    """What one live target directory offers (see :func:`offered_features`)."""

    release: bool = False
    userdata: bool = False
    transmit_errors: bool = False
    sysdata: frozenset[str] = frozenset()

    def names(self) -> list[str]:
        flags = [("release", self.release), ("userdata", self.userdata), ("transmit_errors", self.transmit_errors)]
        return [name for name, present in flags if present] + [f"sysdata.{s}" for s in sorted(self.sysdata)]


def offered_features(attributes: Iterable[str], userdata_files: Iterable[str] | None) -> Offered:
    """``attributes``: the files of the target directory; ``userdata_files``: the files (not the key
    directories) of its ``userdata/`` directory, or None when there is no ``userdata/`` (before 6.9)."""
    present = set(attributes)
    files = set(userdata_files or ())
    return Offered(
        release="release" in present,
        userdata=userdata_files is not None,
        transmit_errors="transmit_errors" in present,
        sysdata=frozenset(name for name, file in SYSDATA_FILES.items() if file in files),
    )


@dataclass
class FeaturePlan:
    """What to write and what to report for one target."""

    # file under userdata/ -> "0" or "1"; only files the kernel offers
    sysdata: dict[str, str] = field(default_factory=dict)
    # userdata to manage, or None to leave userdata alone (not asked for, or the kernel has none)
    userdata: dict[str, str] | None = None
    # features on after the change (what the friend will see), e.g. ["extended", "userdata.host", "sysdata.msgid"]
    enabled: list[str] = field(default_factory=list)
    # asked for, but this kernel lacks it: feature -> "Linux <version>+"
    lacking: dict[str, str] = field(default_factory=dict)
    # asked for and set, but not sent: userdata and sysdata travel only in extended messages
    unsent: list[str] = field(default_factory=list)

    def report(self) -> dict:
        return {"enabled": self.enabled, "lacking": self.lacking, "unsent": self.unsent}


def _lack(plan: FeaturePlan, feature: str, missing: str, target: str) -> None:
    since = SINCE.get(feature, "?")
    if missing == "fail":
        variable = "userdata" if feature == "userdata" else feature.replace(".", "[") + "]"
        raise NetconsoleError(
            f"{variable}: this kernel's netconsole has no {feature} (added in Linux {since}; target {target} "
            "offers no such file); leave it out, or let the module skip what the kernel lacks (missing: skip)"
        )
    plan.lacking[feature] = f"Linux {since}+"


def plan_features(
    offered: Offered,
    *,
    extended: bool,
    release: bool = False,
    sysdata: Mapping[str, bool] | None = None,
    userdata: Mapping[str, str] | None = None,
    missing: str = "fail",
    target: str = "target",
) -> FeaturePlan:
    """Decide what to write for the wanted features on a target that offers ``offered``.

    ``sysdata`` maps cpu_nr/taskname/release/msgid to on/off (a feature not named is left as it is);
    ``userdata`` is the whole wanted userdata (None: leave it alone). ``missing``: ``fail`` raises, naming the
    feature, before anything is written; ``skip`` leaves it out and reports it under ``lacking``.
    """
    if missing not in MISSING_CHOICES:
        raise NetconsoleError(f"missing: {missing!r} is not one of {', '.join(MISSING_CHOICES)}")
    unknown = sorted(set(sysdata or {}) - set(SYSDATA_FILES))
    if unknown:
        raise NetconsoleError(
            f"sysdata: unknown feature {unknown[0]!r}; the kernel knows {', '.join(sorted(SYSDATA_FILES))}"
        )
    plan = FeaturePlan()
    if extended:
        plan.enabled.append("extended")
    if release:
        if not offered.release:  # always fatal: the command line carries it too, and it changes every line
            raise NetconsoleError(
                f"release: this kernel's netconsole has no 'release' attribute "
                f"(added in Linux 6.6); set release: false (target {target})"
            )
        plan.enabled.append("release")
    extra: list[str] = []
    for name, on in sorted((sysdata or {}).items()):
        feature = f"sysdata.{name}"
        if name not in offered.sysdata:
            if on:
                _lack(plan, feature, missing, target)
            continue
        plan.sysdata[SYSDATA_FILES[name]] = "1" if on else "0"
        if on:
            extra.append(feature)
    if userdata:
        if offered.userdata:
            plan.userdata = dict(userdata)
            extra.extend(f"userdata.{key}" for key in sorted(userdata))
        else:
            _lack(plan, "userdata", missing, target)
    elif userdata is not None and offered.userdata:
        plan.userdata = {}  # asked for none: remove what an earlier run set
    if extended:
        plan.enabled.extend(extra)
    else:
        plan.unsent.extend(extra)
    return plan


def counter_change(previous: object, current: int | None) -> dict:
    """transmit_errors now, at the previous run, and the difference.

    The kernel's counter starts at 0 with the target (a reboot, a target made again), so a value below the
    previous one means it was reset: the change is then what was counted since.
    """
    result: dict = {"transmit_errors": current, "previous": None, "change": None, "reset": False}
    if current is None:
        return result
    try:
        before = int(str(previous).strip()) if previous is not None else None
    except ValueError:
        before = None  # an unreadable note counts as no previous run
    if before is None or before < 0:
        return result
    result["previous"] = before
    if current < before:
        result.update(change=current, reset=True)
    else:
        result["change"] = current - before
    return result


def features_summary(name: str, plan: FeaturePlan | None, counter: dict | None) -> str:
    """One line for the run's output: what is on, what this kernel lacks, the counter."""
    if plan is None:
        return f"{name}: features are known once the target exists (check mode)"
    parts = [f"{name}: on: {', '.join(plan.enabled) or 'nothing beyond the plain format'}"]
    if plan.lacking:
        parts.append("this kernel lacks: " + ", ".join(f"{k} ({v})" for k, v in sorted(plan.lacking.items())))
    if plan.unsent:
        parts.append("set but not sent without extended: " + ", ".join(plan.unsent))
    if counter and counter.get("transmit_errors") is not None:
        change = counter.get("change")
        since = (
            "first reading"
            if change is None
            else (f"+{change} since the counter was reset" if counter.get("reset") else f"+{change} since the last run")
        )
        parts.append(f"transmit_errors {counter['transmit_errors']} ({since})")
    else:
        parts.append("transmit_errors: not offered (Linux 6.13+)")
    return "; ".join(parts)
