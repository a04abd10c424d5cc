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
