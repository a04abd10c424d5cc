/** Appends text to an output file (src/io/atomic-output.ts), buffered. */
import type { AtomicOutput } from '../io/atomic-output.js';
import type { TextSink } from './text-sink.js';

const FLUSH_AT = 1 << 20;

export class FileTextSink implements TextSink {
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(private readonly file: AtomicOutput) {}

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    await this.file.write([bytes]);
  }
}
