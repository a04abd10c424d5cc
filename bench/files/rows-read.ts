/**
 * Rows that read a file: the Node read floor, Node's and the CLI's start-up,
 * verify / stats / dump against the read floor and Xen's verifier, and gzip
 * input against zcat. `sizedReadRows` are the ones measured again at every
 * --sizes size.
 */
import { shellQuote } from '../lib/measure.js';
import { expectExit0, expectOut, READ_FLOOR } from './commands.js';
import { inspect, type RowContext, type RowSpec } from './row-context.js';

const VALID = /VALID/;

/** The rows whose cost grows with the stream: measured at --size and at every --sizes size. */
export function sizedReadRows(ctx: RowContext): RowSpec[] {
  const { env, stream, unavailable } = ctx;
  const { path, bytes } = stream;
  const cliRow = (id: string, label: string, command: string, args: string[], check: RowSpec['check'], stdout?: 'ignore'): RowSpec => ({
    id,
    label,
    command,
    floor: 'read-floor',
    ratioKind: 'time',
    rssFloor: 'node-startup',
    bytes,
    cli: true,
    launch: { argv: inspect(ctx, ...args), env, ...(stdout ? { stdout } : {}) },
    check,
    skipped: unavailable.get(args[0]),
  });
  return [
    {
      id: 'read-floor',
      label: 'raw read floor (node, 1 MiB buffer)',
      command: 'node bench/floors/read-floor.mjs FILE',
      ratioKind: 'time',
      bytes,
      launch: { argv: [process.execPath, READ_FLOOR, path], env },
      check: expectOut(new RegExp(`^${bytes}\\n`)),
    },
    {
      id: 'node-startup',
      label: 'node start-up: node -e 0',
      command: 'node -e 0',
      ratioKind: 'time',
      bytes: 0,
      launch: { argv: [process.execPath, '-e', '0'], env },
      check: expectExit0,
    },
    cliRow('verify', 'verify', 'stream-inspect verify FILE', ['verify', path], expectOut(VALID)),
    cliRow('stats', 'stats', 'stream-inspect stats FILE', ['stats', path], expectOut(/records/)),
    cliRow(
      'dump-ndjson',
      'dump -f ndjson > /dev/null',
      'stream-inspect dump -f ndjson FILE > /dev/null',
      ['dump', '-f', 'ndjson', path],
      expectExit0,
      'ignore',
    ),
    xenRow(ctx),
  ];
}

function xenRow(ctx: RowContext): RowSpec {
  const base = {
    id: 'xen-verify',
    label: "Xen's verify-stream-v2 (python3, real path)",
    command: 'python3 verify-stream-v2 -q -f xl -i FILE',
    floor: 'read-floor',
    ratioKind: 'time',
    bytes: ctx.stream.bytes,
  } as const;
  const x = ctx.xen.runner;
  if (!x) return { ...base, skipped: `skipped: ${ctx.xen.reason}` };
  return { ...base, launch: { argv: [x.python, x.script, '-q', '-f', 'xl', '-i', ctx.stream.path], env: x.env }, check: expectExit0 };
}

/** Start-up: verify of a 16-page stream, next to `node -e 0` (in sizedReadRows). */
export function startupRow(ctx: RowContext): RowSpec {
  return {
    id: 'startup',
    label: 'CLI start-up: verify of a 16-page stream',
    command: 'stream-inspect verify TINY',
    floor: 'node-startup',
    ratioKind: 'time',
    rssFloor: 'node-startup',
    bytes: 0,
    cli: true,
    launch: { argv: inspect(ctx, 'verify', ctx.tiny), env: ctx.env },
    check: expectOut(VALID),
    skipped: ctx.unavailable.get('verify'),
  };
}

/** gzip input: `verify FILE.gz` against `zcat FILE.gz > /dev/null`. */
export function gzipRows(ctx: RowContext): RowSpec[] {
  const gz = ctx.gz;
  const bytes = ctx.stream.bytes; // MB/s of the decompressed stream, for both rows
  const skipped = gz ? undefined : 'skipped: no gzip copy of the stream';
  return [
    {
      id: 'zcat-floor',
      label: 'gzip floor: zcat > /dev/null',
      command: 'zcat FILE.gz > /dev/null',
      ratioKind: 'time',
      bytes,
      launch: gz && { shell: (t) => `${t} zcat ${shellQuote(gz.path)} > /dev/null` },
      check: expectExit0,
      skipped,
    },
    {
      id: 'verify-gz',
      label: 'verify of the gzip copy',
      command: 'stream-inspect verify FILE.gz',
      floor: 'zcat-floor',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: gz && { argv: inspect(ctx, 'verify', gz.path), env: ctx.env },
      check: expectOut(VALID),
      skipped: skipped ?? ctx.unavailable.get('verify'),
    },
  ];
}
