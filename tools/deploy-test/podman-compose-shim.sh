#!/usr/bin/env bash
# The podman that Debian's podman-compose 1.0.3 calls in the compose test (--podman-path):
# podman.sh, minus one argument pair. podman-compose 1.0.3 adds "--net <project>_default
# --network-alias <service>" to every `run`, even for services with network_mode: host, and
# podman refuses a second network next to host networking (fixed in podman-compose 1.0.6).
# For such a `run` the pair is dropped; everything else passes through unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
args=("$@")
host=0
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  if [ "${args[i]}" = "--network" ] && [ "${args[i + 1]}" = "host" ]; then host=1; fi
done
if [ "${args[0]:-}" = "run" ] && [ "$host" = 1 ]; then
  out=()
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      --net | --network-alias) i=$((i + 1)) ;;
      *) out+=("${args[i]}") ;;
    esac
  done
  args=("${out[@]}")
fi
exec "$here/podman.sh" "${args[@]}"
