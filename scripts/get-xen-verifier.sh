#!/usr/bin/env bash
# Fetch Xen's own stream verifier (verify-stream-v2 + xen.migration Python
# modules, GPL, from Debian's xen-utils-4.17) into a cache directory WITHOUT
# installing Xen: apt-get download + dpkg -x. Nothing is copied into the repo.
#
#   scripts/get-xen-verifier.sh [CACHE_DIR]      (default /var/cache/xen-verifier)
#
# Afterwards test/support/xen-verifier.ts finds it there; or point
# XEN_VERIFY_STREAM at CACHE_DIR/root/usr/lib/xen-4.17/bin/verify-stream-v2.
# Needs a Debian/Ubuntu apt with the bookworm (or newer) archive, and root for
# apt-get update (skipped if the package is already known).
set -euo pipefail
CACHE_DIR="${1:-/var/cache/xen-verifier}"
PACKAGE="${XEN_UTILS_PACKAGE:-xen-utils-4.17}"
mkdir -p "$CACHE_DIR"
cd "$CACHE_DIR"
if ! ls root/usr/lib/xen-*/bin/verify-stream-v2 >/dev/null 2>&1; then
  if ! apt-cache show "$PACKAGE" >/dev/null 2>&1; then apt-get update -qq; fi
  rm -f ./"$PACKAGE"_*.deb
  apt-get download "$PACKAGE"
  dpkg -x ./"$PACKAGE"_*.deb root
fi
SCRIPT=$(ls root/usr/lib/xen-*/bin/verify-stream-v2 | head -n1)
PYDIR=$(dirname "$(dirname "$SCRIPT")")/lib/python
PYTHONPATH="$PYDIR" python3 -c 'import xen.migration.verify' # the modules import under python3
echo "verify-stream-v2: $CACHE_DIR/$SCRIPT"
echo "run: PYTHONPATH=$CACHE_DIR/$PYDIR python3 $CACHE_DIR/$SCRIPT -f xl -i FILE"
