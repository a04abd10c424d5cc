/**
 * Rows that read a pipe: `cat FILE | cat > /dev/null` (the pipe floor: two
 * processes and a pipe, nothing else), a plain Node reader of the pipe
 * (reference), and `cat FILE | stream-inspect verify -`. GNU time wraps the
 * reading process, not the first cat.
 */
import { shellQuote } from '../lib/measure.js';
import { expectExit0, expectOut, READ_FLOOR } from './commands.js';
import type { RowContext, RowSpec } from './row-context.js';

export function pipeRows(ctx: RowContext): RowSpec[] {
  const { env, stream, unavailable } = ctx;
  const { bytes } = stream;
  const file = shellQuote(stream.path);
  const node = shellQuote(process.execPath);
  return [
    {
      id: 'pipe-floor',
      label: 'pipe floor: cat | cat > /dev/null',
      command: 'cat FILE | cat > /dev/null',
      ratioKind: 'time',
      bytes,
      launch: { shell: (t) => `cat ${file} | ${t} cat > /dev/null` },
      check: expectExit0,
    },
    {
      id: 'pipe-read-floor',
      label: 'cat | node read floor (reference)',
      command: 'cat FILE | node bench/floors/read-floor.mjs -',
      floor: 'pipe-floor',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      launch: { shell: (t) => `cat ${file} | ${t} ${node} ${shellQuote(READ_FLOOR)} -`, env },
      check: expectOut(new RegExp(`^${bytes}\\n`)),
    },
    {
      id: 'pipe-verify',
      label: 'cat | verify -',
      command: 'cat FILE | stream-inspect verify -',
      floor: 'pipe-floor',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: { shell: (t) => `cat ${file} | ${t} ${node} ${shellQuote(ctx.clis.inspect)} verify -`, env },
      check: expectOut(/VALID/),
      skipped: unavailable.get('verify'),
    },
  ];
}
