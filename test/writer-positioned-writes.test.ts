/** PositionedWrites: several writes in flight within limits, overlapping ones in order, failures surfaced. */
import { describe, expect, it } from 'vitest';
import { PositionedWrites } from '../src/writer/positioned-writes.js';

/** A fake file: each write waits until the test releases it, so completion order is the test's choice. */
function fakeFile() {
  const pending: { position: number; bytes: Uint8Array; release: (error?: Error) => void }[] = [];
  const landed: { position: number; value: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const writeAt = (bytes: Uint8Array, position: number) =>
    new Promise<void>((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.push({
        position,
        bytes,
        release: (error) => {
          inFlight--;
          if (error) reject(error);
          else {
            landed.push({ position, value: bytes[0] });
            resolve();
          }
        },
      });
    });
  const tick = () => new Promise((r) => setImmediate(r));
  /** w.write() of `bytes` at `position` through this file. */
  const put = (w: PositionedWrites, bytes: Uint8Array, position: number) => w.write(position, bytes.length, () => writeAt(bytes, position));
  return {
    put,
    pending,
    landed,
    tick,
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

describe('PositionedWrites', () => {
  it("keeps up to the limit of writes in flight at once, from the caller's buffers", async () => {
    const f = fakeFile();
    const w = new PositionedWrites({ writes: 3, bytes: 1 << 20 });
    const buffers = [0, 1, 2, 3, 4].map((i) => new Uint8Array(16).fill(i));
    const issuing = (async () => {
      for (let i = 0; i < 5; i++) await f.put(w, buffers[i], i * 16);
    })();
    await f.tick();
    expect(f.pending.map((p) => p.position)).toEqual([0, 16, 32]); // the fourth waits for a free slot
    expect(f.pending[0].bytes).toBe(buffers[0]); // no copy
    f.pending[1].release();
    await f.tick();
    expect(f.pending.map((p) => p.position)).toEqual([0, 16, 32, 48]);
    for (const p of f.pending.slice(0)) if (p.position !== 16) p.release();
    await issuing;
    const draining = w.drain();
    await f.tick();
    f.pending[4].release();
    await draining;
    expect(f.maxInFlight).toBe(3);
    expect(f.landed.map((l) => l.position).sort((a, b) => a - b)).toEqual([0, 16, 32, 48, 64]);
  });

  it('holds a write back while an overlapping one is in flight (the later copy lands last)', async () => {
    const f = fakeFile();
    const w = new PositionedWrites({ writes: 8, bytes: 1 << 20 });
    await f.put(w, new Uint8Array(8192).fill(1), 4096); // pages 1–2
    await f.put(w, new Uint8Array(4096).fill(9), 0); // page 0: independent, goes at once
    const second = f.put(w, new Uint8Array(4096).fill(2), 8192); // page 2 again: must wait
    await f.tick();
    expect(f.pending.map((p) => p.position)).toEqual([4096, 0]);
    f.pending[0].release();
    await second;
    expect(f.pending.map((p) => p.position)).toEqual([4096, 0, 8192]);
    f.pending[2].release();
    f.pending[1].release();
    await w.drain();
    expect(f.landed).toEqual([
      { position: 4096, value: 1 },
      { position: 8192, value: 2 },
      { position: 0, value: 9 },
    ]);
  });

  it('limits bytes in flight, but a single write bigger than the limit still goes', async () => {
    const f = fakeFile();
    const w = new PositionedWrites({ writes: 8, bytes: 100 });
    await f.put(w, new Uint8Array(300), 0);
    const next = f.put(w, new Uint8Array(10), 1000);
    await f.tick();
    expect(f.pending).toHaveLength(1);
    f.pending[0].release();
    await next;
    expect(f.pending).toHaveLength(2);
    f.pending[1].release();
    await w.drain();
  });

  it('a failed write fails drain() and every later write', async () => {
    const f = fakeFile();
    const w = new PositionedWrites();
    await f.put(w, new Uint8Array(4), 0);
    await f.put(w, new Uint8Array(4), 8);
    f.pending[0].release(new Error('ENOSPC: no space left'));
    f.pending[1].release();
    await expect(w.drain()).rejects.toThrow('ENOSPC');
    await expect(f.put(w, new Uint8Array(4), 16)).rejects.toThrow('ENOSPC');
  });
});
