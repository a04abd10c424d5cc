/**
 * How the rows start processes: the repository's paths, the CLIs (from a
 * snapshot of dist/), the floors' scripts, a clean environment, and the
 * checks that a run's output is right.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sample } from '../lib/measure.js';

export const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH, '..');
export const DIST = join(ROOT, 'dist');
export const READ_FLOOR = join(BENCH, 'floors', 'read-floor.mjs');
export const WRITE_FLOOR = join(BENCH, 'floors', 'write-floor.mjs');
export const COPY_FLOOR = join(BENCH, 'floors', 'copy-floor.mjs');
export const NODE_PIPE_PAIR_FLOOR = join(BENCH, 'floors', 'node-pipe-pair-floor.mjs');
export const MiB = 2 ** 20;

/** Where the two CLIs are: under dist/ as package.json's "bin" says, or the same paths in a snapshot of dist/. */
export interface Clis {
  inspect: string;
  migrate: string;
}

/** The CLIs' entry points inside `distDir` (dist/ or its snapshot), from package.json's "bin". */
export function clisIn(distDir: string): Clis {
  const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
  const at = (name: string) => join(distDir, relative(DIST, join(ROOT, bin[name])));
  return { inspect: at('stream-inspect'), migrate: at('stream-migrate') };
}

/** Children are plain node: no loader hooks or flags inherited from tsx / the caller. */
export function nodeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

export function rm(path: string): void {
  rmSync(path, { force: true });
}

/** The repository-relative form of a path (for result files, which carry no machine paths). */
export function repoRelative(path: string): string {
  return relative(ROOT, path);
}

export function expectExit0(s: Sample): string | undefined {
  if (s.exitCode !== 0) return `exit ${s.exitCode ?? s.signal}: ${s.stderrTail.trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

export function expectOut(re: RegExp): (s: Sample) => string | undefined {
  return (s) => expectExit0(s) ?? (re.test(s.stdout) ? undefined : `unexpected output: ${s.stdout.slice(0, 200)}`);
}

/** Exit 0 and `path` holds exactly `bytes` bytes (read before `after` deletes it). */
export function expectFileSize(path: string, bytes: number): (s: Sample) => string | undefined {
  return (s) => {
    const err = expectExit0(s);
    if (err) return err;
    let size: number;
    try {
      size = statSync(path).size;
    } catch (e) {
      return `no output ${path}: ${(e as Error).message}`;
    }
    return size === bytes ? undefined : `wrote ${size} bytes, expected ${bytes}`;
  };
}

/**
 * Flush dirty pages (`sync`, outside any timing): the generated stream and the
 * outputs of earlier runs would otherwise be written back while later
 * commands are being timed, and Linux throttles writers (balance_dirty_pages)
 * when much is dirty, which made write timings swing 5× before this.
 */
export function settle(): void {
  spawnSync('sync', [], { stdio: 'ignore' });
}

/** Read the file once so every command reads it from the page cache. */
export function warm(path: string): void {
  const r = spawnSync(process.execPath, [READ_FLOOR, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`warming ${path} failed: ${r.stderr}`);
}
