/**
 * Xen's own verifier (verify-stream-v2, Python), found the way the tests find
 * it (test/support/xen-verifier.ts; scripts/get-xen-verifier.sh fetches it),
 * and run with the interpreter's real path: a version-manager shim in front
 * of `python3` (pyenv's is a shell script) adds ~0.3 s per run and would make
 * the reference look slower than it is.
 */
import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';

export interface XenRunner {
  script: string;
  /** The interpreter's real path (sys.executable), not the shim PATH finds first. */
  python: string;
  env: NodeJS.ProcessEnv;
  /** What the result file says about it (no machine paths). */
  describe: string;
}

/** `python3`'s real executable and version, asked of python3 itself. */
function realPython(): { path: string; version: string } | undefined {
  const r = spawnSync('python3', ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())'], { encoding: 'utf8' });
  const [path, version] = r.status === 0 ? r.stdout.trim().split('\n') : [];
  return path && version ? { path, version } : undefined;
}

export async function findXenRunner(): Promise<{ runner?: XenRunner; reason?: string }> {
  let found: { verifier?: { script: string; pythonPath?: string | undefined }; reason?: string };
  try {
    const mod = await import('../../test/support/xen-verifier.js');
    found = mod.findXenVerifier();
  } catch (e) {
    return { reason: `cannot load test/support/xen-verifier.ts: ${(e as Error).message}` };
  }
  if (!found.verifier) return { reason: found.reason ?? 'verify-stream-v2 not found' };
  const python = realPython();
  if (!python) return { reason: 'python3 did not report sys.executable' };
  const { script, pythonPath } = found.verifier;
  const env = { ...process.env, ...(pythonPath ? { PYTHONPATH: [pythonPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter) } : {}) };
  return {
    runner: {
      script,
      python: python.path,
      env,
      describe: `verify-stream-v2 run by Python ${python.version} at its real path (python3's sys.executable, not a version-manager shim)`,
    },
  };
}
