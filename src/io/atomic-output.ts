/**
 * The one way this project writes an output file (`-o`, the library's
 * FileSink, the session capture). Guarantees:
 *
 *  - The output appears only complete: bytes go to a temporary file created
 *    exclusively (O_EXCL) in the target's directory, renamed over the target
 *    by commit(). A symlink to a regular file is followed (the file it names
 *    is replaced, the link stays).
 *  - Mode: 0600 unless the caller asks for more (every command keeps 0600:
 *    see the README's "Outputs"); never looser than the file it replaces.
 *  - The temporary file is removed on discard(), on a failed commit and on
 *    SIGINT/SIGTERM/SIGHUP (then exit 128+signal), and only while its path
 *    still names the inode we created. A committed file is never removed.
 *  - Refused before anything is read: '' and directories; a target that is the
 *    same file (device + inode) as an input, as cp does; a target that is not
 *    a regular file when the output is written at positions (a sparse image).
 *  - A target that exists and is not a regular file (a character device such
 *    as /dev/null, a FIFO, a socket), and any path under /dev or /proc (such as
 *    /dev/stdout), is written directly, in order, and never replaced.
 *  - exclusive: a lock file next to the target makes a second writer of the
 *    same target (another receiver) fail at open instead of racing.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { fstat as fstatCallback, write as writeCallback, writev as writevCallback, type Stats } from 'node:fs';
import { link, open, readFile, realpath, rename, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { OutputError, outputIoError } from './output-errors.js';
import { createTemporary, forgetTemporary, linkTemporary, removeTemporary, type TemporaryFile } from './temporaries.js';

const fstatFd = promisify(fstatCallback);
const writeFd = promisify(writeCallback);
const writevFd = promisify(writevCallback);

/** What the output writes through: a FileHandle, or an inherited descriptor (/dev/stdout on a socket). */
type OutputIo = Pick<FileHandle, 'write' | 'writev' | 'close' | 'datasync'>;

/** /dev/stdout, /dev/fd/N, /proc/self/fd/N: the descriptor they name, which may be a socket that cannot be reopened. */
function inheritedFd(path: string): number | undefined {
  const m = /^\/dev\/(?:(stdout)|(stderr)|fd\/(\d+))$|^\/proc\/self\/fd\/(\d+)$/.exec(path);
  if (!m) return undefined;
  return m[1] ? 1 : m[2] ? 2 : Number(m[3] ?? m[4]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes to a descriptor we did not open (never closed by us); waits out EAGAIN on a non-blocking one. */
function fdIo(fd: number): OutputIo {
  const retry = async <T>(op: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await sleep(1);
      }
    }
  };
  return {
    write: ((buffer: Uint8Array, offset: number, length: number) => retry(() => writeFd(fd, buffer, offset, length, null))) as unknown as FileHandle['write'],
    writev: ((buffers: Uint8Array[]) => retry(() => writevFd(fd, buffers))) as unknown as FileHandle['writev'],
    close: async () => undefined,
    datasync: async () => undefined,
  };
}

/** Mode for outputs that hold guest memory or device state. */
export const PRIVATE_MODE = 0o600;

export interface OutputOptions {
  /** Mode of a new file (before the umask). Default PRIVATE_MODE. */
  mode?: number;
  /** Inputs the output must not be: paths, or file descriptors (0 for stdin). */
  inputs?: readonly (string | number)[];
  /** Written at positions (needs a regular file): refuse devices, FIFOs and '-'. */
  positional?: boolean;
  /** Hold a lock on the target until release(): a second exclusive writer is refused. */
  exclusive?: boolean;
  /** fdatasync before the rename (durable, slower). */
  fsync?: boolean;
  /** Word in the temporary file's name (default 'partial'). */
  tag?: string;
  /** commit() never replaces an existing target: it fails with EEXIST instead (link, not rename: a lock file). */
  noReplace?: boolean;
}

type Target = { kind: 'file'; path: string; existing?: Stats } | { kind: 'direct'; existing?: Stats };

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function inputStats(inputs: readonly (string | number)[]): Promise<Stats[]> {
  const out: Stats[] = [];
  for (const input of inputs) {
    const st = typeof input === 'number' ? await fstatFd(input).catch(() => undefined) : await statOrUndefined(input).catch(() => undefined);
    if (st) out.push(st);
  }
  return out;
}

/**
 * Names of an already-open descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N):
 * written through, even when they lead to a regular file the shell opened.
 * Other paths under /dev (/dev/shm is a tmpfs) are judged by what they are.
 */
const isDirectPath = (path: string) => /^\/(dev\/(stdout|stderr|fd\/)|proc\/)/.test(path);

/**
 * Check `path` as an output: everything that can be refused before any input
 * is read. Returns where the bytes go.
 */
export async function checkOutput(path: string, options: OutputOptions = {}): Promise<Target> {
  if (path === '') throw new OutputError('the output path is empty', 'EINVAL');
  if (path === '-') {
    throw new OutputError(
      options.positional ? '-o - (standard output) cannot be used: this output is written at offsets and needs a regular file' : "'-' is not a file name here",
      'EINVAL',
    );
  }
  const existing = await statOrUndefined(path).catch((e) => {
    throw outputIoError(path, e);
  });
  if (existing?.isDirectory()) throw new OutputError(`${path} is a directory: give a file name`, 'EISDIR');
  if (existing) {
    for (const input of await inputStats(options.inputs ?? [])) {
      if (input.dev === existing.dev && input.ino === existing.ino) {
        throw new OutputError(`${path} is the same file as the input: refusing to overwrite the input`, 'EINVAL');
      }
    }
  }
  const direct = (existing !== undefined && !existing.isFile()) || isDirectPath(path);
  if (direct) {
    if (options.positional) throw new OutputError(`${path} is not a regular file: this output is written at offsets and needs one`, 'EINVAL');
    if (options.exclusive) throw new OutputError(`${path} is not a regular file: give a file name`, 'EINVAL');
    return { kind: 'direct', ...(existing ? { existing } : {}) };
  }
  // A symlink to a file: replace the file, keep the link.
  const finalPath = existing ? await realpath(path) : path;
  const dirStat = await statOrUndefined(dirname(finalPath));
  if (!dirStat) throw new OutputError(`cannot write ${path}: directory ${dirname(finalPath)} does not exist`, 'ENOENT');
  if (!dirStat.isDirectory()) throw new OutputError(`cannot write ${path}: ${dirname(finalPath)} is not a directory`, 'ENOTDIR');
  return { kind: 'file', path: finalPath, ...(existing ? { existing } : {}) };
}

export class AtomicOutput {
  private state: 'open' | 'committed' | 'discarded' = 'open';
  private appendPosition = 0;

  private constructor(
    /** The path the user gave. */
    readonly path: string,
    private readonly io: OutputIo,
    /** The temporary file (undefined when writing directly to a device or FIFO). */
    private readonly temporary: TemporaryFile | undefined,
    /** Where commit() renames the temporary file to. */
    private readonly finalPath: string,
    private readonly lock: OutputLock | undefined,
    private readonly options: OutputOptions,
  ) {}

  static async open(path: string, options: OutputOptions = {}): Promise<AtomicOutput> {
    const target = await checkOutput(path, options);
    if (target.kind === 'direct') {
      // No O_CREAT, no O_TRUNC: a device or FIFO stays what it is.
      const fd = inheritedFd(path);
      let io: OutputIo;
      try {
        io = await open(path, fsConstants.O_WRONLY);
      } catch (e) {
        // A socket (e.g. a parent's stdio) cannot be reopened through /proc: write to the descriptor itself.
        if (fd === undefined || (e as NodeJS.ErrnoException).code !== 'ENXIO') throw outputIoError(path, e);
        io = fdIo(fd);
      }
      return new AtomicOutput(path, io, undefined, path, undefined, options);
    }
    const lock = options.exclusive ? await OutputLock.take(path, target.path) : undefined;
    const requested = options.mode ?? PRIVATE_MODE;
    // Never looser than the file being replaced (an existing 0600 file stays 0600).
    const mode = target.existing ? requested & target.existing.mode & 0o777 : requested;
    const tempPath = join(dirname(target.path), `.${basename(target.path)}.${process.pid}-${randomBytes(4).toString('hex')}.${options.tag ?? 'partial'}`);
    try {
      // Covered by the signal cleanup from before the create (src/io/temporaries.ts).
      const { handle, temporary } = await createTemporary(tempPath, () => open(tempPath, 'wx+', mode));
      return new AtomicOutput(path, handle, temporary, target.path, lock, options);
    } catch (e) {
      await lock?.release();
      throw outputIoError(path, e, tempPath);
    }
  }

  /** The open temporary file, for positional reads and size changes (a sparse image). Not for direct outputs. */
  get handle(): FileHandle {
    if (this.direct) throw new OutputError(`${this.path} is not a regular file`, 'ESPIPE');
    return this.io as FileHandle;
  }

  /** Written directly to a device, FIFO or /dev path (no temporary file, no rename). */
  get direct(): boolean {
    return this.temporary === undefined;
  }

  get committed(): boolean {
    return this.state === 'committed';
  }

  /** The hidden name while writing (for diagnostics only; errors name `path`). */
  get tempPath(): string | undefined {
    return this.temporary?.path;
  }

  /** (device, inode) of the file we created, also after commit() renamed it (undefined when direct). */
  get identity(): { dev: number; ino: number } | undefined {
    return this.temporary && { dev: this.temporary.dev, ino: this.temporary.ino };
  }

  /** Where the file is once committed (the target, symlinks resolved). */
  get committedPath(): string {
    return this.finalPath;
  }

  /** Bytes appended with write() / writeAt() at the end. */
  get bytesWritten(): number {
    return this.appendPosition;
  }

  /**
   * Write all of `bytes` at `position`. On a direct output positions must
   * follow each other (a FIFO cannot seek).
   */
  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    this.checkOpen();
    if (this.direct && position !== this.appendPosition) {
      throw new OutputError(`${this.path} is not a regular file and cannot be written at offset ${position}`, 'ESPIPE');
    }
    try {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await this.io.write(bytes, done, bytes.length - done, this.direct ? null : position + done);
        if (bytesWritten <= 0) throw new OutputError(`cannot write ${this.path}: short write`, 'EIO');
        done += bytesWritten;
      }
    } catch (e) {
      throw outputIoError(this.path, e, this.tempPath);
    }
    this.appendPosition = Math.max(this.appendPosition, position + bytes.length);
  }

  /** Append `chunks` (one writev per call where the kernel takes them all). */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    this.checkOpen();
    let pending: readonly Uint8Array[] = chunks;
    let remaining = chunks.reduce((n, c) => n + c.length, 0);
    try {
      while (remaining > 0) {
        const { bytesWritten } = await this.io.writev(pending as Uint8Array[], this.direct ? undefined : this.appendPosition);
        if (bytesWritten <= 0) throw new OutputError(`cannot write ${this.path}: short write`, 'EIO');
        this.appendPosition += bytesWritten;
        remaining -= bytesWritten;
        if (remaining > 0) pending = skipBytes(pending, bytesWritten);
      }
    } catch (e) {
      throw outputIoError(this.path, e, this.tempPath);
    }
  }

  /** Move the complete file into place. On failure the temporary file is removed and the error names `path`. */
  async commit(): Promise<void> {
    this.checkOpen();
    try {
      if (this.options.fsync && !this.direct) await this.io.datasync();
      await this.io.close();
      if (this.temporary && this.options.noReplace) {
        // link() fails atomically if the target exists; then our temporary name goes.
        await link(this.temporary.path, this.finalPath);
        await removeTemporary(this.temporary);
      } else if (this.temporary) {
        await rename(this.temporary.path, this.finalPath);
        forgetTemporary(this.temporary);
      }
      this.state = 'committed';
    } catch (e) {
      await this.discard();
      throw outputIoError(this.path, e, this.tempPath);
    }
  }

  /**
   * Remove the temporary file (only ours: checked by inode). After commit()
   * this removes nothing: a committed output is never deleted. Safe to call
   * more than once; never throws.
   */
  async discard(): Promise<void> {
    if (this.state === 'open') {
      this.state = 'discarded';
      await this.io.close().catch(() => undefined);
      if (this.temporary) await removeTemporary(this.temporary).catch(() => undefined);
    }
    await this.release();
  }

  /** Give up the exclusive lock (after commit, when the writer is done with the target). */
  async release(): Promise<void> {
    await this.lock?.release().catch(() => undefined);
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new OutputError(`output ${this.path} is already ${this.state}`, 'EBADF');
  }
}

/**
 * An exclusive claim on a target: `.NAME.lock` next to it, created with
 * O_EXCL, holding our pid. A lock whose pid no longer runs is stale and taken
 * over; it is removed (by inode) on release and on a signal.
 */
class OutputLock {
  private released = false;
  private constructor(private readonly temporary: TemporaryFile) {}

  static async take(userPath: string, finalPath: string): Promise<OutputLock> {
    const lockPath = join(dirname(finalPath), `.${basename(finalPath)}.lock`);
    // The lock is written under a unique name, then linked to its fixed name: it appears complete, or not at all.
    const uniquePath = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
    const { handle, temporary: unique } = await createTemporary(uniquePath, () => open(uniquePath, 'wx', 0o600));
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return new OutputLock(await linkTemporary(unique, lockPath));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw outputIoError(userPath, e, lockPath);
        }
        const holder = await readLockHolder(lockPath);
        if (holder !== undefined && isRunning(holder)) {
          throw new OutputError(`${userPath} is being written by another process (pid ${holder}, lock ${lockPath}): refusing a second writer`, 'EBUSY');
        }
        // Stale: its writer is gone. Remove exactly the file we looked at, then try once more.
        const st = await statOrUndefined(lockPath);
        if (st) await removeTemporary({ path: lockPath, dev: st.dev, ino: st.ino });
      }
    } finally {
      await removeTemporary(unique);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await removeTemporary(this.temporary);
  }
}

async function readLockHolder(lockPath: string): Promise<number | undefined> {
  const text = await readFile(lockPath, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The chunks after the first `n` bytes (views, no copies). */
function skipBytes(chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.length) {
      n -= c.length;
      continue;
    }
    out.push(n > 0 ? c.subarray(n) : c);
    n = 0;
  }
  return out;
}

/** Run `fill` against a new output; commit it if `fill` succeeds, leave nothing behind if it throws. */
export async function withOutput<T>(path: string, options: OutputOptions, fill: (output: AtomicOutput) => Promise<T>): Promise<T> {
  const output = await AtomicOutput.open(path, options);
  try {
    const result = await fill(output);
    await output.commit();
    return result;
  } catch (e) {
    await output.discard();
    throw e;
  }
}
