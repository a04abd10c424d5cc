# xenlab dom0 job (run by /bin/sh inside the lab's dom0, through scripts/xenlab/run.sh):
# real `xl migrate` of the PV heartbeat guest, with OUR receiver standing in for `xl migrate-receive`:
#
#     xl -v migrate -s '' pv128 "node stream-migrate.js receive -o $OUT/capture.bin"
#
# stream-migrate speaks the receiver side of xl's protocol on stdin/stdout (banner, ready, report),
# validates the stream as it arrives and keeps it as a file; then the same job restores that file with
# real `xl restore` and checks the guest's heartbeat keeps ticking. So real xl is the judge of both the
# protocol and the captured bytes. Then the other direction: `stream-migrate send` replays the capture
# to real `xl migrate-receive`, which must bring the guest up.
#
# Input files: bundle.tar.gz (node binary + dist/ + production node_modules, made by
# scripts/test-xen-migrate.sh). Writes to $OUT: result.txt (one line per check), migrate.log,
# receive.log, restore.log, capture.bin.
set -u
now() { cut -d' ' -f1 /proc/uptime; }
say() { echo "$*"; echo "$*" >> "$OUT/result.txt"; }
ticks() { cat /var/log/xen/console/guest-*.log 2>/dev/null | grep -a -c 'XENLAB-DOMU tick'; }
: > "$OUT/result.txt"

mkdir -p /tmp/xms && tar -C /tmp/xms -xzf bundle.tar.gz || { say "FAIL unpack bundle"; exit 1; }
/tmp/xms/node --version > /dev/null 2>&1 || { say "FAIL node does not run in dom0"; exit 1; }
say "node $(/tmp/xms/node --version) runs in dom0"

xl create /root/guest/pv128.cfg > /dev/null 2>&1 || { say "FAIL xl create"; exit 1; }
i=0; while [ "$(ticks)" -lt 1 ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
sleep 5
say "guest up: heartbeat ticks $(ticks)"

T=$(now)
timeout 300 xl -v migrate -s '' pv128 \
  "/tmp/xms/node /tmp/xms/dist/cli/stream-migrate.js receive -o $OUT/capture.bin --timeout 120 2>$OUT/receive.log" \
  > "$OUT/migrate.log" 2>&1
rc=$?
say "xl migrate exit status $rc after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s; last line: $(grep -a -v 'detail' "$OUT/migrate.log" | tail -n 1)"
say "receiver log: $(tr '\n' ' ' < "$OUT/receive.log")"
if [ -f "$OUT/capture.bin" ]; then say "capture.bin: $(stat -c %s "$OUT/capture.bin") bytes"; else say "FAIL no capture.bin"; exit 1; fi
xl list pv128 > /dev/null 2>&1 && say "source domain still exists (xl did not get a successful report)" || say "source domain destroyed by xl (it got report status 0)"

T=$(now)
xl -v restore "$OUT/capture.bin" > "$OUT/restore.log" 2>&1
rrc=$?
say "xl restore of the capture: exit status $rrc after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s"
a=$(ticks); sleep 8; b=$(ticks)
st=$(xl list pv128 2>/dev/null | awk 'NR==2{print $5}')
say "after restore: state '${st:-gone}', heartbeat ticks $a -> $b in 8s"
if [ $rc = 0 ] && [ $rrc = 0 ] && [ "$b" -gt "$a" ]; then say "MIGRATE+RESTORE OK"; else say "MIGRATE+RESTORE FAILED"; fi

# The other direction: our sender replays the capture to real `xl migrate-receive`, which builds the
# domain from it, answers ready, takes go, unpauses it and reports.
xl destroy pv128 > /dev/null 2>&1
T=$(now)
timeout 300 /tmp/xms/node /tmp/xms/dist/cli/stream-migrate.js send "$OUT/capture.bin" --exec "xl migrate-receive" --timeout 120 \
  > "$OUT/send.log" 2>&1
src=$?
say "stream-migrate send to xl migrate-receive: exit status $src after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s: $(tr '\n' ' ' < "$OUT/send.log")"
a=$(ticks); sleep 8; b=$(ticks)
st=$(xl list pv128 2>/dev/null | awk 'NR==2{print $5}')
say "after send: domain pv128 state '${st:-gone}', heartbeat ticks $a -> $b in 8s"
if [ $src = 0 ] && [ "$b" -gt "$a" ]; then say "SEND OK"; else say "SEND FAILED"; fi

# Issue 19: `stream-migrate migrate` runs the libvirt v3 flow (job lock and phases in a state directory,
# a device hook at steps 0-3) and, in Perform, the same xl exchange with real `xl migrate-receive`.
xl destroy pv128 > /dev/null 2>&1
STATE=/tmp/sm-state
printf '#!/bin/sh\necho "$@" >> %s/hook.log\n' "$OUT" > /tmp/hook.sh; chmod +x /tmp/hook.sh
T=$(now)
timeout 300 /tmp/xms/node /tmp/xms/dist/cli/stream-migrate.js migrate "$OUT/capture.bin" --domain pv128 --exec "xl migrate-receive" \
  --state-dir "$STATE" --device-hook vif=/tmp/hook.sh --timeout 120 > "$OUT/migrate.log" 2>&1
mrc=$?
say "stream-migrate migrate (v3) to xl migrate-receive: exit status $mrc after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s: $(tr '\n' ' ' < "$OUT/migrate.log")"
a=$(ticks); sleep 8; b=$(ticks)
st=$(xl list pv128 2>/dev/null | awk 'NR==2{print $5}')
/tmp/xms/node /tmp/xms/dist/cli/stream-migrate.js jobs --state-dir "$STATE" > "$OUT/jobs.log" 2>&1
say "after migrate: domain pv128 state '${st:-gone}', heartbeat ticks $a -> $b in 8s; hook calls: $(wc -l < "$OUT/hook.log" 2>/dev/null || echo 0); jobs: $(tr '\n' ' ' < "$OUT/jobs.log")"
if [ $mrc = 0 ] && [ "$b" -gt "$a" ] && [ "$(wc -l < "$OUT/hook.log" 2>/dev/null || echo 0)" -ge 4 ]; then say "MIGRATE V3 OK"; else say "MIGRATE V3 FAILED"; fi
