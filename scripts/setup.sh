#!/usr/bin/env bash
# Installs what Wrenn needs on a fresh Debian 12 machine: system packages (through apt, announced first)
# and the npm workspace. Safe to rerun: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in qemu-system-x86 qemu-utils debootstrap busybox-static tini e2fsprogs cpio postgresql-15 tmux gcc libc6-dev; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Wrenn needs these system packages: ${need[*]}" >&2
    echo "Run this again as root (sudo make up), or install them: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "==> Installing system packages with apt: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
# (also when a workspace bin link such as node_modules/.bin/wrenn is missing).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -e node_modules/.bin/wrenn ]; then
  echo "==> Installing npm packages (npm ci)"
  npm ci --no-fund --no-audit --loglevel=error
fi

# The SDK's dist/ so `import { Capsule } from "wrenn"` works with plain node, as in the README.
if [ ! -f sdks/typescript/dist/index.js ] || [ -n "$(find sdks/typescript/src -newer sdks/typescript/dist/index.js -name '*.ts' -print -quit)" ]; then
  echo "==> Building the TypeScript SDK (sdks/typescript/dist)"
  npm run build -w wrenn --silent
fi
