#!/usr/bin/env bash
# The test command (README, `npm test`, `.ci/run`): installs what the tests need on a fresh
# Debian machine with Node 20 (system packages and npm dependencies), then typechecks, lints,
# builds and runs every project's tests through Nx, and prints `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false FORCE_COLOR=0

# Debian packages the tests start for real (nats-server, etcd, janus, chromium) or use (protoc, ip).
# The deployment tests (tools/deploy-test) build and run images (podman, buildah, runc; a base
# image from debootstrap), start the compose stack (podman-compose) and scrape the servers
# with prometheus; TLS is tested behind nginx, caddy and apache2 (run with their own configs).
PACKAGES=(nats-server etcd-server janus protobuf-compiler iproute2 chromium
  podman buildah runc debootstrap uidmap fuse-overlayfs podman-compose prometheus nextcloud-spreed-signaling
  coturn nginx caddy apache2)
# kubectl renders the Kustomize manifests (deploy-test). Debian's is kubernetes-client; only
# when no kubectl exists, since another kubectl package (e.g. Google's) conflicts with it.
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[test] installing Debian packages: ${missing[*]}"
  # Installed packages would start their services (nginx, apache2 and caddy on ports 80/443):
  # a policy-rc.d that refuses every start, only for this install, unless the machine has one.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy"
  fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  installed=$?
  [ -n "$policy" ] && $SUDO rm -f "$policy"
  [ $installed -eq 0 ] || { echo "[test] apt-get install failed"; echo "0 passed, 1 failed"; exit 1; }
fi

if [ ! -x node_modules/.bin/nx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[test] installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
fi

status=0
echo "[test] typecheck, lint and build"
npx nx run-many -t typecheck,lint,build --outputStyle=stream || status=1

rm -rf dist/test-results
echo "[test] tests"
npx nx run-many -t test --parallel=1 --outputStyle=stream || status=1

node tools/ci/sum-results.mjs dist/test-results $status
