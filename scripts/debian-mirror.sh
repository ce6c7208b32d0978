#!/usr/bin/env bash
# Print the Debian mirror this machine's apt uses (only that mirror is reachable here).
set -uo pipefail
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -E '^(URIs:|deb )' | grep -v -e security -e nodesource -e google | awk '{ print $2; exit }')
echo "${mirror:-http://deb.debian.org/debian}"
