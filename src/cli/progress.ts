/**
 * Progress on stderr for long runs: bytes done, MB/s and, when the input's
 * size is known, percentage and ETA. Only when stderr is a terminal that
 * understands cursor control (not TERM=dumb), so pipes, logs and dumb
 * terminals never see escape codes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { COMPRESSION_MAGIC_BYTES, compressionOf } from '../io/compression/index.js';

export interface Progress {
  update(bytesDone: number): void;
  /** Clear the progress line. */
  done(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, done: () => undefined };
const INTERVAL_MS = 250;

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

export class TtyProgress implements Progress {
  private readonly started = Date.now();
  // The first draw waits one interval: a rate measured over a few milliseconds is noise.
  private lastDraw = Date.now();
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    private readonly totalBytes?: number,
  ) {}

  update(bytesDone: number): void {
    const now = Date.now();
    if (now - this.lastDraw < INTERVAL_MS) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    let line = `${this.label}: ${mib(bytesDone)}`;
    if (this.totalBytes) {
      const pct = Math.min(100, (100 * bytesDone) / this.totalBytes);
      line += ` / ${mib(this.totalBytes)} (${pct.toFixed(0)}%)`;
    }
    line += `, ${(rate / 1e6).toFixed(1)} MB/s`;
    if (this.totalBytes && rate > 0 && bytesDone < this.totalBytes) line += `, ETA ${clock((this.totalBytes - bytesDone) / rate)}`;
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

/**
 * The decompressed size of an input when it can be known cheaply: a plain
 * file's size, or a gzip file's ISIZE trailer (other compressed files: unknown) (size mod 2^32, so only trusted
 * when it is at least the compressed size).
 */
export function knownInputSize(path: string): number | undefined {
  if (path === '-') return undefined;
  // Sync calls: two small reads, and node:fs/promises stays unloaded.
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const head = new Uint8Array(COMPRESSION_MAGIC_BYTES);
    const codec = compressionOf(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    if (!codec) return st.size;
    // Only gzip says its size cheaply (zstd, xz, bzip2, lz4: no total, the progress shows bytes only).
    if (codec.name !== 'gzip' || st.size < 18) return undefined;
    const tail = Buffer.alloc(4);
    readSync(fd, tail, 0, 4, st.size - 4);
    const isize = tail.readUInt32LE(0);
    return isize >= st.size ? isize : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether progress may be drawn on `out`: a terminal whose TERM is not "dumb" (the line is redrawn with \r and ESC [K). */
export function canDrawProgress(out: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return out.isTTY === true && env.TERM !== 'dumb';
}

export async function progressFor(label: string, path: string): Promise<Progress> {
  if (!canDrawProgress(process.stderr)) return NO_PROGRESS;
  return new TtyProgress(process.stderr, label, knownInputSize(path));
}
