#!/usr/bin/env bash
# Builds the local stand-in for node:20-bookworm-slim without any container registry: a
# Debian bookworm root file system from `debootstrap --variant=minbase` (same mirror as apt
# uses on this machine), the host's `node` binary copied in, a `node` user with uid/gid 1000
# (as in the official image), imported with `podman import`. Prints the image name.
# Cached: when the image already exists in .cache/deploy/storage, nothing is done. The tag
# carries the Node version, so a Node update on the host builds a new base.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$(cd "$here/../.." && pwd)/.cache/deploy"
podman() { "$here/podman.sh" "$@"; }

node_version="$(node --version)"
image="localhost/talk-node-base:bookworm-${node_version#v}"
if podman image exists "$image"; then echo "$image"; exit 0; fi

# The first Debian (not -security) URI of apt's sources; both one-line and deb822 formats.
mirror="${DEBIAN_MIRROR:-$(grep -hoE '(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -oE 'https?://[^[:space:]]+' | head -n1 || true)}"
mirror="${mirror:-http://deb.debian.org/debian}"

rootfs="$cache/rootfs.tmp"
rm -rf "$rootfs"
trap 'rm -rf "$rootfs"' EXIT
echo "[base-image] debootstrap --variant=minbase bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
  || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }

# Leaner image: no package cache, lists, docs, man pages or translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
install -m 0755 "$(command -v node)" "$rootfs/usr/local/bin/node"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" node --version >/dev/null

echo "[base-image] importing $image" >&2
tar --numeric-owner -C "$rootfs" -c . | podman import \
  --change 'ENV NODE_VERSION='"${node_version#v}" \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "$image"
