import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where `migrate` and `jobs` keep job and instance files when --state-dir is
 * not given: /var/lib/stream-migrate for root (a host's migration state, like
 * /var/lib/libvirt), else $XDG_STATE_HOME/stream-migrate (default
 * ~/.local/state), as the XDG base-directory spec places state that should
 * survive a restart.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (uid === 0) return '/var/lib/stream-migrate';
  const xdg = env.XDG_STATE_HOME;
  // The spec says a relative value is invalid and must be ignored.
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'stream-migrate');
}
