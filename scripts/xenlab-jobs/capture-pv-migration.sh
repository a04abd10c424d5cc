# xenlab dom0 job (run by /bin/sh inside the lab's dom0, through scripts/xenlab/run.sh):
# boots the PV heartbeat guest pv128, lets it run, then live-migrates it to localhost while capturing
# the sender -> receiver wire with tee:
#
#     xl -v migrate -s '' pv128 "tee $OUT/wire.bin | xl migrate-receive"
#
# (with `-s ''` xl runs the "host" argument itself as the transport command). The capture is exactly
# what the sending xl writes: the xl save header + JSON config, the libxl v2 stream (libxc v3 image with
# several PAGE_DATA passes: the full first pass, then the pages dirtied meanwhile, then the final
# stop-and-copy pass), libxl END, and then xl's 44-byte go message
# "domain is yours, you are cleared to unpause\0".
#
# Writes to $OUT: wire.bin, migrate.log (xl -v migrate stdout+stderr), migrate-rc.txt (its exit status),
# capture-info.txt (sizes, sha256, timings, guest state and heartbeat before/after), console logs.
# Usage (host): scripts/xenlab/run.sh scripts/xenlab-jobs/capture-pv-migration.sh OUTDIR
# Env (set inside this file by a caller that prepends lines): CAPTURE_WARMUP (seconds the guest runs
# before the migration, default 8).
set -u
now() { cut -d' ' -f1 /proc/uptime; }
info() { echo "$*"; echo "$*" >> "$OUT/capture-info.txt"; }
ticks() { cat /var/log/xen/console/guest-*.log 2>/dev/null | grep -a -c 'XENLAB-DOMU tick'; }
WARMUP=${CAPTURE_WARMUP:-8}
: > "$OUT/capture-info.txt"
echo 1 > "$OUT/migrate-rc.txt"   # pessimistic until the migrate has run

info "dom0 uptime at job start: $(now)s"
T=$(now)
xl create /root/guest/pv128.cfg; rc=$?
info "xl create pv128 exit $rc after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s"
[ $rc = 0 ] || exit 1

# wait for the guest's heartbeat (kernel boot under TCG takes a while), then let it run WARMUP s more
i=0
while [ "$(ticks)" -lt 1 ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
info "first heartbeat tick seen after ${i}s of waiting (ticks now $(ticks))"
sleep "$WARMUP"
xl list
info "before migrate: ticks $(ticks); xl list: $(xl list pv128 | awk 'NR==2{print "id",$2,"mem",$3,"state",$5}')"

T=$(now)
timeout 300 xl -v migrate -s '' pv128 "tee $OUT/wire.bin | xl migrate-receive" > "$OUT/migrate.log" 2>&1
rc=$?
echo $rc > "$OUT/migrate-rc.txt"
info "xl -v migrate exit status $rc after $(awk "BEGIN{printf \"%.1f\", $(now) - $T}")s"
grep -a -v '^\(xc\|domainbuilder\|libxl\): detail' "$OUT/migrate.log" | tail -n 40

xl list
a=$(ticks)
sleep 6
b=$(ticks)
st=$(xl list pv128 2>/dev/null | awk 'NR==2{print $5}')
info "after migrate: domain pv128 state '${st:-gone}', id $(xl domid pv128 2>/dev/null || echo none); heartbeat ticks $a -> $b in 6s"
if [ -f "$OUT/wire.bin" ]; then
  info "wire.bin: $(stat -c %s "$OUT/wire.bin") bytes, sha256 $(sha256sum "$OUT/wire.bin" | cut -d' ' -f1)"
  info "wire.bin tail (44 bytes): $(tail -c 44 "$OUT/wire.bin" | tr '\0' '@')"
else
  info "wire.bin: missing"
fi
info "xl versions: $(cat /root/versions.txt 2>/dev/null | tr '\n' ';')"
mkdir -p "$OUT/console" && cp /var/log/xen/console/* "$OUT/console/" 2>/dev/null
exit 0
