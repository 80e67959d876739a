#!/usr/bin/env bash
# Installs the Debian packages Ratel builds and tests with, when they are missing.
# Each later subsystem adds its packages to NEEDED; a caller can ask for more as arguments
# (the FreeRADIUS comparison benchmark needs `freeradius`).
set -euo pipefail

NEEDED=(pkg-config zlib1g-dev libsqlite3-dev libjemalloc-dev libssl-dev postgresql freeradius-utils python3-pyrad kamailio kamailio-radius-modules sip-tester "$@")

missing=()
for package in "${NEEDED[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ratel: installing missing system packages: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ratel: apt-get is not available; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "ratel: not root and no sudo; install these packages by hand: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
