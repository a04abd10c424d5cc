/**
 * Where renderers put their text. Output to a pipe goes through a small buffer
 * and waits for 'drain', so dumping a multi-GiB stream never queues the whole
 * text in memory.
 */
import type { Writable } from 'node:stream';

export interface TextSink {
  write(text: string): Promise<void>;
  /** Everything written so far has been handed to the destination. */
  flush(): Promise<void>;
}

/** The destination went away (e.g. `stream-inspect dump … | head`): stop quietly. */
export class OutputClosedError extends Error {
  override readonly name = 'OutputClosedError';
}

const FLUSH_AT = 64 * 1024;

export class WritableTextSink implements TextSink {
  private pending: string[] = [];
  private pendingLength = 0;
  private closedBy?: Error;

  constructor(private readonly out: Writable) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      this.closedBy = e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' ? new OutputClosedError('output closed') : e;
    });
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.closedBy) throw this.closedBy;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    if (!this.out.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('error', done);
          this.out.off('close', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
        this.out.on('close', done);
      });
    }
    if (this.closedBy) throw this.closedBy;
  }
}

/** Collects text in memory (tests, small outputs). */
export class StringTextSink implements TextSink {
  private parts: string[] = [];
  async write(text: string): Promise<void> {
    this.parts.push(text);
  }
  async flush(): Promise<void> {}
  toString(): string {
    return this.parts.join('');
  }
}
