/**
 * Runs the real stream-inspect executable (dist/cli/stream-inspect.js, the
 * bundle scripts/build-cli.mjs makes) as a child process. ensureCliBuilt()
 * builds dist once when it is missing or older than src, with a lock so
 * parallel test files do not build at the same time
 * (works under `npm test` and a bare `npx vitest run test/cli-…`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/cli/stream-inspect.js');
const LOCK = join(ROOT, 'dist', '.cli-test-build.lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  return !existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ensureCliBuilt(): Promise<void> {
  if (!isStale()) return;
  mkdirSync(dirname(LOCK), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Someone else is building; a lock older than 5 minutes is left over from a crash.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      await sleep(200);
      if (!existsSync(LOCK) && !isStale()) return;
      if (waited > 120_000) throw new Error('timed out waiting for another test file to build dist/');
    }
  }
  try {
    if (isStale()) {
      // `npm run build`'s two steps. tsc still emits when other files have type errors, and the
      // CLI bundle does not type-check: only the executable matters here.
      spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'ignore' });
      spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.mjs')], { cwd: ROOT, stdio: 'ignore' });
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
  if (!existsSync(CLI)) throw new Error(`build did not produce ${CLI}`);
}

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as text. */
  out: string;
}

function collect(child: ReturnType<typeof spawn>, input?: Uint8Array | string): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolvePromise({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
    child.stdin?.on('error', () => undefined); // the command may exit before reading all of its input
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** `node dist/cli/stream-inspect.js ARGS…`, with optional standard input. */
export function runCli(args: readonly string[], input?: Uint8Array | string): Promise<CliResult> {
  return collect(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }), input);
}

/** A shell pipeline; `$CLI` stands for the executable. */
export function runShell(command: string): Promise<CliResult> {
  const cli = `"${process.execPath}" "${CLI}"`;
  return collect(spawn('/bin/sh', ['-c', command.replaceAll('$CLI', cli)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }));
}
