/** What every row builder needs to know: the inputs, the CLIs, where outputs go. */
import { join } from 'node:path';
import type { Clis } from './commands.js';
import type { Row } from './types.js';
import type { XenRunner } from './xen.js';

export interface StreamInput {
  path: string;
  bytes: number;
  /** The --size text it was made with (synth --size). */
  size: string;
}

export interface RowContext {
  env: NodeJS.ProcessEnv;
  clis: Clis;
  /** The PV xl save file of --size. */
  stream: StreamInput;
  /** The 16-page stream (start-up). */
  tiny: string;
  /** The gzip copy of `stream` (absent for the size sweep). */
  gz?: { path: string; bytes: number };
  /** The stream with one large EMULATOR_CONTEXT record (absent for the size sweep). */
  bigRecord?: { path: string; bytes: number; recordBytes: number };
  /** Directory the write rows write to (the same filesystem for a tool and its floor). */
  outDir: string;
  /** Why a stream-inspect command cannot run (undefined when it can). */
  unavailable: Map<string, string | undefined>;
  xen: { runner?: XenRunner; reason?: string };
}

export type RowSpec = Omit<Row, 'samples'>;

export function outPath(ctx: RowContext, name: string): string {
  return join(ctx.outDir, name);
}

export function inspect(ctx: RowContext, ...args: string[]): string[] {
  return [process.execPath, ctx.clis.inspect, ...args];
}

export function migrate(ctx: RowContext, ...args: string[]): string[] {
  return [process.execPath, ctx.clis.migrate, ...args];
}
