/** The whole-file benchmark's options (shared with bench/run.ts) and their validation. */
import { join, resolve } from 'node:path';
import { parseSize } from '../lib/args.js';
import { BENCH, ROOT } from './commands.js';

export interface FilesOptions {
  /** Stream size of the main table (synth --size). */
  size: string;
  runs: number;
  /** Further sizes at which the size-dependent rows run again (verify, stats, dump, Xen's verifier, floors). */
  sizes: string[];
  /** Size of the large EMULATOR_CONTEXT record's blob. */
  recordSize: string;
  only?: string[];
  dir: string;
  /** Where outputs of the write rows go ('auto': /dev/shm when it is tmpfs with room, else dir). */
  outDir: string;
  resultsDir: string;
  label?: string;
  write: boolean;
  keep: boolean;
  log: (s: string) => void;
}

export const FILES_OPTIONS = {
  size: { type: 'string', default: '256M', describe: 'stream size for the table (synth --size: guest memory; the stream is about that size)' },
  runs: { type: 'string', default: '5', describe: 'interleaved rounds (every command once per round)' },
  sizes: {
    type: 'string',
    default: '',
    describe: 'run the size-dependent rows again at these sizes, e.g. 1G,4G (read floor, node -e 0, verify, stats, dump, Xen)',
  },
  'record-size': { type: 'string', default: '64M', describe: 'blob size of the one large EMULATOR_CONTEXT record sent through the receiver' },
  only: { type: 'string', describe: 'only these rows (ids, comma-separated; their floors come along), e.g. verify,stats' },
  dir: { type: 'string', default: '/var/tmp/xms-bench', describe: 'where the big input streams go (never the repo)' },
  'out-dir': { type: 'string', default: 'auto', describe: 'where the write rows write (auto: /dev/shm when tmpfs with room, else --dir)' },
  'results-dir': { type: 'string', default: join(BENCH, 'results'), describe: 'where the JSON result goes' },
  label: { type: 'string', describe: 'result file name suffix (default: a timestamp)' },
  write: { type: 'boolean', default: true, describe: 'write the JSON result (--no-write to skip)' },
  keep: { type: 'boolean', default: false, describe: 'keep the generated streams in --dir' },
  markdown: { type: 'boolean', default: false, describe: 'also print the tables as Markdown' },
} as const;

function list(text: string | boolean | undefined): string[] {
  return String(text ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

export function filesOptionsFrom(args: Record<string, string | boolean | undefined>, log: (s: string) => void): FilesOptions & { markdown: boolean } {
  const size = String(args.size);
  const recordSize = String(args['record-size']);
  const sizes = list(args.sizes);
  for (const s of [size, recordSize, ...sizes]) parseSize(s);
  const runs = Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const dir = resolve(String(args.dir));
  if (dir === ROOT || dir.startsWith(`${ROOT}/`)) throw new Error(`--dir ${dir} is inside the repository: big files never go there`);
  return {
    size,
    runs,
    sizes,
    recordSize,
    ...(typeof args.only === 'string' ? { only: list(args.only) } : {}),
    dir,
    outDir: String(args['out-dir']),
    resultsDir: resolve(String(args['results-dir'])),
    ...(typeof args.label === 'string' ? { label: args.label } : {}),
    write: args.write !== false,
    keep: args.keep === true,
    markdown: args.markdown === true,
    log,
  };
}
