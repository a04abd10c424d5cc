#!/usr/bin/env node
/**
 * Builds the two executables, dist/cli/stream-inspect.js and
 * dist/cli/stream-migrate.js, as bundles (run by `npm run build` after tsc,
 * which builds the library in dist/).
 *
 * Why bundles: start-up. Resolving and compiling ~90 separate modules (ours,
 * yargs and its helpers) cost more than the work of verifying a small stream.
 * A plainly valid command line runs without yargs (src/cli/plain-command-line.ts),
 * and from one file holding its whole run path: dist/cli/stream-inspect.js is
 * a small dispatcher that loads stream-inspect-run-<command>.js, and
 * stream-migrate.js is one file. Help, version and usage errors load
 * stream-inspect-main.mjs, a code-split build (each command and yargs a chunk,
 * loaded only when needed), whose yargs chunk the one-file builds import too.
 *
 * Why CommonJS for the run path: Node starts a CommonJS main without its ES
 * module loader. An ES module main paid for that loader (async resolve, the
 * source read through fs/promises and decoded) and for the `node:fs` ES
 * facade, whose named exports evaluate fs's lazy getters and so load all of
 * node:stream: measured +7 ms and +4 ms over `node -e 0`, for a `verify` of a
 * 16-page stream that needs about 35 ms in all. dist/cli/package.json says
 * {"type": "commonjs"} for its .js files; the code-split build is ESM (.mjs),
 * reached by import() only for help and errors.
 *
 * Everything sits in dist/cli, so code that finds files relative to its own
 * module (import.meta.url, e.g. ../../package.json for --version) resolves
 * them the same from every file.
 *
 * No source maps: the bundles are built from src/, which the package does not
 * ship; --debug stack traces name the bundle's own lines.
 */
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
};
/** The code-split build: ES modules (.mjs, whatever dist/cli/package.json says of .js). */
const ESM = {
  ...COMMON,
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  banner: {
    // Bundled CommonJS code may call require() for Node's built-ins. Created on first call: every chunk
    // carries this banner, and 15 eager createRequire(import.meta.url) showed in verify's start-up profile.
    js: "import { createRequire as __createRequire } from 'node:module';\nlet __require_once;\nconst require = (id) => (__require_once ??= __createRequire(import.meta.url))(id);",
  },
};
/** The run files: CommonJS (see above); import.meta.url, which the sources use, is this file's URL. */
const CJS = {
  ...COMMON,
  format: 'cjs',
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
};

// 1. stream-inspect's full main, code-split (help, version, usage errors; the commands and yargs as chunks).
const split = await build({
  ...ESM,
  entryPoints: { 'stream-inspect-main': 'src/cli/stream-inspect.ts' },
  outdir: OUT,
  splitting: true,
  chunkNames: '[name]-[hash]',
  metafile: true,
  plugins: [lazyStringWidth],
});

/** The chunk of build 1 that a dynamic import of `source` (its path as the metafile names it) became. */
const splitChunks = new Map();
for (const [file, output] of Object.entries(split.metafile.outputs)) {
  if (output.entryPoint !== undefined) splitChunks.set(output.entryPoint, `./${basename(file)}`);
}
function chunkOf(source) {
  const chunk = typeof source === 'string' ? splitChunks.get(source) : [...splitChunks].find(([entry]) => source.test(entry))?.[1];
  if (chunk === undefined) throw new Error(`build-cli: no chunk for ${source} in the split build`);
  return chunk;
}

// (node_modules may be a link: the metafile names yargs by its real path.)
const YARGS_ENTRY = /(^|\/)node_modules\/yargs\/index\.mjs$/;
/** Resolves the dynamic import of yargs (help, usage errors) to build 1's chunk. */
const yargsFromTheSplitBuild = {
  name: 'yargs-from-the-split-build',
  setup(b) {
    b.onResolve({ filter: /^yargs$/ }, (args) => (args.kind === 'dynamic-import' ? { path: chunkOf(YARGS_ENTRY), external: true } : undefined));
  },
};

/**
 * 2. One file per stream-inspect command: its whole run path (the main, the
 * command, the library code it uses) in one module. The split build spreads
 * that code over ~15 shared chunks, and loading each chunk (resolve, open,
 * stat, read, compile, link) was the larger part of start-up left once yargs
 * was off the run path (measured: verify of a 16-page stream +61 ms CPU over
 * `node -e 0` split, +43 ms as one file). The other commands and yargs (help,
 * usage errors) stay imports of build 1's chunks: this file's main loads only
 * its own command (the dispatcher below picks the file by that same name),
 * and yargs carries none of our classes, so no error class exists twice in
 * one run.
 */
// Every command main() imports lazily: each is an entry of build 1 (a new command gets its run file by itself).
const COMMAND_ENTRY = /^src\/cli\/commands\/([a-z][a-z-]*)\.ts$/;
const COMMAND_NAMES = [...splitChunks.keys()].flatMap((entry) => COMMAND_ENTRY.exec(entry)?.[1] ?? []);
for (const name of COMMAND_NAMES) {
  await build({
    ...CJS,
    entryPoints: { [`stream-inspect-run-${name}`]: 'src/cli/stream-inspect.ts' },
    outdir: OUT,
    splitting: false,
    plugins: [
      lazyStringWidth,
      yargsFromTheSplitBuild,
      {
        name: 'other-commands-from-the-split-build',
        setup(b) {
          b.onResolve({ filter: /^\.\/commands\/[a-z][a-z-]*\.js$/ }, (args) => {
            const command = args.path.slice('./commands/'.length, -'.js'.length);
            if (command === name || !args.importer.endsWith(join('src', 'cli', 'stream-inspect.ts'))) return undefined;
            return { path: chunkOf(`src/cli/commands/${command}.ts`), external: true };
          });
        },
      },
    ],
  });
}

// 3. stream-migrate: one file too (its run path loaded 10 chunks), yargs from build 1.
await build({
  ...CJS,
  entryPoints: { 'stream-migrate': 'src/cli/stream-migrate.ts' },
  outdir: OUT,
  splitting: false,
  plugins: [lazyStringWidth, yargsFromTheSplitBuild],
});

// 4. The executable: picks the run file of the command the line names (the first word that is not an option,
// as main() reads it), or the full main for everything else.
writeFileSync(
  join(OUT, 'stream-inspect.js'),
  `#!/usr/bin/env node
// Generated by scripts/build-cli.mjs: start-up dispatch to one file per command (see there).
'use strict';
const COMMANDS = new Set(${JSON.stringify(COMMAND_NAMES)});
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (COMMANDS.has(named)) require(\`./stream-inspect-run-\${named}.js\`).runAsExecutable();
else import('./stream-inspect-main.mjs').then((main) => main.runAsExecutable());
`,
);
chmodSync(join(OUT, 'stream-inspect.js'), 0o755);

// 5. The .js files here are CommonJS (the package's own "type" is module, for the library in dist/).
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
