"""Fleet benchmark: the main playbook on rings of containers, each host logging to the next.

For each ring size (2, 8 and 16 by default; the 2-ring is "the pair" every other ring is compared with) it starts
that many containers from the project's local test image (fleet-01, fleet-02, ... on the network fleet-net,
172.30.90.0/24, so nothing collides with the molecule scenarios or the demo), runs playbooks/netconsole.yml on
them twice (the first run and a no-change run), and records for each run:
  seconds        wall clock of ansible-playbook
  tasks          tasks run (ok, which counts changed) and skipped per host, from the play recap (mean and max)
  changed        tasks changed on all hosts together (0 expected on the no-change run)
  controller     CPU seconds (user + system) of ansible-playbook and everything it started (the docker CLI
                 processes included), per host
  hosts          CPU seconds the containers' cgroups used during the run (cpuacct.usage), per host
and prints each as a ratio to the pair's in the same run. The rings' containers are removed after each ring and
at exit. The whole run holds $LOGSWAP_HEAVY_LOCK (default /tmp/logswap-heavy.lock; empty: none). Results go to
build/bench/fleet.json and each run's output to build/bench/fleet/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import yaml
from lock import heavy_lock

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "fleet"
RESULTS = ROOT / "build" / "bench" / "fleet.json"
NETWORK, SUBNET, PREFIX = "fleet-net", "172.30.90", "fleet-"
CGROUP = Path("/sys/fs/cgroup/cpuacct/docker")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
PROGRESS_EVERY = 15.0  # seconds between progress lines of a running step


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True).stdout.strip()


def host_names(size: int) -> list[str]:
    return [f"{PREFIX}{i:02d}" for i in range(1, size + 1)]


def remove_containers() -> None:
    names = docker("ps", "-aq", "--filter", f"name=^{PREFIX}")
    if names:
        docker("rm", "-f", *names.split(), check=False)


def cleanup() -> None:
    remove_containers()
    docker("network", "rm", NETWORK, check=False)


def start_ring(image: str, size: int) -> dict[str, str]:
    """Start the ring's containers (as the molecule scenarios do: systemd as PID 1); their ids by name."""
    remove_containers()
    if subprocess.run(["docker", "network", "inspect", NETWORK], capture_output=True, check=False).returncode:
        docker("network", "create", "--subnet", f"{SUBNET}.0/24", NETWORK)
    ids = {}
    for i, name in enumerate(host_names(size), start=1):
        ids[name] = docker(
            "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--ip", f"{SUBNET}.{10 + i}",
            "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined",
            "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", image, "/sbin/init",
        )  # fmt: skip
    deadline = time.monotonic() + 120
    for name in ids:
        while True:
            state = subprocess.run(
                ["docker", "exec", name, "systemctl", "is-system-running"], capture_output=True, text=True, check=False
            ).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not finish booting within 120 s (systemd says {state!r})")
            time.sleep(0.5)
    return ids


def write_inventory(size: int) -> Path:
    path = WORK / f"inventory-{size}.yml"
    inventory = {
        "netconsole": {
            "hosts": {name: {"ansible_host": name} for name in host_names(size)},
            "vars": {
                "ansible_connection": "community.docker.docker",
                "ansible_python_interpreter": "/usr/bin/python3",
                # a container has no kernel log of its own (as in the pair scenario)
                "sender_relp_kernel_input": False,
            },
        }
    }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def cgroup_cpu(ids: dict[str, str]) -> float:
    """CPU seconds all the ring's containers have used so far (their cgroups count every process in them)."""
    return sum(int((CGROUP / cid / "cpuacct.usage").read_text()) for cid in ids.values()) / 1e9


@contextlib.contextmanager
def progress(label: str, log: Path) -> Iterator[None]:
    """A line every PROGRESS_EVERY seconds: how long the step has run and the task it is at."""
    done = threading.Event()
    start = time.monotonic()

    def report() -> None:
        while not done.wait(PROGRESS_EVERY):
            tasks = re.findall(r"^TASK \[(.*?)\]", log.read_text(errors="replace"), re.M) if log.exists() else []
            at = f", at task {len(tasks)}: {tasks[-1][:70]}" if tasks else ""
            print(f"    {label}: {time.monotonic() - start:.0f} s{at}", flush=True)

    thread = threading.Thread(target=report, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def run_playbook(inventory: Path, ids: dict[str, str], label: str, extra: list[str]) -> dict:
    log = WORK / f"{label.replace(' ', '-')}.log"
    cpu_before = cgroup_cpu(ids)
    start = time.monotonic()
    with log.open("w") as out, progress(label, log):
        proc = subprocess.Popen(
            ["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks" / "netconsole.yml"), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            # wait4: the CPU of ansible-playbook and every process it started and reaped (workers, docker exec)
            _pid, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: stop the run before the containers go
            proc.terminate()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    host_cpu = cgroup_cpu(ids) - cpu_before
    recap = {m[1]: [int(x) for x in m.groups()[1:]] for m in map(RECAP.match, log.read_text().splitlines()) if m}
    if proc.returncode != 0 or set(recap) != set(ids) or any(r[2] or r[3] for r in recap.values()):
        raise SystemExit(f"{label}: ansible-playbook failed (rc {proc.returncode}); see {log}")
    size = len(ids)
    ok = [r[0] for r in recap.values()]
    skipped = [r[4] for r in recap.values()]
    return {
        "seconds": round(seconds, 1),
        "tasks_run": round(sum(ok) / size, 1),
        "tasks_run_max": max(ok),
        "tasks_skipped": round(sum(skipped) / size, 1),
        "changed": sum(r[1] for r in recap.values()),
        "controller_cpu_per_host": round((usage.ru_utime + usage.ru_stime) / size, 2),
        "host_cpu_per_host": round(host_cpu / size, 2),
    }


def ratio(value: float, pair: float) -> str:
    return f"{value / pair:.2f}x" if pair else "-"


def print_table(results: dict) -> None:
    pair = results["rings"][str(min(int(s) for s in results["rings"]))]
    print()
    print(
        "| ring | run | seconds | x pair | tasks run per host (max) | skipped | changed | controller CPU s per host "
        "| x pair | hosts' CPU s per host | x pair |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, runs in results["rings"].items():
        for run, r in runs.items():
            p = pair[run]
            ctl, hst = "controller_cpu_per_host", "host_cpu_per_host"
            print(
                f"| {size} | {run} | {r['seconds']} | {ratio(r['seconds'], p['seconds'])} "
                f"| {r['tasks_run']} ({r['tasks_run_max']}) | {r['tasks_skipped']} | {r['changed']} "
                f"| {r[ctl]} | {ratio(r[ctl], p[ctl])} | {r[hst]} | {ratio(r[hst], p[hst])} |"
            )
    print()
    print(f"forks {results['forks']}, load average before: {results['load_before']}, after: {results['load_after']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2,8,16", help="ring sizes, comma-separated (the smallest is the pair)")
    parser.add_argument("--image", help="the test image (default: scripts/build-image.sh bookworm)")
    parser.add_argument("--forks", type=int, help="ansible-playbook --forks (default: ansible.cfg's)")
    parser.add_argument("--table", action="store_true", help="print the table of the last results and stop")
    args = parser.parse_args()
    if args.table:
        if not RESULTS.exists():
            print(f"no results in {RESULTS} yet: run make bench-fleet first", file=sys.stderr)
            return 1
        print_table(json.loads(RESULTS.read_text()))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    image = (
        args.image
        or subprocess.run(
            [str(ROOT / "scripts" / "build-image.sh"), "bookworm"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    extra = ["--forks", str(args.forks)] if args.forks else []
    WORK.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill cleans up as Ctrl-C does
    results: dict = {"image": image, "forks": args.forks or "ansible.cfg", "rings": {}}
    with heavy_lock():
        results["load_before"] = os.getloadavg()
        try:
            for size in sizes:
                print(f"==> ring of {size}: starting {size} containers from {image}", flush=True)
                started = time.monotonic()
                ids = start_ring(image, size)
                print(f"    {size} containers up in {time.monotonic() - started:.0f} s", flush=True)
                inventory = write_inventory(size)
                runs = {}
                for run in ("first", "no-change"):
                    runs[run] = run_playbook(inventory, ids, f"ring {size} {run}", extra)
                    print(f"    ring {size} {run}: {runs[run]}", flush=True)
                results["rings"][str(size)] = runs
                remove_containers()
        finally:
            cleanup()
        results["load_after"] = os.getloadavg()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
