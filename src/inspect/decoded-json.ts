/**
 * What `dump -f ndjson` adds next to a record's raw fields under `decoded`:
 * the meaning the inspector derives (the CPU a CPUID policy describes, the
 * MSRs by name, QEMU's sections). Never read back by `encode`.
 */
import type { StreamRecord } from '../codec/records.js';
import { cpuPolicySummary } from '../codec/machine/cpu-policy.js';
import { MSR_NAMES } from '../format/msr-names.js';
import { parseQemuSavevm } from '../codec/machine/qemu-savevm.js';

export function decodedJson(rec: StreamRecord): object | undefined {
  const body = rec.body;
  switch (body.kind) {
    case 'cpuid-policy': {
      const s = cpuPolicySummary(body.leaves.slice());
      const { features, unnamedBits, ...cpu } = s;
      return { ...cpu, features: [...features.keys()], ...(unnamedBits.length ? { unnamedBits } : {}) };
    }
    case 'msr-policy':
      return { msrs: body.entries.map((e) => ({ idx: e.idx, name: MSR_NAMES[e.idx] ?? null, val: `0x${e.val.toString(16)}` })) };
    case 'emulator-context': {
      const q = parseQemuSavevm(body.blob);
      return q ? { qemu: q } : undefined;
    }
    default:
      return undefined;
  }
}
