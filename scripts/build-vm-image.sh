#!/usr/bin/env bash
# Build a Debian 12 disk image that boots through GRUB with Debian's own kernel (netconsole as a module),
# for the QEMU guests of the kernel scenario. Cached under .cache/vm by a hash of this recipe.
# usage: build-vm-image.sh  -> prints the path of the raw base image
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${VM_SUITE:-bookworm}
# VM_BACKPORTS_KERNEL=1 replaces the kernel with bookworm-backports' (6.12).
backports=${VM_BACKPORTS_KERNEL:-0}
# exim4-daemon-light: Debian's own MTA, so the friend's alert mail is delivered to a local mailbox for real.
packages=linux-image-amd64,grub-pc,systemd-sysv,udev,kmod,iproute2,python3,python3-apt,python3-pyroute2,openssh-server,rsyslog,rsyslog-relp,openssl,acl,logrotate,procps,sudo,e2fsprogs,btrfs-progs,ifupdown,isc-dhcp-client,exim4-daemon-light
mirror=${DEBIAN_MIRROR:-$(scripts/debian-mirror.sh)}
hash=$( { cat "$0"; echo "$suite $backports $packages"; } | sha256sum | cut -c1-12)
# The debootstrap result depends only on these, so edits to the rest of this recipe reuse it.
rootfs_hash=$(echo "$suite $backports $packages" | sha256sum | cut -c1-12)
cache=.cache/vm
image=$cache/debian-$suite-$hash.raw
key=$cache/id_ed25519
mkdir -p "$cache"
# The key every image trusts, made once (two images build side by side).
exec 8>"$cache/.key.lock"
flock 8
[ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C logswap-kernel-test -f "$key"
exec 8>&-
# One build of each image at a time: both guests of a scenario ask for it at once.
exec 9>"$cache/.build-$suite-$hash.lock"
flock 9
if [ -f "$image" ]; then
    echo "VM image $image is up to date" >&2
    echo "$image"
    exit 0
fi

start=$SECONDS
work=$(mktemp -d /var/tmp/logswap-vm.XXXXXX)
loop=""
cleanup() {
    for m in dev/pts dev proc sys ""; do umount "$work/mnt/$m" 2>/dev/null || true; done
    if [ -n "$loop" ]; then losetup -d "$loop" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
rootfs=$cache/rootfs-$suite-$rootfs_hash.tar
mkdir -p "$work/root"
if [ -f "$rootfs" ]; then
    tar -C "$work/root" -xf "$rootfs"
else
    echo "building VM image: debootstrap $suite with its kernel and GRUB (about 3 minutes)..." >&2
    debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
    tar -C "$work/root" -cf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
fi
if [ "$backports" = 1 ] && [ ! -f "$work/root/etc/apt/sources.list.d/backports.list" ]; then
    echo "adding the $suite-backports kernel..." >&2
    echo "deb $mirror $suite-backports main" > "$work/root/etc/apt/sources.list.d/backports.list"
    chroot "$work/root" apt-get update -q >/dev/null
    chroot "$work/root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t "$suite-backports" linux-image-amd64 >/dev/null
    # Only the backports kernel stays: the role refuses release: true while a kernel older than 6.6 is installed.
    chroot "$work/root" env DEBIAN_FRONTEND=noninteractive apt-get autoremove -y -q --purge >/dev/null
fi

root=$work/root
echo "logswap-vm" > "$root/etc/hostname"
printf 'deb %s %s main\n' "$mirror" "$suite" > "$root/etc/apt/sources.list"
# eth0: QEMU user networking for ssh from the host; eth1: the guests' shared L2 segment (set per guest).
cat > "$root/etc/network/interfaces" <<'NET'
auto lo
iface lo inet loopback
auto eth0
iface eth0 inet dhcp
source /etc/network/interfaces.d/*
NET
mkdir -p "$root/etc/network/interfaces.d" "$root/root/.ssh" "$root/etc/default/grub.d"
# The L2 address comes from the last byte of eth1's MAC (52:54:00:77:00:0N -> 192.168.77.N), so both
# guests share one image and keep their address across reboots.
cat > "$root/etc/network/interfaces.d/eth1" <<'NET'
allow-hotplug eth1
iface eth1 inet manual
    up ip link set eth1 up
    up ip addr add 192.168.77.$((0x$(cut -d: -f6 /sys/class/net/eth1/address)))/24 dev eth1
NET
install -m 0600 "$key.pub" "$root/root/.ssh/authorized_keys"
cat > "$root/etc/default/grub.d/00-logswap-test.cfg" <<'GRUB'
GRUB_TIMEOUT=0
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_CMDLINE_LINUX="console=ttyS0,115200 net.ifnames=0 biosdevname=0"
GRUB_DISABLE_OS_PROBER=true
GRUB
echo "root:logswap" | chroot "$root" chpasswd
chroot "$root" systemctl enable ssh >/dev/null 2>&1 || true
chroot "$root" systemctl mask systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer man-db.timer >/dev/null 2>&1 || true
rm -rf "$root"/var/cache/apt/archives/*.deb

echo "making a 3 GB disk with an ext4 partition and GRUB in its MBR..." >&2
raw=$work/disk.raw
truncate -s 3G "$raw"
printf 'label: dos\n,,L,*\n' | sfdisk -q "$raw"
loop=$(losetup -f --show -P "$raw")
# With loop.max_part=0 the kernel does not scan partitions: add them (partx), and where udev is missing
# make the device node from sysfs.
partx -a "$loop" 2>/dev/null || true
for part in /sys/block/"${loop#/dev/}"/"${loop#/dev/}"p*; do
    [ -e "/dev/${part##*/}" ] || mknod "/dev/${part##*/}" b "$(cut -d: -f1 "$part/dev")" "$(cut -d: -f2 "$part/dev")"
done
mkfs.ext4 -q -L logswap-root "${loop}p1"
mkdir -p "$work/mnt"
mount "${loop}p1" "$work/mnt"
cp -a "$root/." "$work/mnt/"
echo "LABEL=logswap-root / ext4 errors=remount-ro 0 1" > "$work/mnt/etc/fstab"
for m in dev dev/pts proc sys; do mount --bind "/$m" "$work/mnt/$m"; done
chroot "$work/mnt" grub-install --target=i386-pc --modules="part_msdos ext2" "$loop" >/dev/null 2>&1
chroot "$work/mnt" update-grub >/dev/null 2>&1
sed -i "/^[[:space:]]*linux/ s|root=[^ ]*|root=LABEL=logswap-root|" "$work/mnt/boot/grub/grub.cfg"
for m in dev/pts dev proc sys ""; do umount "$work/mnt/$m"; done
losetup -d "$loop"; loop=""
mv "$raw" "$image"
find "$cache" -maxdepth 1 \( -name "debian-$suite-*.raw" -o -name "rootfs-$suite-*.tar" \) \
    ! -path "$image" ! -path "$rootfs" -delete
echo "built $image in $((SECONDS - start)) s" >&2
echo "$image"
