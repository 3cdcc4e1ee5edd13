#!/usr/bin/env bash
# podman with the deployment tests' settings: containers.conf from this folder, and images,
# layers and container state in the repository's ignored .cache/deploy/ (so a repeated run
# reuses the base image and the build cache, and the machine's own storage stays untouched).
# Usage: tools/deploy-test/podman.sh <podman arguments>   e.g. `... images`, `... ps -a`
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$(cd "$here/../.." && pwd)/.cache/deploy"
mkdir -p "$cache/storage" "$cache/run" "$cache/tmp"
# Build scratch space and RUN --mount=type=cache folders (buildah puts them under TMPDIR).
export TMPDIR="$cache/tmp"
export CONTAINERS_CONF="$here/containers.conf"
exec podman --root "$cache/storage" --runroot "$cache/run" --storage-driver overlay "$@"
