/**
 * The benchmark's input streams, made before any timing: the PV stream of
 * --size (an xl save file, so the migration rows can send it and every other
 * row reads the same bytes), a 16-page one for start-up, its gzip copy, and an
 * HVM stream whose EMULATOR_CONTEXT record is --record-size long.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync, writeFileSync } from 'node:fs';
import { runTimed } from '../lib/measure.js';
import { concat, hvmLibxc, libxlHeader, rec, xenstoreData, xlHeader } from '../../test/support/build.js';
import { nodeEnv, rm } from './commands.js';

/** A PV xl save file of about `size` bytes, written by `stream-inspect synth`. */
export async function synthStream(inspectCli: string, path: string, size: string): Promise<{ bytes: number; ms: number }> {
  rm(path);
  const argv = [process.execPath, inspectCli, 'synth', '--kind', 'pv', '--xl', '--size', size, '-o', path, '-q'];
  const s = await runTimed({ argv, env: nodeEnv() }, undefined);
  if (s.exitCode !== 0) throw new Error(`synth --size ${size} failed (exit ${s.exitCode}): ${s.stderrTail}`);
  return { bytes: statSync(path).size, ms: s.ms };
}

/** The 16-page stream whose verify measures the CLI's start-up. */
export async function synthTiny(inspectCli: string, path: string): Promise<void> {
  rm(path);
  const argv = [process.execPath, inspectCli, 'synth', '--kind', 'pv', '--xl', '--pages', '16', '-o', path, '-q'];
  const s = await runTimed({ argv, env: nodeEnv() }, undefined);
  if (s.exitCode !== 0) throw new Error(`synth of the tiny stream failed: ${s.stderrTail}`);
}

/** `gzip -1 -c FILE > FILE.gz` (fast level: the rows time decompression, not this). */
export function gzipCopy(path: string, gzPath: string): number {
  rm(gzPath);
  const fd = openSync(gzPath, 'wx');
  try {
    const r = spawnSync('gzip', ['-1', '-c', path], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gzip failed: ${r.error?.message ?? r.stderr}`);
  } finally {
    closeSync(fd);
  }
  return statSync(gzPath).size;
}

/**
 * A valid plain HVM xl save file whose libxl EMULATOR_CONTEXT (QEMU's device
 * state) carries a `blobBytes` blob: one record that spans many chunks of any
 * pipe or socket, built with the tests' stream builders (not the writer under test).
 */
export function writeBigRecordStream(path: string, blobBytes: number): number {
  const blob = new Uint8Array(blobBytes);
  for (let i = 0; i < blob.length; i += 4096) blob[i] = (i >>> 12) & 0xff; // not all zeros, cheaply
  const stream = concat([
    xlHeader(),
    libxlHeader(),
    rec('libxl', 'LIBXC_CONTEXT'),
    ...hvmLibxc(),
    xenstoreData(),
    rec('libxl', 'EMULATOR_CONTEXT', { kind: 'emulator-context', emulatorId: 2, index: 0, blob }),
    rec('libxl', 'END'),
  ]);
  rm(path);
  writeFileSync(path, stream, { flag: 'wx' });
  return stream.length;
}
