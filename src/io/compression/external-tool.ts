/**
 * A system compression tool (`zstd`, `xz`, `bzip2`, `lz4`) run as a filter:
 * our bytes go to its stdin, its stdout comes back. The tools are faster than
 * any JavaScript or WebAssembly build and are on every machine this project
 * targets; codecs fall back to pure JavaScript where they have one.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CompressionError, type CompressionName, type Filter } from './codec.js';

// node:child_process (with node:net under it) is loaded when a tool first runs, not at every command's
// start-up: most inputs are not compressed by a tool (issue #15, start-up).
function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

const found = new Map<string, string | undefined>();

/** The tool's path on $PATH, or undefined (looked up once). */
export function findTool(command: string): string | undefined {
  if (found.has(command)) return found.get(command);
  let path: string | undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      path = join(dir, command);
      break;
    } catch {}
  }
  found.set(command, path);
  return path;
}

export interface ToolSpec {
  format: CompressionName;
  command: string;
  compressArgs: readonly string[];
  decompressArgs: readonly string[];
  /** The tool's complaint says the input ended early (not that it is corrupt). */
  truncation: RegExp;
}

/** The tool's first meaningful stderr line. */
function complaint(stderr: string, command: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ?? `${command} failed`;
}

export function toolFilter(spec: ToolSpec, direction: 'compress' | 'decompress'): Filter {
  const path = findTool(spec.command);
  if (!path) throw new CompressionError(spec.format, 'unavailable', `${spec.format}: the ${spec.command} command is not installed`);
  const child = childProcess().spawn(path, direction === 'compress' ? spec.compressArgs : spec.decompressArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  // The tool may stop reading (it found corruption): its exit status says why, not the EPIPE.
  child.stdin.on('error', () => undefined);
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new CompressionError(spec.format, 'unavailable', `${spec.command}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = signal ? `${spec.command} was stopped by ${signal}` : complaint(stderr, spec.command);
      reject(new CompressionError(spec.format, spec.truncation.test(stderr) ? 'truncated' : 'corrupt', why));
    });
  });
  finished.catch(() => undefined);
  return {
    input: child.stdin,
    output: child.stdout,
    finished,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      child.stdout.destroy();
    },
  };
}

/** Decompress in memory with the tool (the synchronous reader). */
export function toolDecompressSync(spec: ToolSpec, bytes: Uint8Array): Uint8Array {
  const path = findTool(spec.command);
  if (!path) throw new CompressionError(spec.format, 'unavailable', `${spec.format}: the ${spec.command} command is not installed`);
  const r = childProcess().spawnSync(path, spec.decompressArgs, { input: bytes, maxBuffer: 2 ** 31 - 1 });
  if (r.error) throw new CompressionError(spec.format, 'unavailable', `${spec.command}: ${r.error.message}`);
  if (r.status !== 0) {
    const stderr = r.stderr.toString('utf8');
    throw new CompressionError(spec.format, spec.truncation.test(stderr) ? 'truncated' : 'corrupt', complaint(stderr, spec.command));
  }
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
}

/** "zstd (system tool /usr/bin/zstd)". */
export function toolDescription(command: string): string | undefined {
  const path = findTool(command);
  return path ? `${command} (system tool ${path})` : undefined;
}
