import { describe, expect, it } from 'vitest';
import type { StreamSink } from '../src/writer/sink.js';
import { WriteBehindSink } from '../src/writer/write-behind-sink.js';

/** An inner sink whose writes finish only when the test says so; records overlap and order. */
class GatedSink implements StreamSink {
  readonly log: string[] = [];
  readonly gates: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  bytesWritten = 0;
  inFlight = 0;
  maxInFlight = 0;
  aborted = false;
  closed = false;

  write(chunks: readonly Uint8Array[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.log.push(`write ${chunks.map((c) => c[0]).join(',')}`);
    return new Promise<void>((resolve, reject) => {
      this.gates.push({
        resolve: () => {
          this.inFlight--;
          this.bytesWritten += chunks.reduce((n, c) => n + c.length, 0);
          resolve();
        },
        reject: (e) => {
          this.inFlight--;
          reject(e);
        },
      });
    });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async abort(): Promise<void> {
    this.aborted = true;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteBehindSink', () => {
  it('returns while the write is in flight, but starts the next only after it, in order', async () => {
    const inner = new GatedSink();
    const sink = new WriteBehindSink(inner);
    await sink.write([Uint8Array.of(1), Uint8Array.of(2, 2)]);
    expect(inner.inFlight).toBe(1); // the caller builds the next record meanwhile
    expect(sink.bytesWritten).toBe(3);
    let second = false;
    const p = sink.write([Uint8Array.of(3)]).then(() => (second = true));
    await tick();
    expect(second).toBe(false); // waits for the first write
    expect(inner.log).toEqual(['write 1,2']);
    inner.gates[0].resolve();
    await p;
    expect(inner.log).toEqual(['write 1,2', 'write 3']);
    const closing = sink.close();
    await tick();
    expect(inner.closed).toBe(false); // close waits for the last write
    inner.gates[1].resolve();
    await closing;
    expect(inner.closed).toBe(true);
    expect(inner.maxInFlight).toBe(1);
    expect(inner.bytesWritten).toBe(4);
  });

  it('reports a failed write at the next write and at close; abort still reaches the inner sink', async () => {
    const inner = new GatedSink();
    const sink = new WriteBehindSink(inner);
    await sink.write([Uint8Array.of(1)]);
    inner.gates[0].reject(new Error('ENOSPC'));
    await expect(sink.write([Uint8Array.of(2)])).rejects.toThrow('ENOSPC');
    await expect(sink.close()).rejects.toThrow('ENOSPC');
    expect(inner.log).toEqual(['write 1']);
    expect(inner.closed).toBe(false);
    await sink.abort();
    expect(inner.aborted).toBe(true);
  });
});
