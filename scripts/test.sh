#!/usr/bin/env bash
# The whole test suite: unit tests of every package, then end-to-end tests through real QEMU VMs,
# the real agents and real PostgreSQL 15 (plus the embedded database).
#   scripts/test.sh          everything (what `make test` and CI run)
#   scripts/test.sh unit     unit tests only (no VMs, no root)
#   scripts/test.sh e2e      end-to-end tests only
#   scripts/test.sh FILE...  just those test files (a folder means every *.test.ts under it)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"

unit_files() { find apps packages sdks images -name '*.test.ts' -not -path '*/node_modules/*' | sort; }
e2e_files() { find tests/e2e -maxdepth 1 -name '*.test.ts' | sort; }

prepare_e2e() {
  if [ "$(id -u)" != 0 ]; then echo "end-to-end tests need root (QEMU, /var/lib/wrenn)" >&2; exit 1; fi
  echo "==> Guest images (cached under ${AGENT_FILES_ROOTDIR:-/var/lib/wrenn})"
  node --import tsx images/build.ts
  echo "==> PostgreSQL 15 for tests"
  WRENN_TEST_DATABASE_URL="$(scripts/pg-test.sh start)"
  export WRENN_TEST_DATABASE_URL
  trap 'scripts/pg-test.sh stop' EXIT
}

static_checks() {
  echo "==> Lint (biome) and typecheck (tsc)"
  npx biome check .
  npx tsc -p tsconfig.json
}

case "$mode" in
  unit) files=$(unit_files) ;;
  e2e) prepare_e2e; files=$(e2e_files) ;;
  all) static_checks; prepare_e2e; files="$(unit_files) $(e2e_files)" ;;
  *)
    # node --test given a folder finds nothing in it on Node 20: expand folders here.
    files=$(for f in "$@"; do if [ -d "$f" ]; then find "$f" -name '*.test.ts' -not -path '*/node_modules/*' | sort; else echo "$f"; fi; done)
    [[ "$files" == *tests/e2e/* ]] && prepare_e2e ;;
esac

# One node:test run so the closing summary counts every test. Files run one at a time:
# the VM tests share two cores and must not starve each other.
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 --test-timeout=900000 $files

# With PostgreSQL 15 running, the control plane's database tests ran against it above; run them once more on
# the embedded database (PGlite, the zero-setup default), which is PostgreSQL 18 and parses types differently.
if [ "$mode" = all ]; then
  echo "==> Control-plane database tests again on the embedded database (PGlite)"
  # shellcheck disable=SC2046
  env -u WRENN_TEST_DATABASE_URL node --import tsx --test --test-concurrency=1 --test-timeout=900000 \
    $(find apps/control-plane -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
