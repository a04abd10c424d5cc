/**
 * Migration rows: `stream-migrate send FILE` into `stream-migrate receive -o OUT`
 * over pipes (--exec) and over TCP loopback (--listen / --connect), against
 * `cat FILE | cat > OUT` to the same filesystem; and one stream holding a
 * single large EMULATOR_CONTEXT record through the receiver. GNU time wraps
 * the receiver: its peak RSS is the one the targets bound.
 */
import { shellQuote as q } from '../lib/measure.js';
import { expectExit0, expectFileSize, expectOut, NODE_PIPE_PAIR_FLOOR, rm } from './commands.js';
import { outPath, type RowContext, type RowSpec } from './row-context.js';

/**
 * 30× the 2 s target: a receiver that slow has missed it anyway, and five
 * runs of a receiver whose time grows with the square of the record
 * (~108 s for 64 MiB once) would otherwise hold the whole benchmark up.
 */
export const RECORD_TIMEOUT_MS = 60_000;

/** `send FILE --exec "receive -o OUT"`, with GNU time (`t`) in front of the receiver. */
function sendExec(ctx: RowContext, file: string, out: string): (t: string) => string {
  const node = q(process.execPath);
  const cli = q(ctx.clis.migrate);
  return (t) => `${node} ${cli} send ${q(file)} --exec ${q(`${t} ${node} ${cli} receive -o ${q(out)}`)}`;
}

/**
 * The receiver listens on an ephemeral loopback port and says which on
 * stderr; the sender connects once that line is there (polled every 5 ms,
 * inside the timing: part of what starting a receiver costs). Both must exit 0.
 */
function tcpPair(ctx: RowContext, file: string, out: string, errFile: string): (t: string) => string {
  const node = q(process.execPath);
  const cli = q(ctx.clis.migrate);
  const err = q(errFile);
  return (t) =>
    [
      `${t} ${node} ${cli} receive --listen 127.0.0.1:0 -o ${q(out)} 2>${err} & r=$!`,
      `until port=$(sed -n 's/^stream-migrate: listening on .*:\\([0-9]*\\)$/\\1/p' ${err}) && [ -n "$port" ]; do`,
      `  kill -0 $r 2>/dev/null || { cat ${err} >&2; exit 1; }`,
      '  sleep 0.005',
      'done',
      `${node} ${cli} send ${q(file)} --connect 127.0.0.1:$port; s=$?`,
      '[ $s -eq 0 ] || kill $r 2>/dev/null', // a receiver whose sender failed would wait for its own timeout
      'wait $r; w=$?',
      `[ $w -eq 0 ] || cat ${err} >&2`,
      '[ $s -eq 0 ] && [ $w -eq 0 ]',
    ].join('\n');
}

export function migrateRows(ctx: RowContext): RowSpec[] {
  const { env, stream, unavailable } = ctx;
  const { path, bytes } = stream;
  const out = (name: string) => outPath(ctx, name);
  const skipped = unavailable.get('migrate');
  return [
    {
      id: 'pipe-copy-floor',
      label: 'pipe copy floor: cat | cat > OUT',
      command: 'cat FILE | cat > OUT',
      ratioKind: 'time',
      bytes,
      launch: { shell: (t) => `cat ${q(path)} | ${t} cat > ${q(out('cat.out'))}` },
      check: expectFileSize(out('cat.out'), bytes),
      after: () => rm(out('cat.out')),
    },
    {
      // Node's own limit for this path: a Node parent can only write to a child through a non-blocking socketpair.
      id: 'node-pipe-pair',
      label: 'Node pipe pair: node → node > OUT (reference)',
      command: 'node bench/floors/node-pipe-pair-floor.mjs FILE OUT',
      floor: 'pipe-copy-floor',
      ratioKind: 'time',
      bytes,
      launch: { argv: [process.execPath, NODE_PIPE_PAIR_FLOOR, path, out('node-pair.out')], env },
      check: expectOut(new RegExp(`^${bytes}\\n`)),
      after: () => rm(out('node-pair.out')),
    },
    {
      // The same with the child reading through its event loop, as the receiver must (it has to exit and clean up while a sender holds the pipe).
      id: 'node-pipe-pair-event-loop',
      label: 'Node pipe pair, event-loop reader (reference)',
      command: 'node bench/floors/node-pipe-pair-floor.mjs --event-loop FILE OUT',
      floor: 'pipe-copy-floor',
      ratioKind: 'time',
      bytes,
      launch: { argv: [process.execPath, NODE_PIPE_PAIR_FLOOR, '--event-loop', path, out('node-pair-el.out')], env },
      check: expectOut(new RegExp(`^${bytes}\n`)),
      after: () => rm(out('node-pair-el.out')),
    },
    {
      id: 'migrate-pipe',
      label: 'send → receive over pipes',
      command: 'stream-migrate send FILE --exec "stream-migrate receive -o OUT"',
      floor: 'pipe-copy-floor',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: { shell: sendExec(ctx, path, out('migrate-pipe.out')), env },
      check: expectFileSize(out('migrate-pipe.out'), bytes),
      after: () => rm(out('migrate-pipe.out')),
      skipped,
    },
    {
      id: 'migrate-tcp',
      label: 'send → receive over TCP loopback',
      command: 'stream-migrate receive --listen 127.0.0.1:0 -o OUT & stream-migrate send FILE --connect 127.0.0.1:PORT',
      floor: 'pipe-copy-floor',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes,
      cli: true,
      launch: { shell: tcpPair(ctx, path, out('migrate-tcp.out'), out('migrate-tcp.err')), env },
      check: expectFileSize(out('migrate-tcp.out'), bytes),
      after: () => {
        rm(out('migrate-tcp.out'));
        rm(out('migrate-tcp.err'));
      },
      skipped,
    },
    ...bigRecordRows(ctx),
  ];
}

/** One valid EMULATOR_CONTEXT record of --record-size through the receiver, and `cat | verify -` of the same bytes. */
function bigRecordRows(ctx: RowContext): RowSpec[] {
  const big = ctx.bigRecord;
  const mib = big ? `${(big.recordBytes / 2 ** 20).toFixed(0)} MiB` : '';
  const noInput = big ? undefined : 'skipped: no large-record stream';
  const node = q(process.execPath);
  return [
    {
      id: 'migrate-record',
      label: `one ${mib} EMULATOR_CONTEXT record: send → receive over pipes`,
      command: 'stream-migrate send BIGRECORD --exec "stream-migrate receive -o OUT"',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes: big?.bytes ?? 0,
      cli: true,
      launch: big && { shell: sendExec(ctx, big.path, outPath(ctx, 'record.out')), env: ctx.env },
      check: big && expectFileSize(outPath(ctx, 'record.out'), big.bytes),
      after: () => rm(outPath(ctx, 'record.out')),
      timeoutMs: RECORD_TIMEOUT_MS,
      skipped: noInput ?? ctx.unavailable.get('migrate'),
    },
    {
      id: 'record-pipe-verify',
      label: `one ${mib} EMULATOR_CONTEXT record: cat | verify - (reference)`,
      command: 'cat BIGRECORD | stream-inspect verify -',
      ratioKind: 'time',
      rssFloor: 'node-startup',
      bytes: big?.bytes ?? 0,
      cli: true,
      launch: big && { shell: (t) => `cat ${q(big.path)} | ${t} ${node} ${q(ctx.clis.inspect)} verify -`, env: ctx.env },
      check: big ? expectOut(/VALID/) : expectExit0,
      timeoutMs: RECORD_TIMEOUT_MS,
      skipped: noInput ?? ctx.unavailable.get('verify'),
    },
  ];
}
