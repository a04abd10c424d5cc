// Loaded with `node --import` by runCliPeak(): writes the process's peak RSS (KiB) to $PEAK_RSS_FILE at exit.
// VmHWM is this process image's own high-water mark; getrusage's maxRSS would include the
// RSS of the (forked) test runner before exec.
import { readFileSync, writeFileSync } from 'node:fs';

function peakKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => {
  if (process.env.PEAK_RSS_FILE) writeFileSync(process.env.PEAK_RSS_FILE, String(peakKiB()));
});
