#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline against Debian's libraries, or restores
# it from a cache outside the repo keyed by version. Idempotent.
#
# Why: mediasoup's postinstall downloads a prebuilt worker (GitHub) or builds
# via pip + meson wraps (network); neither is reachable on this machine kind.
# The installed binary lands in <mediasoup>/worker/out/Release, where mediasoup
# looks by default, so nothing at run time needs MEDIASOUP_WORKER_BIN.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pkg=$(cd "$root/server/node_modules/mediasoup" && pwd -P)
ver=$(node -p "require('$pkg/package.json').version")
cache="${GUISE_CACHE:-$HOME/.cache/guise}/mediasoup-worker-$ver"
dest="$pkg/worker/out/Release/mediasoup-worker"

# A worker started without its env exits with code 41: that proves it links and runs.
runs() { local rc=0; "$1" >/dev/null 2>&1 || rc=$?; [ "$rc" = 41 ]; }

install_bin() { mkdir -p "$(dirname "$dest")"; rm -f "$dest"; cp "$1" "$dest"; chmod +x "$dest"; }

if [ -x "$dest" ] && runs "$dest"; then echo "mediasoup-worker $ver: in place"; exit 0; fi
if [ -x "$cache/mediasoup-worker" ] && runs "$cache/mediasoup-worker"; then
  install_bin "$cache/mediasoup-worker"; echo "mediasoup-worker $ver: restored from $cache"; exit 0
fi

case "$ver" in
  3.19.3) overlay="$here/overlay-3.19.3.sh" ;; # newest with engines.node >=20 (3.19.4+ need Node 22)
  *) echo "mediasoup $ver has no offline build recipe here (see scripts/mediasoup/)" >&2; exit 1 ;;
esac

# Build in a scratch copy: pnpm hard-links package files to its global store,
# so patching them in node_modules would corrupt the store.
work=$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-$ver.XXXX")
trap 'rm -rf "$work"' EXIT
cp -rL "$pkg/worker" "$work/worker"
bash "$overlay" "$work/worker"
start=$(date +%s)
cd "$work/worker"
meson setup --buildtype release -Db_ndebug=true -Db_pie=true -Db_staticpic=true \
  -Dms_disable_liburing=true --wrap-mode=nodownload build >/dev/null
meson compile -C build flatbuffers-generator >/dev/null
meson compile -C build -j "$(nproc)" mediasoup-worker
runs build/mediasoup-worker || { echo "built mediasoup-worker does not run" >&2; exit 1; }
mkdir -p "$cache"; cp build/mediasoup-worker "$cache/mediasoup-worker.tmp"
mv "$cache/mediasoup-worker.tmp" "$cache/mediasoup-worker"
install_bin "$cache/mediasoup-worker"
echo "mediasoup-worker $ver: built in $(( $(date +%s) - start )) s, cached in $cache"
