import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readBackChannelSync, type RecordItem } from '../src/reader/index.js';
import { BANNER } from '../src/session/fixed-messages.js';
import { pushDecoderTrackerFactory } from '../src/session/push-decoder-tracker.js';
import { XL_POSTCOPY_SYNC_MESSAGE } from '../src/format/constants.js';
import { ColoBackChannelWriter } from '../src/writer/colo-back-channel-writer.js';
import { PostcopyBackChannelWriter } from '../src/writer/postcopy-back-channel-writer.js';
import { MemorySink } from '../src/writer/memory-sink.js';
import { synth } from '../src/writer/synth.js';
import { runPair } from './support/session-harness.js';
import { CLI, ensureBuilt, runCli } from './support/session-cli.js';

/** COLO: the receiver as secondary (back channel in its cycle), the sender as primary reading it. */
async function coloStream(checkpoints: number): Promise<Uint8Array> {
  const sink = new MemorySink({ copy: true });
  await synth(sink, { kind: 'hvm', pages: 64, checkpoints, colo: true, xl: true, batch: 32 });
  return sink.bytes();
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const describeRecord = (item: RecordItem): string => (item.record.body.kind === 'checkpoint-state' ? `STATE ${item.record.body.controlId}` : item.record.name);

describe('COLO loopback (real reader as the validator)', () => {
  it('4 checkpoints: SVM_READY, SVM_RESUMED after each, SVM_SUSPENDED and the dirty list after each NEW; the primary reads them all', async () => {
    const bytes = await coloStream(4);
    const run = await runPair({
      variant: 'colo',
      bytes,
      chunkSize: 1000,
      trackerFactory: pushDecoderTrackerFactory(),
      receiver: { coloDirtyPfns: (checkpoint) => [checkpoint, 0x1000 + checkpoint] },
      senderSeesReceiverVerdict: true,
    });
    expect(run.receiver.error).toBeUndefined();
    expect(run.sender.error).toBeUndefined();
    expect(run.sender.history).toEqual(['PREAMBLE', 'STREAMING', 'AWAIT_FAILOVER', 'DONE_OK']);
    expect(Buffer.from(run.finalBytes ?? []).equals(bytes)).toBe(true);
    // The wire, receiver → sender: the banner, then the back channel in its cycle, 4 resumes and 3 suspends.
    const back = concat(run.link.captured.r2s);
    expect(back.subarray(0, BANNER.bytes.length)).toEqual(BANNER.bytes);
    const { items } = readBackChannelSync(back.subarray(BANNER.bytes.length), { channel: 'colo' }).readAll();
    const records = items.filter((i): i is RecordItem => i.kind === 'record');
    const cycle = ['STATE 2', 'STATE 3', 'STATE 1', 'CHECKPOINT_DIRTY_PFN_LIST'];
    expect(records.map(describeRecord)).toEqual([...cycle, ...cycle, ...cycle, 'STATE 2', 'STATE 3']);
    const lists = records.filter((r) => r.record.body.kind === 'dirty-pfn-list').map((r) => Array.from((r.record.body as { pfns: Iterable<bigint> }).pfns));
    expect(lists).toEqual([1, 2, 3].map((n) => [BigInt(n), BigInt(0x1000 + n)]));
    expect(run.receiver.coloBackChannel).toEqual({ checkpointStates: 11, dirtyPfnLists: 3, bytes: back.length - BANNER.bytes.length, error: undefined });
    expect(run.sender.colo).toEqual({ svmReady: 4, svmResumed: 4, svmSuspended: 3, dirtyPfnLists: 3, dirtyPfns: 6, bytes: back.length - BANNER.bytes.length });
  });

  it('a back-channel record out of its cycle fails the primary with BACK-CHANNEL-ORDER (unexpected data)', async () => {
    const bytes = await coloStream(2);
    // The first record's control_id (SVM_READY = 2) turned into 0xfd.
    const run = await runPair({
      variant: 'colo',
      bytes,
      trackerFactory: pushDecoderTrackerFactory(),
      fault: { kind: 'corrupt', direction: 'r2s', offset: BANNER.bytes.length + 8 },
    });
    expect(run.sender.ok).toBe(false);
    expect(run.sender.failedIn).toBe('AWAIT_FAILOVER');
    expect(run.sender.error?.kind).toBe('unexpected-data');
    expect(run.sender.error?.actual).toBe('BACK-CHANNEL-ORDER');
  });

  it('Remus keeps a silent receiver (no back channel)', async () => {
    const sink = new MemorySink({ copy: true });
    await synth(sink, { kind: 'hvm', pages: 32, checkpoints: 2, xl: true });
    const bytes = sink.bytes();
    const run = await runPair({ variant: 'remus', bytes, trackerFactory: pushDecoderTrackerFactory() });
    expect(run.sender.ok).toBe(true);
    expect(concat(run.link.captured.r2s)).toEqual(BANNER.bytes);
  });
});

describe('COLO on the CLI', () => {
  let dir = '';
  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'session-colo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('send --colo --exec "receive --colo": the secondary answers 3 checkpoints, the primary says so', async () => {
    const input = join(dir, 'colo.save');
    const out = join(dir, 'out.bin');
    await writeFile(input, await coloStream(3));
    const receiver = `'${process.execPath}' '${CLI}' receive --colo -o '${out}'`;
    const result = await runCli(['send', input, '--colo', '--exec', receiver]);
    expect(result.stderr).toContain('COLO back channel: 3 checkpoints resumed on the secondary, 2 suspended, 2 dirty pfn lists (0 pfns)');
    // The receiver's own account (its stderr is inherited): 3 × (READY, RESUMED) + 2 × SUSPENDED (16 bytes each); 2 empty lists (8 each).
    expect(result.stderr).toContain('COLO back channel: 8 CHECKPOINT_STATE records, 2 dirty pfn lists (144 bytes)');
    expect(result.code).toBe(0);
  });

  it('stream-inspect dump --channel colo|postcopy reads a captured back channel', async () => {
    const sink = new MemorySink({ copy: true });
    const writer = new ColoBackChannelWriter(sink);
    await writer.writeSvmReady();
    await writer.writeSvmResumed();
    await writer.writeSvmSuspended();
    await writer.writeDirtyPfnList([5, 7]);
    await writer.close();
    const file = join(dir, 'colo.back');
    await writeFile(file, sink.bytes());
    const inspect = CLI.replace(/stream-migrate\.js$/, 'stream-inspect.js');
    const { spawnSync } = await import('node:child_process');
    const dump = spawnSync(process.execPath, [inspect, 'dump', '--channel', 'colo', file, '--format', 'ndjson'], { encoding: 'utf8' });
    expect(dump.stderr).toBe('');
    expect(dump.status).toBe(0);
    const lines = dump.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind?: string; name?: string });
    expect(lines.filter((l) => l.kind === 'record').map((l) => l.name)).toEqual([
      'CHECKPOINT_STATE',
      'CHECKPOINT_STATE',
      'CHECKPOINT_STATE',
      'CHECKPOINT_DIRTY_PFN_LIST',
    ]);
    // Out of cycle: refused with the rule id, exit 1.
    const bad = join(dir, 'bad.back');
    await writeFile(bad, sink.bytes().subarray(16));
    const refused = spawnSync(process.execPath, [inspect, 'dump', '--channel', 'colo', bad], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('BACK-CHANNEL-ORDER');
    // The postcopy channel is a different cycle: the same bytes are not a postcopy back channel.
    expect(spawnSync(process.execPath, [inspect, 'dump', '--channel', 'postcopy', file], { encoding: 'utf8' }).status).toBe(1);
    // A postcopy receiver's channel: faults, COMPLETE, then xl's sync message (trailing, recognised).
    const faults = new MemorySink({ copy: true });
    const postcopyWriter = new PostcopyBackChannelWriter(faults);
    await postcopyWriter.writeFault([0x10, 0x11]);
    await postcopyWriter.writeComplete();
    await postcopyWriter.close();
    const postcopyFile = join(dir, 'postcopy.back');
    await writeFile(postcopyFile, Buffer.concat([faults.bytes(), Buffer.from(XL_POSTCOPY_SYNC_MESSAGE, 'latin1')]));
    const postcopy = spawnSync(process.execPath, [inspect, 'dump', '--channel', 'postcopy', postcopyFile], { encoding: 'utf8' });
    expect(postcopy.stderr).toBe('');
    expect(postcopy.status).toBe(0);
    expect(postcopy.stdout).toContain('POSTCOPY_FAULT');
    expect(postcopy.stdout).toContain('POSTCOPY_COMPLETE');
  });
});
