/**
 * The temporary files this process created and has not yet committed or
 * removed, so they can be removed when the process is interrupted.
 *
 * A file is identified by its path and by the (device, inode) it had when we
 * created it: it is unlinked only while the path still names that inode, so a
 * file someone else put at the same name (another receiver, a user) is never
 * removed. On SIGINT, SIGTERM or SIGHUP every registered file is removed
 * synchronously, then the process exits with 128 + the signal's number (the
 * status a shell reports for a process killed by it) unless the program has
 * its own handler for that signal, which then decides.
 *
 * A name is reserved before the file is created (createTemporary), so a signal
 * that arrives while the create is in flight still removes it: a reserved name
 * is unique (pid + random) and created with O_EXCL, so a file under it is ours.
 */
import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { link, lstat, unlink } from 'node:fs/promises';
import { constants } from 'node:os';

export interface TemporaryFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/** A registered name: its inode is unknown until the exclusive create returned. */
interface LiveEntry {
  readonly path: string;
  dev?: number;
  ino?: number;
}

const live = new Map<string, LiveEntry>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type CleanupSignal = (typeof SIGNALS)[number];
let installed = false;

function onSignal(signal: CleanupSignal): void {
  removeAllTemporariesSync();
  // Only our listener: behave as the default action would, with a visible status.
  if (process.listenerCount(signal) <= 1) process.exit(128 + constants.signals[signal]);
}

const listeners = Object.fromEntries(SIGNALS.map((s) => [s, () => onSignal(s)])) as Record<CleanupSignal, () => void>;

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, listeners[s]);
}

function uninstall(): void {
  if (!installed || live.size > 0) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, listeners[s]);
}

function isSameFile(st: Stats | undefined, file: LiveEntry): boolean {
  // A reserved name whose create has not returned yet: unique and exclusive, so ours.
  if (file.dev === undefined || file.ino === undefined) return st !== undefined;
  return st !== undefined && st.dev === file.dev && st.ino === file.ino;
}

/** Remember a file we just created (exclusively) so an interruption removes it. */
export function registerTemporary(file: TemporaryFile): void {
  live.set(file.path, { path: file.path, dev: file.dev, ino: file.ino });
  install();
}

/**
 * Create a file under a new unique name with `create` (which must use O_EXCL),
 * covered by the signal cleanup from before the create starts.
 */
export async function createTemporary<H extends { stat(): Promise<Stats>; close(): Promise<void> }>(
  path: string,
  create: () => Promise<H>,
): Promise<{ handle: H; temporary: TemporaryFile }> {
  live.set(path, { path });
  install();
  let handle: H;
  try {
    handle = await create();
  } catch (e) {
    live.delete(path); // not created (EEXIST is someone else's file): nothing to remove
    uninstall();
    throw e;
  }
  try {
    const st = await handle.stat();
    const temporary = { path, dev: st.dev, ino: st.ino };
    registerTemporary(temporary);
    return { handle, temporary };
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    live.delete(path);
    uninstall();
    throw e;
  }
}

/**
 * Give our file `file` the extra name `path`, which may exist (a user's --temp
 * name, a lock): link() fails with EEXIST instead of replacing anything. The
 * new name is registered (by inode) before the link, so a signal at any point
 * removes it only if it is ours.
 */
export async function linkTemporary(file: TemporaryFile, path: string): Promise<TemporaryFile> {
  const named = { path, dev: file.dev, ino: file.ino };
  if (live.has(path)) throw Object.assign(new Error(`EEXIST: file already exists, link '${path}'`), { code: 'EEXIST' });
  registerTemporary(named);
  try {
    await link(file.path, path);
  } catch (e) {
    live.delete(path);
    uninstall();
    throw e;
  }
  return named;
}

/** Forget a file without removing it (it was renamed into place, or removed). */
export function forgetTemporary(file: TemporaryFile): void {
  if (live.get(file.path)?.ino === file.ino) live.delete(file.path);
  uninstall();
}

/** Remove `file` if its path still names the inode we created; forget it either way. */
export async function removeTemporary(file: TemporaryFile): Promise<void> {
  try {
    const st = await lstat(file.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (isSameFile(st, file)) {
      await unlink(file.path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  } finally {
    forgetTemporary(file);
  }
}

/** Signal path: synchronous, best effort, never throws. */
export function removeAllTemporariesSync(): void {
  for (const file of live.values()) {
    try {
      if (isSameFile(lstatSync(file.path), file)) unlinkSync(file.path);
    } catch {
      // already gone, or not ours to remove
    }
  }
  live.clear();
}
