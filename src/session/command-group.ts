import type { ChildProcess } from 'node:child_process';

/** After SIGTERM, how long the group gets before SIGKILL. */
const TERM_GRACE_MS = 1000;

/**
 * A command spawned `detached` (its own process group, led by the child), so
 * that everything it started can be ended together: killing only `sh` would
 * leave e.g. `ssh` or `sleep` holding our pipes open, and the sender waiting.
 */
export class CommandGroup {
  /** The exit status, or null when it ended by a signal or could not start. */
  readonly exited: Promise<number | null>;
  private done = false;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        resolve(signal === null ? code : null);
      });
      child.once('error', () => {
        this.done = true;
        resolve(null);
      });
    });
  }

  /** Wait up to `ms` for the command to exit; then end its whole group (TERM, then KILL). */
  async waitOrKill(ms: number): Promise<number | null> {
    const code = await this.within(ms);
    if (code !== undefined) return code;
    this.signal('SIGTERM');
    if ((await this.within(TERM_GRACE_MS)) === undefined) this.signal('SIGKILL');
    await this.within(TERM_GRACE_MS);
    // Never wait on it beyond this point.
    this.child.unref();
    return null;
  }

  private within(ms: number): Promise<number | null | undefined> {
    if (this.done) return this.exited;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      void this.exited.then((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  private signal(name: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, name);
    } catch {
      // ESRCH: the group is already empty.
    }
  }
}
