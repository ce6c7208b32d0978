#!/usr/bin/env bash
# QEMU guests for the kernel scenario: Debian's kernel, booted through GRUB from their own disks.
#   vm.sh start NAME N    start guest N (1 or 2) if it is not running, wait for ssh on 127.0.0.1:222N
#   vm.sh stop NAME       stop it and remove its disks
#   vm.sh ssh NAME CMD... run a command in it
# eth0: QEMU user networking, only for ssh from this host. eth1: 52:54:00:77:00:0N, address 192.168.77.N,
# on one L2 segment shared by the guests through UDP sockets on 127.0.0.1 (stateless, survives reboots).
# Guest 1 gets a second disk (/dev/vdb) for a log root mounted noacl, and a spare one (/dev/vdc) whose driver
# the tests unbind and bind to make the kernel print a line with a dictionary (SUBSYSTEM=, DEVICE=).
# LOGSWAP_VM_SLOT=K (default 0) moves everything by K: ssh 22K1/22K2, L2 sockets 107K1/107K2, .cache/vm/run-K,
# so a second pair of guests can run beside the first (a probe while a scenario runs).
# LOGSWAP_VM_SSH_WAIT (default 300) is how long a guest may take to answer ssh.
# VM_SUITE and VM_BACKPORTS_KERNEL choose the image (scripts/build-vm-image.sh); VM_SUITE_N and
# VM_BACKPORTS_KERNEL_N, where set, choose guest N's (make kernel runs guest2 on Debian 13's 7.3 beside 6.1).
set -euo pipefail
cd "$(dirname "$0")/.."
slot=${LOGSWAP_VM_SLOT:-0}
[[ $slot =~ ^[0-9]$ ]] || { echo "LOGSWAP_VM_SLOT must be one digit, not '$slot'" >&2; exit 2; }
ssh_base=$((2220 + 10 * slot)) l2_base=$((10770 + 10 * slot))
# seconds a guest may take to answer ssh; a machine shared with other TCG guests and containers needs more
ssh_wait=${LOGSWAP_VM_SSH_WAIT:-300}
[[ $ssh_wait =~ ^[0-9]+$ ]] || { echo "LOGSWAP_VM_SSH_WAIT must be whole seconds, not '$ssh_wait'" >&2; exit 2; }
run=.cache/vm/run
[ "$slot" = 0 ] || run=.cache/vm/run-$slot
key=.cache/vm/id_ed25519
mkdir -p "$run"

ssh_opts() {
    echo -i "$key" -p "$1" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o ConnectTimeout=3 -o BatchMode=yes
}

start() {
    local name=$1 n=$2 peer=$((3 - $2)) base
    local pidfile=$run/$name.pid port=$((ssh_base + n))
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "$name is running (ssh port $port)" >&2
        return
    fi
    local suite_var=VM_SUITE_$n backports_var=VM_BACKPORTS_KERNEL_$n
    base=$(VM_SUITE=${!suite_var:-${VM_SUITE:-bookworm}} VM_BACKPORTS_KERNEL=${!backports_var:-${VM_BACKPORTS_KERNEL:-0}} \
        scripts/build-vm-image.sh)
    qemu-img create -q -f qcow2 -b "$(readlink -f "$base")" -F raw "$run/$name.qcow2"
    local extra=()
    if [ "$n" = 1 ]; then
        truncate -s 256M "$run/$name-data.raw"
        truncate -s 1M "$run/$name-spare.raw"
        extra=(-drive "file=$run/$name-data.raw,if=virtio,format=raw" -drive "file=$run/$name-spare.raw,if=virtio,format=raw")
    fi
    # The guests' L2 link is UDP between the two QEMU processes, which read their socket only between slices of
    # TCG emulation: with the default receive buffer (rmem_default, about 208 KiB) a guest's boot burst of
    # netconsole datagrams overflowed it (the host's Udp RcvbufErrors rose by hundreds) and a reboot went unseen.
    # QEMU sets no SO_RCVBUF of its own, so the host default is raised for the sockets it opens from now on.
    local rmem
    rmem=$(cat /proc/sys/net/core/rmem_default)
    if [ "$rmem" -lt 8388608 ]; then
        echo "==> raising net.core.rmem_default from $rmem to 8388608 for the guests' UDP link" >&2
        sysctl -q -w net.core.rmem_max=$(( $(cat /proc/sys/net/core/rmem_max) > 8388608 ? $(cat /proc/sys/net/core/rmem_max) : 8388608 ))
        sysctl -q -w net.core.rmem_default=8388608
    fi
    echo "==> booting $name (TCG, GRUB, ssh on 127.0.0.1:$port)" >&2
    qemu-system-x86_64 -accel tcg -smp 1 -m 1024 -name "$name" \
        -drive "file=$run/$name.qcow2,if=virtio,format=qcow2" "${extra[@]}" \
        -netdev "user,id=mgmt,hostfwd=tcp:127.0.0.1:$port-:22" -device "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:0$n" \
        -netdev "socket,id=l2,udp=127.0.0.1:$((l2_base + peer)),localaddr=127.0.0.1:$((l2_base + n))" \
        -device "virtio-net-pci,netdev=l2,mac=52:54:00:77:00:0$n" \
        -serial "file:$run/$name.console" -display none -daemonize -pidfile "$pidfile"
    wait_ssh "$name" "$port"
}

wait_ssh() {
    local name=$1 port=$2 start=$SECONDS
    # shellcheck disable=SC2046
    until ssh $(ssh_opts "$port") root@127.0.0.1 true 2>/dev/null; do
        if [ $((SECONDS - start)) -gt "$ssh_wait" ]; then
            echo "$name did not answer ssh within $ssh_wait s; console: $run/$name.console" >&2
            tail -30 "$run/$name.console" >&2
            exit 1
        fi
        sleep 2
    done
    echo "==> $name answers ssh after $((SECONDS - start)) s" >&2
}

stop() {
    local name=$1 pidfile=$run/$1.pid
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile" "$run/$name.qcow2" "$run/$name-data.raw" "$run/$name-spare.raw"
}

case ${1:-} in
    start) start "$2" "$3" ;;
    stop) stop "$2" ;;
    wait) wait_ssh "$2" "$((ssh_base + $3))" ;;
    ssh) name=$2; shift 2
         n=$(grep -o '[0-9]$' <<<"$name")
         # shellcheck disable=SC2046
         exec ssh $(ssh_opts $((ssh_base + n))) root@127.0.0.1 "$@" ;;
    *) echo "usage: $0 start NAME N | stop NAME | wait NAME N | ssh NAME CMD..." >&2; exit 2 ;;
esac
