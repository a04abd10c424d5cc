import { vi } from 'vitest';

/**
 * Count the bytes copied by TypedArray.prototype.set while `run` runs: the
 * only way ChunkQueue, PushDecoder and the readers copy bytes, so a bound on
 * it is a bound on their copies.
 */
export function bytesCopied(run: () => void): number {
  let copied = 0;
  const set = Uint8Array.prototype.set;
  const spy = vi.spyOn(Uint8Array.prototype, 'set').mockImplementation(function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
    copied += src.length;
    return set.call(this, src, offset);
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return copied;
}
