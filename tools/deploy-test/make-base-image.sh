#!/usr/bin/env bash
# Builds the local stand-in for node:20-bookworm-slim without any container registry: a
# Debian bookworm root file system from `debootstrap --variant=minbase` (same mirror as apt
# uses on this machine), the host's `node` binary copied in, a `node` user with uid/gid 1000
# (as in the official image), imported with `podman import`. Prints the image name.
# Cached: when the image already exists in .cache/deploy/storage, nothing is done. The tag
# carries the Node version, so a Node update on the host builds a new base.
#
# With --npm: that base plus the host's npm where the official image has it
# (/usr/local/lib/node_modules/npm, /usr/local/bin/npm and npx) — the stand-in for building
# with APP_FROM=source. When the host's Node trusts extra CAs (NODE_EXTRA_CA_CERTS, e.g. a
# TLS-inspecting proxy in front of the npm registry), the image trusts the same file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$(cd "$here/../.." && pwd)/.cache/deploy"
podman() { "$here/podman.sh" "$@"; }

with_npm=false
if [ "${1:-}" = --npm ]; then with_npm=true; fi

node_version="$(node --version)"
image="localhost/talk-node-base:bookworm-${node_version#v}"

# The npm variant, on top of the base (made first, below, when missing).
npm_image() {
  local npm_dir ca="${NODE_EXTRA_CA_CERTS:-}" ca_tag=none tag ctx
  npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  if [ -n "$ca" ] && [ -r "$ca" ]; then ca_tag="$(sha256sum "$ca" | cut -c1-12)"; else ca=""; fi
  tag="localhost/talk-node-npm:bookworm-${node_version#v}-npm$(npm --version)-ca-$ca_tag"
  if podman image exists "$tag"; then echo "$tag"; return; fi
  echo "[base-image] $tag: $image plus npm from $npm_dir${ca:+ and CAs from $ca}" >&2
  ctx="$cache/npm-context.tmp"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$npm_dir" "$ctx/npm"
  {
    echo "FROM $image"
    echo "COPY npm /usr/local/lib/node_modules/npm"
    echo "RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\"
    echo " && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && npm --version"
    if [ -n "$ca" ]; then
      cp "$ca" "$ctx/extra-ca.crt"
      echo "COPY extra-ca.crt /usr/local/share/extra-ca.crt"
      echo "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.crt"
    fi
  } >"$ctx/Containerfile"
  podman build --quiet --file "$ctx/Containerfile" --tag "$tag" "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "$tag"
}

if podman image exists "$image"; then
  if $with_npm; then npm_image; else echo "$image"; fi
  exit 0
fi

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
if $with_npm; then npm_image; else echo "$image"; fi
