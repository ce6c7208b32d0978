#!/usr/bin/env bash
# Build the test images side by side (each is mostly waiting for the mirror and dpkg): the Debian 12 and 13
# container images, and with --vm the QEMU disk images of the kernel scenario (Debian 12; Debian 13 with its backports kernel). Unchanged recipes are reused.
# Each build's output goes to build/logs/image-NAME.log; a failure shows its end.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/logs
declare -A pids=()
launch() {
    local name=$1
    shift
    "$@" >"build/logs/image-$name.log" 2>&1 &
    pids[$name]=$!
}
launch bookworm scripts/build-image.sh bookworm
launch trixie scripts/build-image.sh trixie
if [ "${1:-}" = --vm ]; then
    launch vm scripts/build-vm-image.sh
    # make kernel's guest2: Debian 13 with trixie-backports' kernel
    launch vm-trixie env VM_SUITE=trixie VM_BACKPORTS_KERNEL=1 scripts/build-vm-image.sh
fi
echo "==> test images: ${!pids[*]} side by side (progress in build/logs/image-*.log)"
failed=0
for name in "${!pids[@]}"; do
    if wait "${pids[$name]}"; then
        grep -hE '^(built|image|VM image)' "build/logs/image-$name.log" || true
    else
        echo "image $name FAILED; the end of build/logs/image-$name.log:" >&2
        tail -n 20 "build/logs/image-$name.log" >&2
        failed=1
    fi
done
exit "$failed"
