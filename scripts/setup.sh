#!/usr/bin/env bash
# One-time (and safe to repeat) preparation of a Debian 12 machine, as root:
# apt packages, a running dockerd, the pinned venv, and this work tree as the
# logswap.netconsole collection Ansible loads. Prints what it did; a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
did=()

step() { printf '==> %s\n' "$*"; }

need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "make setup installs packages and starts dockerd: run it as root" >&2
        exit 1
    fi
}

apt_packages() {
    local missing=()
    mapfile -t wanted < <(grep -vE '^\s*(#|$)' requirements/apt.txt)
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    step "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    did+=("apt packages")
}

docker_daemon() {
    docker info >/dev/null 2>&1 && return
    step "starting dockerd"
    if [ -d /run/systemd/system ]; then
        systemctl start docker
    else
        nohup dockerd >/var/log/logswap-dockerd.log 2>&1 &
    fi
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && { did+=("dockerd"); return; }
        sleep 1
    done
    echo "dockerd did not answer within 60 s; see /var/log/logswap-dockerd.log" >&2
    exit 1
}

python_venv() {
    local stamp=.venv/.requirements.sha256 want
    want=$(sha256sum < requirements/requirements.txt | cut -d' ' -f1)
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return
    step "creating .venv from requirements/requirements.txt (about a minute)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements/requirements.txt
    echo "$want" > "$stamp"
    did+=("venv")
}

collection_link() {
    local link=.cache/collections/ansible_collections/logswap/netconsole
    [ -L "$link" ] && [ "$(readlink -f "$link")" = "$root" ] && return
    step "linking this work tree as logswap.netconsole"
    mkdir -p "$(dirname "$link")"
    ln -sfn ../../../.. "$link"
    did+=("collection link")
}

need_root
start=$SECONDS
apt_packages
docker_daemon
python_venv
collection_link
if [ ${#did[@]} -eq 0 ]; then
    echo "setup: nothing was needed ($((SECONDS - start)) s)"
else
    echo "setup: done (${did[*]}) in $((SECONDS - start)) s"
fi
