/**
 * Finds Xen's own stream verifier (tools/python/scripts/verify-stream-v2 and
 * the xen.migration modules; GPL, never copied into this project) on this
 * machine, for tests that run it when it is there.
 *
 * Looked for, in order: $XEN_VERIFY_STREAM (path of the script), the PATH,
 * an installed Xen (/usr/lib/xen-*), and the cache scripts/get-xen-verifier.sh
 * fills ($XEN_VERIFIER_CACHE, default /var/cache/xen-verifier).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export type VerifierFormat = 'xl' | 'libxl' | 'libxc';

export interface XenVerifier {
  script: string;
  /** PYTHONPATH holding xen/migration, when it is not on python3's own path. */
  pythonPath?: string | undefined;
  run(file: string, format: VerifierFormat): { status: number; output: string };
}

function xenLibDirs(root: string): string[] {
  const base = join(root, 'usr', 'lib');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => d.startsWith('xen-'))
    .sort()
    .reverse()
    .map((d) => join(base, d, 'bin', 'verify-stream-v2'));
}

function candidates(): string[] {
  const out: string[] = [];
  if (process.env.XEN_VERIFY_STREAM) out.push(process.env.XEN_VERIFY_STREAM);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) out.push(join(dir, 'verify-stream-v2'));
  out.push(...xenLibDirs('/'));
  out.push(...xenLibDirs(join(process.env.XEN_VERIFIER_CACHE ?? '/var/cache/xen-verifier', 'root')));
  return out;
}

/** The verifier, or why there is none (for a visible skip). */
export function findXenVerifier(): { verifier?: XenVerifier; reason?: string } {
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (python.status !== 0) return { reason: 'python3 is not available' };
  const tried: string[] = [];
  for (const script of candidates()) {
    if (!existsSync(script)) continue;
    tried.push(script);
    // Debian layout: <prefix>/bin/verify-stream-v2 next to <prefix>/lib/python/xen/migration.
    const guess = join(dirname(dirname(script)), 'lib', 'python');
    const pythonPath = existsSync(join(guess, 'xen', 'migration', 'verify.py')) ? guess : undefined;
    const env = { ...process.env, ...(pythonPath ? { PYTHONPATH: [pythonPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter) } : {}) };
    const probe = spawnSync('python3', ['-c', 'import xen.migration.verify'], { env, encoding: 'utf8' });
    if (probe.status !== 0) continue;
    return {
      verifier: {
        script,
        pythonPath,
        run(file, format) {
          const r = spawnSync('python3', [script, '-v', '-f', format, '-i', file], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
        },
      },
    };
  }
  return {
    reason:
      tried.length > 0
        ? `found ${tried.join(', ')} but python3 cannot import xen.migration next to it`
        : 'verify-stream-v2 not found (set XEN_VERIFY_STREAM or run scripts/get-xen-verifier.sh)',
  };
}
