/**
 * Rows that write a file of the stream's size: `cp` (the copy floor, in the
 * kernel), a user-space copy (reference), `extract` against cp, the raw write
 * floor and `synth` against it. Outputs are deleted after every run, outside
 * the timing.
 */
import { COPY_FLOOR, expectExit0, expectFileSize, expectOut, rm, WRITE_FLOOR } from './commands.js';
import { inspect, outPath, type RowContext, type RowSpec } from './row-context.js';

export function writeRows(ctx: RowContext): RowSpec[] {
  const { env, stream, unavailable } = ctx;
  const { path, bytes } = stream;
  const out = (name: string) => outPath(ctx, name);
  return [
    {
      id: 'cp',
      label: 'copy floor: cp',
      command: 'cp FILE OUT',
      ratioKind: 'time',
      bytes,
      launch: { argv: ['cp', path, out('cp.out')] },
      check: expectExit0,
      after: () => rm(out('cp.out')),
    },
    {
      id: 'user-copy',
      label: 'user-space copy: node read+write 1 MiB',
      command: 'node bench/floors/copy-floor.mjs FILE OUT',
      floor: 'cp',
      ratioKind: 'time',
      bytes,
      launch: { argv: [process.execPath, COPY_FLOOR, path, out('user-copy.out')], env },
      check: expectOut(new RegExp(`^${bytes}\\n`)),
      after: () => rm(out('user-copy.out')),
    },
    {
      id: 'extract',
      label: 'extract -o mem.raw',
      command: 'stream-inspect extract FILE -o OUT',
      floor: 'cp',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: { argv: inspect(ctx, 'extract', path, '-o', out('extract.raw')), env },
      check: expectOut(/pages of data/),
      after: () => rm(out('extract.raw')),
      skipped: unavailable.get('extract'),
    },
    {
      id: 'write-floor',
      label: 'raw write floor (node, 1 MiB buffer)',
      command: `node bench/floors/write-floor.mjs OUT ${bytes}`,
      ratioKind: 'throughput',
      bytes,
      launch: { argv: [process.execPath, WRITE_FLOOR, out('write-floor.out'), String(bytes)], env },
      check: expectExit0,
      after: () => rm(out('write-floor.out')),
    },
    {
      id: 'synth',
      label: 'synth (writer)',
      command: `stream-inspect synth --kind pv --xl --size ${stream.size} -o OUT -q`,
      floor: 'write-floor',
      ratioKind: 'throughput',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: { argv: inspect(ctx, 'synth', '--kind', 'pv', '--xl', '--size', stream.size, '-o', out('synth.out'), '-q'), env },
      check: expectFileSize(out('synth.out'), bytes),
      after: () => rm(out('synth.out')),
      skipped: unavailable.get('synth'),
    },
  ];
}
