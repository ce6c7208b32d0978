#!/usr/bin/env bash
# Build a Debian test-host image with systemd as PID 1 from Debian's mirror (no registry here).
# The tag carries a hash of this recipe, so an unchanged recipe reuses the image.
# usage: build-image.sh SUITE   -> prints the image tag on stdout
set -euo pipefail
suite=${1:?usage: build-image.sh bookworm|trixie}
here=$(cd "$(dirname "$0")" && pwd)
packages=systemd-sysv,python3,python3-apt,python3-pyroute2,rsyslog,rsyslog-relp,openssl,iproute2,acl,logrotate,kmod,procps,udev,grub2-common,nftables,sudo
mirror=${DEBIAN_MIRROR:-$("$here/debian-mirror.sh")}
recipe_hash=$( { cat "$0"; echo "$suite $packages"; } | sha256sum | cut -c1-12)
tag="logswap-netconsole/debian:${suite}-${recipe_hash}"

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "image $tag is up to date" >&2
    echo "$tag"
    exit 0
fi

work=$(mktemp -d /var/tmp/logswap-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
echo "building $tag: debootstrap $suite from $mirror (about a minute)..." >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$work" "$mirror" >"$work.log" 2>&1 \
    || { tail -20 "$work.log" >&2; echo "debootstrap failed, full log: $work.log" >&2; exit 1; }
rm -f "$work.log"
# A container has no consoles to spawn and no hardware clock to sync.
chroot "$work" systemctl mask getty@tty1.service serial-getty@console.service \
    systemd-timesyncd.service systemd-udevd.service >/dev/null 2>&1 || true
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
printf 'deb %s %s main\n' "$mirror" "$suite" > "$work/etc/apt/sources.list"
echo "importing $tag..." >&2
tar -C "$work" -c . | docker import -c 'CMD ["/sbin/init"]' -c 'ENV container=docker' - "$tag" >/dev/null
echo "built $tag in $((SECONDS - start)) s" >&2
echo "$tag"
