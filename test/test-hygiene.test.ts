/**
 * The test suite's own manners (issue #17 item 21): a run ends by saying why
 * tests were skipped, and a skipped test file leaves nothing in the temporary
 * directory. Runs vitest on the two files that skip on a machine without
 * Chromium and without Xen's verifier, with both made unavailable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './support/cli-run.js';

const scratch = mkdtempSync(join(tmpdir(), 'test-hygiene-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('skipped tests are listed with their reasons, and leave no temporary directory behind', () => {
  const ownTmp = mkdtempSync(join(scratch, 'tmp-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: ownTmp,
    CHROMIUM: join(ownTmp, 'no-chromium'),
    XEN_VERIFIER_CACHE: join(ownTmp, 'no-verifier'),
    PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    NO_COLOR: '1',
  };
  delete env.XEN_VERIFY_STREAM;
  delete env.VITEST; // a fresh top-level run, not a child of this one
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/report-browser.test.ts', 'test/writer-xen-verifier.test.ts'],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const output = run.stdout + run.stderr;
  expect(run.status, output).toBe(0);
  expect(output).toMatch(/Skipped tests:\n/);
  expect(output).toMatch(/test\/report-browser\.test\.ts: \d+ skipped: no Chromium found/);
  expect(output).toMatch(/test\/writer-xen-verifier\.test\.ts: 1 skipped: verify-stream-v2 not found/);
  expect(readdirSync(ownTmp)).toEqual([]);
});
