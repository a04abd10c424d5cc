/**
 * Every wait in the session layer is bounded. xl itself waits forever; a
 * stand-in tool must not, so these are generous defaults that tests shrink.
 */
export interface SessionTimeouts {
  /** Waiting for one control message (banner, ready, go, report, permission, sync). */
  readonly messageMs: number;
  /** Longest silence allowed while a stream is flowing. */
  readonly idleMs: number;
  /** Waiting for a blocked write (peer not reading) to make progress. */
  readonly writeMs: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = {
  // The receiver builds the domain before it answers "ready"; that can take a while.
  messageMs: 120_000,
  idleMs: 60_000,
  writeMs: 60_000,
};

export function resolveTimeouts(overrides: Partial<SessionTimeouts> = {}): SessionTimeouts {
  const merged = { ...DEFAULT_TIMEOUTS, ...overrides };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`timeout ${name} must be a positive number of ms, got ${value}`);
  }
  return merged;
}

/**
 * Settle with `promise`, or with `onTimeout()` after `ms` (which may return a
 * fallback value or throw). Rejections become Errors.
 */
export function withTimeout<T, F = never>(promise: Promise<T>, ms: number, onTimeout: () => F): Promise<T | F> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (e) {
        reject(e);
      }
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
