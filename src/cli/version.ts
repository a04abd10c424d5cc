/**
 * This package's version, for `--version`. Read from the package.json of the
 * package this file was loaded from: the nearest one with a `version` above
 * this module's own file, found from import.meta.url. That is the same
 * package.json whether the CLI runs from tsc's dist/cli/ or from a one-file
 * bundle anywhere below the package root (yargs' own lookup starts from the
 * current directory, so it printed the version of whatever project the user
 * stood in).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no (readable) package.json here: keep going up
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
