import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'stream-migrate.js');

function newestSource(): number {
  const dirs = [join(ROOT, 'src', 'session'), join(ROOT, 'src', 'cli'), join(ROOT, 'src', 'reader')];
  let newest = 0;
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}

/** `npm run build` when dist/ is missing or older than the sources the CLI is built from. */
export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource()) return;
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    // Someone else's in-progress file may fail type-checking; tsc still emits ours.
  }
  if (!existsSync(CLI)) throw new Error(`build did not produce ${CLI}`);
}

export interface CliRun {
  readonly code: number | null;
  readonly stderr: string;
}

/** Run the built CLI to completion (stdin closed unless `input` is given). */
export function runCli(args: readonly string[], options: { cwd?: string; input?: Uint8Array } = {}): Promise<CliRun> {
  const child = spawnCli(args, options.cwd);
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  child.stdout.resume();
  return finished(child);
}

export function spawnCli(args: readonly string[], cwd?: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { cwd, stdio: 'pipe' });
}

export function finished(child: ChildProcessWithoutNullStreams): Promise<CliRun> {
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  return new Promise((resolvePromise) => child.once('close', (code) => resolvePromise({ code, stderr })));
}
