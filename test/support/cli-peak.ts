/**
 * Runs stream-inspect like runCli() and also reports the child's peak RSS, read
 * by a preload module at exit (process.resourceUsage().maxRSS): for tests that
 * bound memory relative to the input, never time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './cli-run.js';

export interface PeakResult {
  code: number | null;
  stderr: string;
  /** stdout's size in bytes (its contents are not kept). */
  stdoutBytes: number;
  /** The child's peak resident set, in MiB. */
  peakMiB: number;
}

const PRELOAD = join(ROOT, 'test/support/peak-rss-preload.mjs');

/** `node dist/cli/stream-inspect.js ARGS…` with `input` on stdin (a Buffer, or a generator of chunks). */
export function runCliPeak(args: readonly string[], input?: Uint8Array | (() => Iterable<Uint8Array>)): Promise<PeakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-peak-'));
  const rssFile = join(dir, 'rss');
  const child = spawn(process.execPath, ['--import', PRELOAD, CLI, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PEAK_RSS_FILE: rssFile },
  });
  return new Promise((resolve, reject) => {
    let stdoutBytes = 0;
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => (stdoutBytes += c.length));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      let peakMiB = NaN;
      try {
        peakMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      resolve({ code, stderr: Buffer.concat(err).toString('utf8'), stdoutBytes, peakMiB });
    });
    child.stdin.on('error', () => undefined); // the command may stop reading early
    if (input === undefined) child.stdin.end();
    else if (input instanceof Uint8Array) child.stdin.end(input);
    else {
      const chunks = input()[Symbol.iterator]();
      const pump = (): void => {
        for (let n = chunks.next(); !n.done; n = chunks.next()) {
          if (child.stdin.destroyed) return;
          if (!child.stdin.write(n.value)) {
            child.stdin.once('drain', pump);
            return;
          }
        }
        child.stdin.end();
      };
      pump();
    }
  });
}
