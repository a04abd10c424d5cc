/**
 * One timed child process: wall time from spawn to close with performance.now(),
 * peak RSS from GNU time (`/usr/bin/time -f %M -o FILE`, the max resident set of
 * the one process it wraps, in KiB). Commands that are pipelines run under
 * `sh -c` with GNU time placed in front of the process whose memory matters.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const GNU_TIME = '/usr/bin/time';

/** Whether GNU time (not the shell keyword, not BSD time) is there. */
export function gnuTimeAvailable(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr);
}

/** How to run a command: argv directly, or a shell line built around the time prefix. */
export type Launch =
  | { argv: string[]; env?: NodeJS.ProcessEnv; stdout?: 'ignore' | 'pipe' }
  /** `timePrefix` is already shell-quoted ('' when RSS is not measured). */
  | { shell: (timePrefix: string) => string; env?: NodeJS.ProcessEnv; stdout?: 'ignore' | 'pipe' };

export interface Sample {
  ms: number;
  /** Peak RSS of the measured process in KiB (undefined without GNU time). */
  rssKiB?: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Captured stdout (when 'pipe') and the end of stderr, for checks and error messages. */
  stdout: string;
  stderrTail: string;
  /** Set when the run was killed for exceeding its time limit (ms is then the limit, not a result). */
  timedOut?: boolean;
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const MAX_CAPTURE = 1 << 16;

/**
 * Run once and time it. With `timeoutMs`, the child gets its own process group
 * so that a command still running at the limit is killed with everything it
 * started (a pipeline, a migration's receiver).
 */
export function runTimed(launch: Launch, rssFile: string | undefined, timeoutMs?: number): Promise<Sample> {
  const timeArgs = rssFile ? [GNU_TIME, '-f', '%M', '-o', rssFile] : [];
  let file: string;
  let args: string[];
  if ('argv' in launch) {
    const full = [...timeArgs, ...launch.argv];
    file = full[0];
    args = full.slice(1);
  } else {
    file = '/bin/sh';
    args = ['-c', launch.shell(timeArgs.map(shellQuote).join(' '))];
  }
  if (rssFile) rmSync(rssFile, { force: true });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', launch.stdout ?? 'pipe', 'pipe'], env: launch.env ?? process.env, detached: timeoutMs !== undefined });
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            try {
              if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
            } catch {
              /* the group has just exited */
            }
          }, timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-MAX_CAPTURE);
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      const ms = performance.now() - t0;
      if (timer) clearTimeout(timer);
      let rssKiB: number | undefined;
      if (rssFile && existsSync(rssFile)) {
        // GNU time writes "Command exited with non-zero status N" before the value on failure.
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        const v = Number(lines[lines.length - 1]);
        if (Number.isFinite(v)) rssKiB = v;
        rmSync(rssFile, { force: true });
      }
      resolve({ ms, rssKiB, exitCode, signal, stdout, stderrTail: stderr.slice(-2000), ...(timedOut ? { timedOut } : {}) });
    });
  });
}

export interface Summary {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Largest peak RSS over the runs (KiB). */
  rssKiB?: number | undefined;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(samples: readonly Sample[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const ms = samples.map((s) => s.ms);
  const rss = samples.map((s) => s.rssKiB).filter((x): x is number => x !== undefined);
  return {
    runs: samples.length,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    rssKiB: rss.length ? Math.max(...rss) : undefined,
  };
}
