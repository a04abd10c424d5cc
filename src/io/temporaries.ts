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
 */
import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { constants } from 'node:os';

export interface TemporaryFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

const live = new Set<TemporaryFile>();
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

function isSameFile(st: Stats | undefined, file: TemporaryFile): boolean {
  return st !== undefined && st.dev === file.dev && st.ino === file.ino;
}

/** Remember a file we just created (exclusively) so an interruption removes it. */
export function registerTemporary(file: TemporaryFile): void {
  live.add(file);
  install();
}

/** Forget a file without removing it (it was renamed into place, or removed). */
export function forgetTemporary(file: TemporaryFile): void {
  live.delete(file);
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
  for (const file of live) {
    try {
      if (isSameFile(lstatSync(file.path), file)) unlinkSync(file.path);
    } catch {
      // already gone, or not ours to remove
    }
  }
  live.clear();
}

/** How many files are registered (tests). */
export function liveTemporaryCount(): number {
  return live.size;
}
