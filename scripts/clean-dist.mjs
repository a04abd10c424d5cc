// Empties dist/ before a build, so files of modules that no longer exist are not
// shipped (or tested) from an earlier build. The test build lock is kept: a
// parallel test file may hold it while it runs `npm run build`.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
let entries = [];
try {
  entries = readdirSync(dist);
} catch {
  // no dist yet
}
for (const name of entries) if (name !== '.cli-test-build.lock') rmSync(join(dist, name), { recursive: true, force: true });
