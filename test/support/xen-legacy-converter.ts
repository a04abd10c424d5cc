/**
 * Xen's own legacy converter (tools/python/scripts/convert-legacy-stream; GPL,
 * never copied into this project), found next to the verify-stream-v2 that
 * test/support/xen-verifier.ts finds: Debian's xen-utils package (fetched by
 * scripts/get-xen-verifier.sh) installs both in /usr/lib/xen-<ver>/bin.
 *
 * It must be told the toolstack width and guest type (-w, -g). Its -x (xl
 * header) mode fails under Python 3 (it compares the bytes read with a str
 * magic: "No xl header"), so callers hand it the bare legacy body.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { findXenVerifier } from './xen-verifier.js';

export interface XenLegacyConverter {
  script: string;
  /** Convert a bare legacy libxc image to a v2 libxl stream. */
  convert(input: string, output: string, width: 32 | 64, guest: 'pv' | 'hvm'): { status: number; output: string };
}

export function findXenLegacyConverter(): { converter?: XenLegacyConverter; reason?: string } {
  const { verifier, reason } = findXenVerifier();
  if (!verifier) return { reason: `Xen's convert-legacy-stream not available: ${reason}` };
  const script = join(dirname(verifier.script), 'convert-legacy-stream');
  if (!existsSync(script)) return { reason: `convert-legacy-stream not found next to ${verifier.script}` };
  const env = { ...process.env, ...(verifier.pythonPath ? { PYTHONPATH: [verifier.pythonPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter) } : {}) };
  return {
    converter: {
      script,
      convert(input, output, width, guest) {
        const r = spawnSync('python3', [script, '-i', input, '-o', output, '-w', String(width), '-g', guest, '-f', 'libxl'], {
          env,
          encoding: 'utf8',
          maxBuffer: 16 * 1024 * 1024,
        });
        return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
      },
    },
  };
}
