#!/usr/bin/env bash
# Opt-in real-Xen check of the session layer (issue 9): real `xl migrate` in the xenlab drives
# `stream-migrate receive` as its remote command; the captured stream is then restored with real
# `xl restore` in the same dom0 and must keep running; then `stream-migrate send` replays it to real
# `xl migrate-receive`, which must bring the guest up. Then (scripts/xenlab-jobs/relay-migrate.sh) a real
# localhost `xl migrate` through `stream-migrate relay`, and its refusal of a damaged stream.
# Root, Debian, apt; ~5-8 min per run.
#   npm run build && bash scripts/test-xen-migrate.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=${XENLAB_DIR:-scripts/xenlab}
OUT=${1:-${XENLAB_WORK:-/var/tmp/xenlab}/test-xen-migrate/$(date +%Y%m%d-%H%M%S)}
[ "$(id -u)" = 0 ] || { echo "test-xen-migrate: needs root (the lab runs QEMU and debootstrap)" >&2; exit 2; }
[ -f dist/cli/stream-migrate.js ] || { echo "test-xen-migrate: build first (npm run build)" >&2; exit 2; }
bash "$LAB/build.sh" > /dev/null

# The bundle dom0 runs: this machine's node binary (dom0 is Debian 12 too), dist/ and the
# production dependencies only.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp package.json package-lock.json "$STAGE/"
cp -r dist "$STAGE/dist"
(cd "$STAGE" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund > /dev/null 2>&1)
cp "$(readlink -f "$(command -v node)")" "$STAGE/node"
tar -C "$STAGE" -czf "$STAGE/bundle.tar.gz" node dist node_modules package.json

mkdir -p "$OUT"
start=$(date +%s)
bash "$LAB/run.sh" scripts/xenlab-jobs/migrate-to-stream-migrate.sh "$OUT" "$STAGE/bundle.tar.gz" > "$OUT/run.log" 2>&1 || true
cat "$OUT/result.txt" 2>/dev/null || { echo "test-xen-migrate: the lab produced no result (see $OUT/run.log)"; exit 2; }
# Issue 19: a real localhost `xl migrate` through `stream-migrate relay --exec 'xl migrate-receive'`,
# the relay's capture restored, and the relay refusing a damaged stream before go (a fresh lab boot).
# Four migrations, a restore and a deep verify under TCG: more than run.sh's default 900 s on a busy host.
XENLAB_TIMEOUT=${XENLAB_TIMEOUT:-1800} bash "$LAB/run.sh" scripts/xenlab-jobs/relay-migrate.sh "$OUT/relay" "$STAGE/bundle.tar.gz" > "$OUT/relay-run.log" 2>&1 || true
cat "$OUT/relay/result.txt" 2>/dev/null || { echo "test-xen-migrate: the relay job produced no result (see $OUT/relay-run.log)"; exit 2; }
echo "test-xen-migrate: wall $(( $(date +%s) - start ))s; logs in $OUT"
grep -q '^MIGRATE+RESTORE OK$' "$OUT/result.txt" && grep -q '^SEND OK$' "$OUT/result.txt" && grep -q '^MIGRATE V3 OK$' "$OUT/result.txt" &&
  grep -q '^RELAY MIGRATE OK$' "$OUT/relay/result.txt" && grep -q '^RELAY CAPTURE RESTORE OK$' "$OUT/relay/result.txt" &&
  grep -q '^RELAY REFUSAL OK$' "$OUT/relay/result.txt" && grep -q '^RELAY DEBUG MIGRATE OK$' "$OUT/relay/result.txt"
