# xenlab dom0 job (run by /bin/sh inside the lab's dom0, through scripts/xenlab/run.sh):
# a real localhost live migration of the PV heartbeat guest THROUGH `stream-migrate relay`:
#
#     xl -v migrate -s '' pv128 "node stream-migrate.js relay --capture $OUT/relay-capture.bin --exec 'xl migrate-receive'"
#
# Real xl on both ends: "Migration successful", the guest keeps ticking at the destination, and the
# capture the relay tee'd restores with `xl restore`. Then the negative case: the relay's test-only
# fault damages one PAGE_DATA header mid-stream; the relay must refuse it (rule id and offset) before
# the destination is told to go, xl must resume the source (which keeps ticking), and nothing may be
# left at the destination.
#
# Last, `xl migrate --debug` (VERIFY and a re-send of every page) through the relay: the capture's re-send
# is compared page by page by `stream-inspect verify --deep` (LIBXC-VERIFY-MISMATCH), next to what real
# Xen's receiver, in verify mode, logged ("verify pfn … failed").
#
# Input files: bundle.tar.gz (made by scripts/test-xen-migrate.sh). Writes to $OUT: result.txt (one line
# per check), migrate.log, relay.log, restore.log, bad-migrate.log, bad-relay.log, relay-capture.bin,
# debug-migrate.log, debug-relay.log, debug-verify.log.
set -u
now() { cut -d' ' -f1 /proc/uptime; }
say() { echo "$*"; echo "$*" >> "$OUT/result.txt"; }
ticks() { cat /var/log/xen/console/guest-*.log 2>/dev/null | grep -a -c 'XENLAB-DOMU tick'; }
since() { awk "BEGIN{printf \"%.1f\", $(now) - $1}"; }
keeps_ticking() { a=$(ticks); sleep 8; b=$(ticks); st=$(xl list pv128 2>/dev/null | awk 'NR==2{print $5}'); say "$1: pv128 state '${st:-gone}', heartbeat ticks $a -> $b in 8s"; [ "$b" -gt "$a" ]; }
domains() { xl list | awk 'NR>1{print $1}' | tr '\n' ' '; }
RELAY="/tmp/xms/node /tmp/xms/dist/cli/stream-migrate.js relay --timeout 120"
: > "$OUT/result.txt"

mkdir -p /tmp/xms && tar -C /tmp/xms -xzf bundle.tar.gz || { say "FAIL unpack bundle"; exit 1; }
xl create /root/guest/pv128.cfg > /dev/null 2>&1 || { say "FAIL xl create"; exit 1; }
i=0; while [ "$(ticks)" -lt 1 ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
sleep 5
say "guest up: heartbeat ticks $(ticks)"

# 1. Through the relay to real xl migrate-receive on this host.
T=$(now)
timeout 300 xl -v migrate -s '' pv128 \
  "$RELAY --capture $OUT/relay-capture.bin --exec 'xl migrate-receive' 2>$OUT/relay.log" > "$OUT/migrate.log" 2>&1
rc=$?
say "xl migrate through the relay: exit status $rc after $(since "$T")s; last line: $(grep -a -v 'detail' "$OUT/migrate.log" | tail -n 1)"
say "relay log: $(grep -a 'stream-migrate' "$OUT/relay.log" | tr '\n' ' ')"
say "domains after the migration: $(domains)"
ok=1
[ $rc = 0 ] && grep -q 'Migration successful' "$OUT/migrate.log" || ok=0
keeps_ticking "after the migration" || ok=0
[ $ok = 1 ] && say "RELAY MIGRATE OK" || say "RELAY MIGRATE FAILED"

# 2. The relay's capture is a stream real xl restores.
xl destroy pv128 > /dev/null 2>&1
if [ -f "$OUT/relay-capture.bin" ]; then say "relay-capture.bin: $(stat -c %s "$OUT/relay-capture.bin") bytes"; else say "no relay-capture.bin"; fi
xl -v restore "$OUT/relay-capture.bin" > "$OUT/restore.log" 2>&1
rrc=$?
say "xl restore of the relay's capture: exit status $rrc"
[ $rrc = 0 ] && keeps_ticking "after the restore" && say "RELAY CAPTURE RESTORE OK" || say "RELAY CAPTURE RESTORE FAILED"

# 3. Negative: a PAGE_DATA header damaged mid-stream (1 MiB in) must be refused before go.
xl list pv128 > /dev/null 2>&1 || xl create /root/guest/pv128.cfg > /dev/null 2>&1
sleep 5
T=$(now)
timeout 300 xl -v migrate -s '' pv128 \
  "$RELAY --fault-corrupt-page-header 1048576 --exec 'xl migrate-receive' 2>$OUT/bad-relay.log" > "$OUT/bad-migrate.log" 2>&1
brc=$?
say "xl migrate through the faulty relay: exit status $brc after $(since "$T")s; last line: $(grep -a -v 'detail' "$OUT/bad-migrate.log" | tail -n 1)"
say "relay log: $(grep -a 'stream-migrate' "$OUT/bad-relay.log" | tr '\n' ' ')"
sleep 3
say "domains after the refused migration: $(domains)"
ok=1
[ $brc != 0 ] || ok=0
grep -q 'final state REFUSED): refused the stream: RECORD-LENGTH-MAX at offset' "$OUT/bad-relay.log" || ok=0
[ "$(domains)" = "Domain-0 pv128 " ] || ok=0
keeps_ticking "after the refused migration" || ok=0
[ $ok = 1 ] && say "RELAY REFUSAL OK" || say "RELAY REFUSAL FAILED"

# 4. xl migrate --debug through the relay: real Xen's re-send after VERIFY must match what it verifies.
T=$(now)
timeout 300 xl -v migrate --debug -s '' pv128 \
  "$RELAY --capture /tmp/debug-capture.bin --exec 'xl migrate-receive' 2>$OUT/debug-relay.log" > "$OUT/debug-migrate.log" 2>&1
drc=$?
say "xl migrate --debug through the relay: exit status $drc after $(since "$T")s; last line: $(grep -a -v 'detail' "$OUT/debug-migrate.log" | tail -n 1)"
say "relay log: $(grep -a 'stream-migrate' "$OUT/debug-relay.log" | tr '\n' ' ')"
say "Xen's receiver logged $(grep -a -c 'verify pfn' "$OUT/debug-relay.log") 'verify pfn ... failed' line(s)"
/tmp/xms/node /tmp/xms/dist/cli/stream-inspect.js verify --deep --lenient /tmp/debug-capture.bin > "$OUT/debug-verify.log" 2>&1
vrc=$?
say "stream-inspect verify --deep --lenient of the capture: exit status $vrc, $(grep -a -c 'LIBXC-VERIFY-MISMATCH' "$OUT/debug-verify.log") LIBXC-VERIFY-MISMATCH warning(s); last line: $(tail -n 1 "$OUT/debug-verify.log")"
ok=1
[ $drc = 0 ] || ok=0
keeps_ticking "after the --debug migration" || ok=0
[ $ok = 1 ] && say "RELAY DEBUG MIGRATE OK" || say "RELAY DEBUG MIGRATE FAILED"
