import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultStateDir } from '../src/cli/state-dir.js';
import { CLI, ensureBuilt } from './support/session-cli.js';
import { exampleXlSave } from './support/session-streams.js';

/** `stream-migrate migrate` and `jobs`, end to end on the built CLI (loopback only). */
let dir = '';
let input = '';
let output = '';
let state = '';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  /** Resolves once stderr contains `text` (or the process ended). */
  const waitFor = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (stderr.includes(text)) resolve();
      };
      child.stderr.on('data', check);
      void done.then(() => resolve());
      check();
    });
  return { child, done, waitFor, stderr: () => stderr };
}

const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => start(args, env).done;
const migrateArgs = (...extra: string[]) => ['migrate', input, '--domain', 'guest', '-o', output, '--state-dir', state, ...extra];

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-migrate-'));
  input = join(dir, 'guest.save');
  output = join(dir, 'out.bin');
  state = join(dir, 'state');
  await writeFile(input, exampleXlSave());
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Files in `dir` besides the input and the state directory. */
async function outputs(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n !== 'guest.save' && n !== 'state' && n !== 'hook.log' && n !== 'hook.sh').sort();
}

describe('stream-migrate migrate', () => {
  it('-o: the v3 flow end to end; the output is byte-identical and the state directory keeps nothing', async () => {
    const result = await run(migrateArgs());
    expect(result.stderr).toContain('migrated guest: BEGIN → PREPARE → PERFORM → FINISH → CONFIRM → SRC_KILLED');
    expect(result.code).toBe(0);
    expect(new Uint8Array(await readFile(output))).toEqual(exampleXlSave());
    expect(await outputs()).toEqual(['out.bin']);
    expect((await run(['jobs', '--state-dir', state])).stdout).toBe(`no migration jobs in ${state}\n`);
  });

  it('--exec "stream-migrate receive": Perform speaks xl\'s protocol, Finish is the receiver\'s report', async () => {
    const command = `'${process.execPath}' '${CLI}' receive -o '${output}'`;
    const result = await run(['migrate', input, '--domain', 'guest', '--exec', command, '--state-dir', state]);
    expect(result.stderr).toContain('SRC_KILLED');
    expect(result.code).toBe(0);
    expect(new Uint8Array(await readFile(output))).toEqual(exampleXlSave());
  });

  it('--connect: to `receive --listen`, with the token handshake', async () => {
    const token = join(dir, 'token');
    await writeFile(token, 'sesame\n', { mode: 0o600 });
    const receiver = start(['receive', '-o', output, '--listen', '127.0.0.1:0', '--token-file', token]);
    await receiver.waitFor('listening on');
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(receiver.stderr())?.[1];
    expect(port).toBeDefined();
    const result = await run(['migrate', input, '--domain', 'guest', '--connect', `127.0.0.1:${port}`, '--token-file', token, '--state-dir', state]);
    expect(result.stderr).toContain('SRC_KILLED');
    expect(result.code).toBe(0);
    expect((await receiver.done).code).toBe(0);
    expect(new Uint8Array(await readFile(output))).toEqual(exampleXlSave());
  });

  it('--exec: a receiver that fails makes Confirm resume the source (exit 1, SRC_RESUMED), no job left', async () => {
    const result = await run(['migrate', input, '--domain', 'guest', '--exec', 'exit 3', '--state-dir', state]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SRC_RESUMED');
    expect((await run(['jobs', '--state-dir', state])).stdout).toContain('no migration jobs');
  });

  it('--exec: a receiver lost after go leaves the source paused and the job held for an operator (never resumed)', async () => {
    // Speaks xl's protocol up to go, then exits without the report: xl's FAILED_BADLY.
    const fake = join(dir, 'fake-receiver.mjs');
    const size = exampleXlSave().length;
    await writeFile(
      fake,
      `process.stdout.write('xl migration receiver ready, send binary domain data.\\n');
let got = 0;
process.stdin.on('data', (d) => {
  const before = got;
  got += d.length;
  if (before < ${size} && got >= ${size}) process.stdout.write('domain received, ready to unpause\\0');
  if (got >= ${size} + 44) process.exit(0);
});
`,
    );
    const result = await run(['migrate', input, '--domain', 'guest', '--exec', `'${process.execPath}' '${fake}'`, '--state-dir', state]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CONFIRM → SRC_LEFT_PAUSED');
    expect(result.stderr).toContain('after go: the destination may be running the domain');
    expect(result.stderr).toContain('jobs --clear guest');
    const listed = await run(['jobs', '--state-dir', state]);
    expect(listed.stdout).toMatch(/^guest {2}MIGRATION_OUT {2}PERFORM3_DONE .*instance IN_PROGRESS.*whether the destination kept the domain is unknown/m);
    expect((await run(migrateArgs())).code).toBe(1);
    expect((await run(['jobs', '--clear', 'guest', '--state-dir', state])).code).toBe(0);
    expect((await run(['jobs', '--state-dir', state])).stdout).toContain('no migration jobs');
  });

  it('--device-hook: steps 0-3 run as COMMAND -type T -step N -host DST -domname NAME; step 0 failing refuses before anything is sent', async () => {
    const hook = join(dir, 'hook.sh');
    await writeFile(hook, `#!/bin/sh\necho "$* live=$STREAM_MIGRATE_LIVE" >> '${join(dir, 'hook.log')}'\n`, { mode: 0o700 });
    expect((await run(migrateArgs('--device-hook', `vtpm=${hook}`))).code).toBe(0);
    const lines = (await readFile(join(dir, 'hook.log'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => l.replace(/-host \S+/, '-host H'))).toEqual([0, 1, 2, 3].map((step) => `-type vtpm -step ${step} -host H -domname guest live=1`));
    expect(lines[0]).toContain(`-host ${output}`);
    await rm(output);
    // Steps 1-3: a failing hook is logged and ignored, as xend ignored the return value.
    const step2fails = await run(migrateArgs('--device-hook', 'vtpm=f() { [ "$4" != 2 ]; }; f'));
    expect(step2fails.stderr).toContain('device hook vtpm step 2: exit status 1 (ignored, as xend did)');
    expect(step2fails.code).toBe(0);
    await rm(output);
    const refused = await run(migrateArgs('--device-hook', 'vtpm=exit 1', '--no-live'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Device of type 'vtpm' refuses migration.");
    expect(refused.stderr).toContain('BEGIN → ABORTED');
    expect(await outputs()).toEqual([]);
  });

  it('a second migrate of a domain whose job runs is refused; jobs shows it running and will not clear it', async () => {
    const first = start(migrateArgs(), { STREAM_MIGRATE_TEST_PAUSE_AT: 'PERFORM3' });
    await first.waitFor('test pause');
    try {
      const second = await run(migrateArgs());
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`already has a MIGRATION_OUT job in phase PERFORM3 (pid ${first.child.pid})`);
      const listed = await run(['jobs', '--state-dir', state]);
      expect(listed.stdout).toMatch(new RegExp(`^guest  MIGRATION_OUT  PERFORM3  age \\d+s, instance IN_PROGRESS  pid ${first.child.pid}: running$`, 'm'));
      expect(listed.stdout).toMatch(/^guest {2}MIGRATION_IN {2}PREPARE /m);
      const clear = await run(['jobs', '--clear', 'guest', '--state-dir', state]);
      expect(clear.code).toBe(1);
      expect(clear.stderr).toContain('is running');
    } finally {
      first.child.kill('SIGKILL');
      await first.done;
    }
  });
});

/**
 * kill -9 at each phase (the run pauses once the phase is on disk), then
 * `jobs` must explain what was left, and the next migrate must recover or
 * roll back (or, where the outcome cannot be known, refuse until cleared).
 */
const crashes: Array<{ phase: string; listed: RegExp[]; next: 'migrates' | 'completed' | 'needs-clear'; recovered?: string }> = [
  {
    phase: 'BEGIN3',
    recovered: 'Begin: nothing was sent, the source was not touched): rolled back',
    listed: [/MIGRATION_OUT {2}BEGIN3 .*stale: owner pid \d+ is gone; it stopped in Begin: nothing was sent.*rolls it back/],
    next: 'migrates',
  },
  {
    phase: 'PREPARE',
    recovered: 'Prepare: the stream was being received, Finish never ran): what arrived was discarded',
    listed: [/MIGRATION_OUT {2}BEGIN3 .*instance READY/, /MIGRATION_IN {2}PREPARE .*discards what arrived/],
    next: 'migrates',
  },
  {
    phase: 'PERFORM3',
    recovered: 'the source may be paused): source resumed, rolled back',
    listed: [/MIGRATION_OUT {2}PERFORM3 .*instance IN_PROGRESS.*resumes the source/],
    next: 'migrates',
  },
  {
    phase: 'PERFORM3_DONE',
    recovered: 'the local destination never reached Finish): source resumed, rolled back',
    listed: [/MIGRATION_OUT {2}PERFORM3_DONE .*the local destination never reached Finish; the next migrate resumes the source/],
    next: 'migrates',
  },
  {
    phase: 'FINISH3',
    listed: [/MIGRATION_OUT {2}PERFORM3_DONE .*whether the destination kept the domain is unknown; check/, /MIGRATION_IN {2}FINISH3 /],
    next: 'needs-clear',
  },
  {
    phase: 'CONFIRM3',
    recovered: 'the source was being removed): source removed: that migration had succeeded',
    listed: [/MIGRATION_OUT {2}CONFIRM3 .*the destination kept the domain.*completes it/],
    next: 'completed',
  },
];

describe('kill -9 at each phase', () => {
  for (const { phase, listed, next, recovered } of crashes) {
    it(`${phase}: jobs explains the stale job; the next migrate ${next === 'needs-clear' ? 'refuses until jobs --clear' : next === 'completed' ? 'completes it' : 'recovers and migrates'}`, async () => {
      const victim = start(migrateArgs(), { STREAM_MIGRATE_TEST_PAUSE_AT: phase });
      await victim.waitFor(`in phase ${phase}`);
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      expect(killed.stderr).toContain(`in phase ${phase}`);

      const jobs = await run(['jobs', '--state-dir', state]);
      expect(jobs.code).toBe(0);
      for (const line of listed) expect(jobs.stdout).toMatch(line);
      expect(jobs.stdout).toContain(`pid ${victim.child.pid}`);

      let again = await run(migrateArgs());
      if (next === 'needs-clear') {
        expect(again.code).toBe(1);
        expect(again.stderr).toContain('jobs --clear');
        const cleared = await run(['jobs', '--clear', 'guest', '--state-dir', state]);
        expect(cleared.code).toBe(0);
        expect(cleared.stdout).toContain('cleared guest MIGRATION_OUT in phase PERFORM3_DONE');
        again = await run(migrateArgs());
      }
      expect(again.code).toBe(0);
      if (next !== 'needs-clear') expect(again.stderr).toContain(`recovered the stale MIGRATION_OUT job of guest (pid ${victim.child.pid} gone in`);
      if (recovered !== undefined) expect(again.stderr).toContain(recovered);
      expect(again.stderr).toContain(next === 'completed' ? 'migrated guest: CONFIRM → SRC_KILLED' : 'SRC_KILLED');
      expect(new Uint8Array(await readFile(output))).toEqual(exampleXlSave());
      // Nothing left behind: no job, no instance row, no partial capture, no lock.
      expect((await run(['jobs', '--state-dir', state])).stdout).toContain('no migration jobs');
      expect(await outputs()).toEqual(['out.bin']);
    }, 30_000);
  }
});

describe('state directory default', () => {
  it('root: /var/lib/stream-migrate; others: $XDG_STATE_HOME (absolute only) or ~/.local/state', () => {
    expect(defaultStateDir({}, 0)).toBe('/var/lib/stream-migrate');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 1000)).toBe('/x/state/stream-migrate');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative' }, 1000)).toMatch(/\/\.local\/state\/stream-migrate$/);
  });
});
