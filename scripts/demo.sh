#!/usr/bin/env bash
# make demo: two local containers (Debian 12 and 13) log to each other with the real playbook.
# make demo-clean: remove them.
set -euo pipefail
cd "$(dirname "$0")/.."
network=logswap-demo
declare -A image=([alpha]=bookworm [beta]=trixie) address=([alpha]=172.30.79.11 [beta]=172.30.79.12)

if [ "${1:-}" = clean ]; then
    docker rm -f logswap-demo-alpha logswap-demo-beta >/dev/null 2>&1 || true
    docker network rm "$network" >/dev/null 2>&1 || true
    echo "demo hosts removed"
    exit 0
fi

start=$SECONDS
docker network inspect "$network" >/dev/null 2>&1 ||
    docker network create --subnet 172.30.79.0/24 "$network" >/dev/null
for host in alpha beta; do
    name=logswap-demo-$host
    tag=$(scripts/build-image.sh "${image[$host]}")
    if [ "$(docker inspect -f '{{.Config.Image}} {{.State.Running}}' "$name" 2>/dev/null)" != "$tag true" ]; then
        docker rm -f "$name" >/dev/null 2>&1 || true
        echo "==> starting $name (${image[$host]}, ${address[$host]})"
        docker run -d --name "$name" --hostname "$host" --network "$network" --ip "${address[$host]}" \
            --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --cgroupns host \
            -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
            "$tag" /sbin/init >/dev/null
    fi
done
for host in alpha beta; do
    until docker exec "logswap-demo-$host" systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; do
        sleep 0.5
    done
done
# Each friend has an account on the other's machine (in real life: the friend's own login there).
docker exec logswap-demo-alpha sh -c 'id beta >/dev/null 2>&1 || useradd -m beta'
docker exec logswap-demo-beta sh -c 'id alpha >/dev/null 2>&1 || useradd -m alpha'

echo "==> ansible-playbook logswap.netconsole.netconsole on inventories/demo"
ansible-playbook -i inventories/demo/hosts.yml playbooks/netconsole.yml
echo "==> ansible-playbook logswap.netconsole.verify"
ansible-playbook -i inventories/demo/hosts.yml playbooks/verify.yml | grep -E 'delivered|NOT DELIVERED|EMULATION|PLAY RECAP|failed=' || true

cat <<MSG

==> Done in $((SECONDS - start)) s. Where each host's kernel lines landed:
MSG
for pair in "alpha beta" "beta alpha"; do
    read -r sender receiver <<<"$pair"
    echo "--- $sender's lines on $receiver: /var/log/remote/$sender/console.log (on $receiver only root, adm and the account '$sender' read it)"
    docker exec "logswap-demo-$receiver" tail -n 3 "/var/log/remote/$sender/console.log"
done
echo
echo "==> a scripted incident: alpha sends what a dying kernel would (a lost line, a soft lockup, a panic, a reboot)"
docker exec -i logswap-demo-alpha python3 - "${address[beta]}" 6666 <scripts/demo_incident.py
for _ in $(seq 50); do
    docker exec logswap-demo-beta grep -q 'Kernel panic' /var/log/remote/alpha/console.log && break
    sleep 0.2
done
echo "==> the morning after, alpha reads the story on beta with its own account: netconsole-report alpha --since 1h"
docker exec logswap-demo-beta runuser -u alpha -- netconsole-report alpha --since 1h
cat <<'MSG'

Look for yourself:
  docker exec logswap-demo-beta runuser -u alpha -- tail -f /var/log/remote/alpha/console.log
  docker exec logswap-demo-beta getfacl /var/log/remote/alpha
  docker exec logswap-demo-beta runuser -u alpha -- netconsole-report alpha --json
  ansible-playbook -i inventories/demo/hosts.yml playbooks/report.yml -e report_friend=alpha -l beta -e ansible_user=alpha

These containers share the host's kernel, which has no netconsole, so the kernel side was skipped with a
message and the verification sent the datagrams netconsole would send (it says EMULATION). On real servers
the same playbook configures the kernel; see docs/friend-inventory.md:
  ansible-playbook -i my-friends.yml playbooks/netconsole.yml   # then playbooks/verify.yml
Remove the demo hosts with: make demo-clean
MSG
