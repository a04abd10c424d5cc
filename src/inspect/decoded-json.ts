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
      const s = cpuPolicySummary(body.leaves);
      const { features, unnamedBits, ...cpu } = s;
      return { ...cpu, features: [...features.keys()], ...(unnamedBits.length ? { unnamedBits } : {}) };
    }
    case 'msr-policy': {
      // Names of the known MSRs present (bounded by the name table, whatever the record's size).
      const names: Record<string, string> = {};
      body.entries.forEach((e) => {
        const name = MSR_NAMES[e.idx];
        if (name) names[`0x${e.idx.toString(16)}`] = name;
      });
      return { names };
    }
    case 'emulator-context': {
      const q = parseQemuSavevm(body.blob);
      return q ? { qemu: q } : undefined;
    }
    default:
      return undefined;
  }
}
