import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { beginCookies, CookieError, prepareCookies } from '../src/session/cookies.js';
import { MigrationJobStore } from '../src/session/job-lock.js';
import { migrateV3, V3Destination, V3Source } from '../src/session/migration-v3.js';
import type { SourceDomain } from '../src/session/source-domain.js';
import { exampleXlSave } from './support/session-streams.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-v3-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const timeouts = { messageMs: 2000, idleMs: 2000, writeMs: 2000 };

function recordingDomain(calls: string[]): SourceDomain {
  return {
    name: 'guest',
    suspend: () => void calls.push('suspend'),
    resume: () => void calls.push('resume'),
    destroy: () => void calls.push('destroy'),
  };
}

function sides(calls: string[], bytes: Uint8Array, extra: Partial<ConstructorParameters<typeof V3Source>[0]> = {}) {
  const srcJobs = new MigrationJobStore(join(dir, 'src-state'));
  const dstJobs = new MigrationJobStore(join(dir, 'dst-state'));
  const outputPath = join(dir, 'guest.bin');
  const source = new V3Source({
    domain: recordingDomain(calls),
    jobs: srcJobs,
    stream: async function* () {
      yield bytes.subarray(0, 100);
      yield bytes.subarray(100);
    },
    timeouts,
    ...extra,
  });
  const destination = new V3Destination({ jobs: dstJobs, outputPath, timeouts });
  return { source, destination, srcJobs, dstJobs, outputPath };
}

describe('v3 flow: Begin → Prepare → Perform → Finish → Confirm', () => {
  it('success: destination keeps a byte-identical stream, source is killed in Confirm (not in Perform)', async () => {
    const calls: string[] = [];
    const { source, destination, srcJobs, dstJobs, outputPath } = sides(calls, exampleXlSave());
    const result = await migrateV3(source, destination);
    expect(result.error).toBeUndefined();
    expect(result.history).toEqual(['BEGIN', 'PREPARE', 'PERFORM', 'FINISH', 'CONFIRM', 'SRC_KILLED']);
    expect(result.finish).toMatchObject({ kept: true, bytesReceived: 247 });
    expect(calls).toEqual(['suspend', 'destroy']);
    expect(new Uint8Array(await readFile(outputPath))).toEqual(exampleXlSave());
    // Both jobs released.
    expect(await srcJobs.read('guest')).toBeUndefined();
    expect(await dstJobs.read('guest')).toBeUndefined();
  });

  it('an invalid stream: Finish discards it, Confirm resumes the source', async () => {
    const calls: string[] = [];
    const bad = exampleXlSave();
    bad[0x40] ^= 0xff;
    const { source, destination, outputPath } = sides(calls, bad);
    const result = await migrateV3(source, destination);
    expect(result.state).toBe('SRC_RESUMED');
    expect(result.finish?.kept).toBe(false);
    expect(result.error?.message).toMatch(/invalid migration stream/);
    expect(calls).toEqual(['suspend', 'resume']);
    expect(await readdir(dir)).not.toContain('guest.bin');
    expect((await readdir(dir)).filter((name) => name.includes('incoming'))).toEqual([]);
    void outputPath;
  });

  it('Perform failing keeps its error; Finish does not overwrite it', async () => {
    const calls: string[] = [];
    const { source, destination } = sides(calls, exampleXlSave(), {
      stream: async function* () {
        yield exampleXlSave().subarray(0, 10);
        throw new Error('disk read error');
      },
    });
    const result = await migrateV3(source, destination);
    expect(result.state).toBe('SRC_RESUMED');
    expect(result.error?.message).toBe('disk read error');
    expect(calls).toEqual([]); // never suspended, so nothing to resume
  });

  it('a step-0 device veto in Begin aborts before anything is sent and releases the job', async () => {
    const calls: string[] = [];
    const { source, destination, srcJobs } = sides(calls, exampleXlSave(), {
      deviceHooks: [{ deviceType: 'vtpm', canMigrate: () => false }],
    });
    const result = await migrateV3(source, destination);
    expect(result.history).toEqual(['BEGIN', 'ABORTED']);
    expect(result.error?.message).toBe("Device of type 'vtpm' refuses migration.");
    expect(calls).toEqual([]);
    expect(await srcJobs.read('guest')).toBeUndefined();
  });

  it('paused source: VIR_MIGRATE_PAUSED is in the Begin cookie', async () => {
    const { source } = sides([], exampleXlSave(), { paused: true });
    const cookie = beginCookies.decode(await source.begin());
    expect(cookie.flags).toEqual({ live: true, paused: true });
    await source.confirm(undefined);
  });
});

describe('cookies', () => {
  it('are validated by their compiled schema', () => {
    expect(() => prepareCookies.decode(JSON.stringify({ version: 3, domain: 'guest', uri: '', incomingName: 'x' }))).toThrow(CookieError);
    expect(() => prepareCookies.decode('{not json')).toThrow(/not JSON/);
    expect(() => beginCookies.decode(JSON.stringify({ version: 2, domain: 'g', sourceHost: 'h', flags: { live: true, paused: false }, leases: [] }))).toThrow(
      /invalid begin cookie: \/version/,
    );
    expect(prepareCookies.decode(JSON.stringify({ version: 3, domain: 'guest', uri: 'tcp://127.0.0.1:1', incomingName: 'guest--incoming' })).uri).toBe(
      'tcp://127.0.0.1:1',
    );
  });
});
