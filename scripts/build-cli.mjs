#!/usr/bin/env node
/**
 * Builds the two executables, dist/cli/stream-inspect.js and
 * dist/cli/stream-migrate.js, as ESM bundles (run by `npm run build` after
 * tsc, which builds the library in dist/).
 *
 * Why bundles: start-up. Resolving and compiling ~90 separate modules (ours,
 * yargs and its helpers) cost more than the work of verifying a small stream.
 * Code splitting keeps a run to what it executes: each command's code is its
 * own chunk, imported only when that command runs (src/cli/stream-inspect.ts
 * imports the commands lazily); code both CLIs share is one chunk.
 *
 * Chunks sit next to the entry points, so code that finds files relative to
 * its own module (import.meta.url, e.g. ../../package.json for --version)
 * resolves them the same from an entry or a chunk.
 *
 * No source maps: the bundles are built from src/, which the package does not
 * ship; --debug stack traces name the bundle's own lines.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'cli');

/**
 * string-width creates an Intl.Segmenter when it is loaded, which costs
 * 20-60 ms (ICU data) on every run; yargs loads it (through cliui and
 * wrap-ansi) and measures its help text on every run, even when it prints no
 * help. The strings it measures for our commands are printable ASCII plus a
 * few East Asian "ambiguous" characters (× — … −, also ‘ ’ “ ” ≤ ≥ →), one
 * column each unless the caller asks for ambiguous as wide (neither cliui nor
 * wrap-ansi does): their width is their length. This wrapper answers those
 * directly and loads the real string-width (the version the importer depends
 * on) only for anything else. test/cli-bundle.test.ts checks the help text is
 * the same as the sources' byte for byte.
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) => {
      if (args.pluginData?.real) return undefined;
      return { path: join(args.resolveDir, 'string-width'), namespace: 'lazy-string-width', pluginData: { resolveDir: args.resolveDir } };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      resolveDir: args.pluginData.resolveDir,
      pluginData: { real: true },
      contents: `
        const ONE_COLUMN_EACH = /^[\\x20-\\x7e\\u00d7\\u2014\\u2026\\u2212\\u2018\\u2019\\u201c\\u201d\\u2264\\u2265\\u2192]*$/;
        let real;
        export default function stringWidth(text, options) {
          if (typeof text === 'string' && options?.ambiguousIsNarrow !== false && ONE_COLUMN_EACH.test(text)) return text.length;
          real ??= require('string-width').default;
          return real(text, options);
        }`,
    }));
  },
};

// dist/cli holds only this build's output (chunk names carry a content hash; old ones would pile up).
rmSync(OUT, { recursive: true, force: true });

await build({
  absWorkingDir: ROOT,
  entryPoints: { 'stream-inspect': 'src/cli/stream-inspect.ts', 'stream-migrate': 'src/cli/stream-migrate.ts' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
  plugins: [lazyStringWidth],
  // Bundled CommonJS code may call require() for Node's built-ins. Created on first call: every chunk
  // carries this banner, and 15 eager createRequire(import.meta.url) showed in verify's start-up profile.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nlet __require_once;\nconst require = (id) => (__require_once ??= __createRequire(import.meta.url))(id);",
  },
});
