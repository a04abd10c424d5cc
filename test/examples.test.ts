// The README's runnable examples must keep running.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const tsx = (file: string, ...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });

describe('README examples', () => {
  it('examples/read-stream.ts walks the bundled real fixture', () => {
    const out = tsx('examples/read-stream.ts', 'fixtures/xen-4.17/pv128-save.bin.gz');
    expect(out).toContain('xl stream, x86 PV, libxc v3, complete');
    expect(out).toContain('32768 distinct pfns');
  });
  it('examples/codec.ts decodes and re-encodes byte-exactly', () => {
    const out = tsx('examples/codec.ts');
    expect(out.split('\n')[1]).toBe('true');
    expect(out).toContain('08000000180000000000000080841e00');
  });
});

describe('README writer example', () => {
  it('examples/write-stream.ts writes a stream the reader accepts', async () => {
    const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'xms-example-'));
    try {
      const out = tsx('examples/write-stream.ts', join(dir, 'demo.save'));
      expect(out.trim().split('\n').at(-1)).toBe('complete');
      expect(out).toContain('libxl EMULATOR_CONTEXT');
      expect(existsSync(join(dir, 'demo.save'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
