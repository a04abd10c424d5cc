/**
 * Before the first timed run: a private snapshot of dist/ (so a rebuild by
 * someone else mid-run cannot mix two builds in one table), which commands
 * the build has, the git state, and where the write rows write.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clisIn, DIST, MiB, nodeEnv, repoRelative, ROOT, type Clis } from './commands.js';
import type { FilesResult } from './types.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Copy dist/ to .bench-out/dist-PID (removed at exit) and say when it was built and whether src/ is newer. */
export function snapshotDist(): { clis: Clis; info: FilesResult['cli']; remove: () => void } {
  const distClis = clisIn(DIST);
  const info: FilesResult['cli'] = { path: repoRelative(distClis.inspect) };
  if (!existsSync(distClis.inspect)) return { clis: distClis, info, remove: () => {} };
  const built = statSync(distClis.inspect).mtimeMs;
  const snapshot = join(ROOT, '.bench-out', `dist-${process.pid}`);
  rmSync(snapshot, { recursive: true, force: true });
  mkdirSync(join(ROOT, '.bench-out'), { recursive: true });
  cpSync(DIST, snapshot, { recursive: true });
  const remove = () => rmSync(snapshot, { recursive: true, force: true });
  process.once('exit', remove); // also when a run throws
  info.builtAt = new Date(built).toISOString();
  info.snapshot = `dist/ as built at ${info.builtAt}, copied to .bench-out/ for the run`;
  const newest = newestMtime(join(ROOT, 'src'));
  if (newest > built) {
    info.staleWarning = `src/ has files newer than dist/ (by ${((newest - built) / 1000).toFixed(0)} s): run npm run build for current numbers`;
  }
  return { clis: clisIn(snapshot), info, remove };
}

function sh(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function gitState(): FilesResult['git'] {
  const head = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']);
  return head ? { head, dirtySrcFiles: dirty ? dirty.split('\n').filter(Boolean).length : 0 } : undefined;
}

/** Why each command cannot run (`<cmd> --help` must exit 0), undefined when it can. Key 'migrate': stream-migrate. */
export function unavailableCommands(clis: Clis, inspectCommands: readonly string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const probe = (key: string, cli: string, args: string[], shown: string) => {
    if (!existsSync(cli)) return out.set(key, `skipped: ${repoRelative(cli)} missing (npm run build)`);
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: nodeEnv() });
    return out.set(key, r.status === 0 ? undefined : `skipped: command not available (${shown} --help exited ${r.status})`);
  };
  for (const n of inspectCommands) probe(n, clis.inspect, [n, '--help'], `stream-inspect ${n}`);
  probe('migrate', clis.migrate, ['receive', '--help'], 'stream-migrate receive');
  return out;
}

/**
 * Outputs go to tmpfs by default: on this project's VM the disk is ext4
 * mounted with `discard`, so deleting a 1 GiB output slowed the next writes
 * by up to 5× and write timings measured the disk's mood, not the tools.
 * In memory, every writer is compared on the same, stable ground.
 */
export function chooseOutDir(requested: string, dir: string, bytes: number): { path: string; why: string } {
  if (requested !== 'auto') return { path: resolve(requested), why: '--out-dir' };
  try {
    const shm = '/dev/shm';
    const fsType = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[1] === shm)
      ?.split(' ')[2];
    const st = statfsSync(shm);
    const free = st.bavail * st.bsize;
    if (fsType === 'tmpfs' && free > 2 * bytes + 256 * MiB) {
      return { path: join(shm, `xms-bench-${process.pid}`), why: 'tmpfs (/dev/shm): writes measured without the disk (use --out-dir DIR to write to a disk)' };
    }
    return { path: dir, why: `/dev/shm is not tmpfs or has under 2× the stream free (${Math.round(free / MiB)} MiB): writing to --dir` };
  } catch (e) {
    return { path: dir, why: `no /dev/shm (${(e as Error).message}): writing to --dir` };
  }
}
