/**
 * Decompression throughput (issue #20 item 1): each compressed copy of one
 * synthetic stream read through the project's codec interface (the system
 * tool as a child process, or fzstd for zstd without it) against the tool
 * alone (`zstd -dc FILE > /dev/null`), and `verify` of a compressed file
 * against `verify` of the plain one. One run per row: a smoke of the choice,
 * not a statistic (the machine is shared).
 *
 *   npx tsx bench/decompress.ts [--size 256M] [--dir /var/tmp/xms-bench/decompress]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { codecNamed, type CompressionName, type Filter } from '../src/io/compression/index.js';
import { fzstdDecompressor } from '../src/io/compression/zstd.js';
import { parseByteSize } from '../src/writer/size.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const size = parseByteSize(arg('size', '256M'));
const dir = arg('dir', '/var/tmp/xms-bench/decompress');
const CLI = join(import.meta.dirname, '../dist/cli/stream-inspect.js');

/** How each copy is made: the tool's usual level (xz and bzip2 at their fastest, so making the input stays short). */
const MAKE: Record<CompressionName, string[]> = {
  gzip: ['gzip', '-c', '-6'],
  zstd: ['zstd', '-q', '-c', '-3'],
  xz: ['xz', '-q', '-c', '-1', '-T1'],
  bzip2: ['bzip2', '-q', '-c', '-1'],
  lz4: ['lz4', '-q', '-c', '-1'],
};
const EXT: Record<CompressionName, string> = { gzip: 'gz', zstd: 'zst', xz: 'xz', bzip2: 'bz2', lz4: 'lz4' };

function seconds(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function secondsAsync(f: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function sh(command: string): void {
  const r = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed: ${command}`);
}

/** Every decompressed byte through a filter, counted and dropped. */
async function drain(filter: Filter, file: string): Promise<number> {
  createReadStream(file, { highWaterMark: 1 << 20 }).pipe(filter.input);
  let n = 0;
  for await (const c of filter.output as Readable) n += (c as Uint8Array).length;
  await filter.finished;
  return n;
}

const mibps = (bytes: number, s: number) => (bytes / 2 ** 20 / s).toFixed(0);

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const plain = join(dir, `hvm-${size}.bin`);
  if (!existsSync(plain)) sh(`node ${CLI} synth --kind hvm --pages ${Math.floor(size / 4096)} -q -o ${plain}`);
  const bytes = statSync(plain).size;
  const rows: string[] = ['| format | compressed | tool alone `-dc > /dev/null` | through the codec interface | `verify FILE` |', '|---|---|---|---|---|'];
  const plainVerify = seconds(() => sh(`node ${CLI} verify ${plain} > /dev/null`));
  rows.push(`| none | ${bytes} bytes | — | — | ${plainVerify.toFixed(2)} s |`);
  for (const name of Object.keys(MAKE) as CompressionName[]) {
    const file = `${plain}.${EXT[name]}`;
    if (!existsSync(file)) sh(`${MAKE[name].join(' ')} < ${plain} > ${file}`);
    const packed = statSync(file).size;
    const tool = seconds(() => sh(`${name} -dc ${file} > /dev/null`));
    let got = 0;
    const codec = await secondsAsync(async () => {
      got = await drain(codecNamed(name).decompressor(), file);
    });
    if (got !== bytes) throw new Error(`${name}: ${got} bytes, expected ${bytes}`);
    const verify = seconds(() => sh(`node ${CLI} verify ${file} > /dev/null`));
    const ratio = ((packed / bytes) * 100).toFixed(1);
    rows.push(
      `| ${name} (${MAKE[name].slice(-1)[0] === '-T1' ? MAKE[name].slice(-2, -1)[0] : MAKE[name].slice(-1)[0]}) | ${ratio} % | ${tool.toFixed(2)} s (${mibps(bytes, tool)} MiB/s) | ${codec.toFixed(2)} s (${mibps(bytes, codec)} MiB/s, ${codecNamed(name).implementation('decompress')}) | ${verify.toFixed(2)} s |`,
    );
    if (name === 'zstd') {
      const js = await secondsAsync(async () => {
        got = await drain(fzstdDecompressor(), file);
      });
      rows.push(`| zstd, fallback | | | ${js.toFixed(2)} s (${mibps(bytes, js)} MiB/s, fzstd 0.1.1, pure JavaScript) | |`);
    }
  }
  process.stdout.write(`stream: ${plain}, ${bytes} bytes (synth --kind hvm)\n\n${rows.join('\n')}\n`);
}

await main();
