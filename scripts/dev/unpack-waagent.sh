#!/bin/sh
# Unpack the real Linux Azure guest agent (Debian package `waagent`) and the one
# non-stdlib Python module it imports (python3-distro) into <repo>/.tools/waagent/,
# for the agent-driven tests (test/agent/waagent_driver.py).
#
# Never `apt-get install waagent`: its maintainer scripts start a daemon that calls
# out to Azure. We only `apt-get download` the .deb files and `dpkg-deb -x` them.
#
# Idempotent: a second run only prints the path.
# stdout: the Python package root to put on PYTHONPATH (nothing else).
set -eu

WAAGENT_UPSTREAM_VERSION=2.7.3.0          # the version in Debian 12 (bookworm)
PACKAGES="waagent python3-distro"

repo=$(cd "$(dirname "$0")/../.." && pwd)
dest="$repo/.tools/waagent"
pyroot="$dest/root/usr/lib/python3/dist-packages"
marker="$dest/.unpacked-$WAAGENT_UPSTREAM_VERSION"

if [ -f "$marker" ] && [ -f "$pyroot/azurelinuxagent/ga/exthandlers.py" ]; then
    echo "$pyroot"
    exit 0
fi

log() { echo "unpack-waagent: $*" >&2; }

# A fresh machine may have empty package lists.
if ! apt-cache show waagent >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        log "package lists do not know waagent; running apt-get update"
        apt-get update >&2
    else
        log "apt does not know the package waagent: run 'sudo apt-get update' first"
        exit 1
    fi
fi

rm -rf "$dest"
mkdir -p "$dest/debs" "$dest/root"
# apt-get download writes into the current directory.
(cd "$dest/debs" && apt-get download $PACKAGES >&2)

deb=$(ls "$dest"/debs/waagent_*.deb)
version=$(dpkg-deb -f "$deb" Version)
case "$version" in
    "$WAAGENT_UPSTREAM_VERSION"-*) ;;
    *) log "expected waagent $WAAGENT_UPSTREAM_VERSION, apt offers $version"; exit 1 ;;
esac

for f in "$dest"/debs/*.deb; do
    log "unpacking $(basename "$f")"
    dpkg-deb -x "$f" "$dest/root"
done

if [ ! -f "$pyroot/azurelinuxagent/ga/exthandlers.py" ] || [ ! -d "$pyroot/distro" ]; then
    log "unexpected package layout: $pyroot lacks azurelinuxagent or distro"
    exit 1
fi

touch "$marker"
echo "$pyroot"
