import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

/**
 * Cookies of the v3 flow (spec/PROTOCOLS.md §2.3): small typed JSON documents that
 * each step hands to the next. Validators are compiled once, here.
 */
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** Begin → Prepare: what is coming, and how. */
export const BeginCookieSchema = Type.Object(
  {
    version: Type.Literal(3),
    domain: Type.String({ minLength: 1 }),
    sourceHost: Type.String(),
    /** VIR_MIGRATE_LIVE / VIR_MIGRATE_PAUSED (added when the source domain is paused). */
    flags: Type.Object({ live: Type.Boolean(), paused: Type.Boolean() }, { additionalProperties: false }),
    /** Lease data a lock manager wants on the destination (the reason v3 exists). */
    leases: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

/** Prepare → Perform: where to send the stream. Prepare must yield a URI. */
export const PrepareCookieSchema = Type.Object(
  {
    version: Type.Literal(3),
    domain: Type.String({ minLength: 1 }),
    uri: Type.String({ minLength: 1 }),
    incomingName: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/** Perform → Finish: what was sent, so Finish can check what arrived. */
export const PerformCookieSchema = Type.Object(
  {
    version: Type.Literal(3),
    domain: Type.String({ minLength: 1 }),
    bytesSent: Type.Integer({ minimum: 0 }),
    sha256: Sha256,
  },
  { additionalProperties: false },
);

/** Finish → Confirm: whether the destination kept the domain. */
export const FinishCookieSchema = Type.Object(
  {
    version: Type.Literal(3),
    domain: Type.String({ minLength: 1 }),
    kept: Type.Boolean(),
    bytesReceived: Type.Integer({ minimum: 0 }),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type BeginCookie = Static<typeof BeginCookieSchema>;
export type PrepareCookie = Static<typeof PrepareCookieSchema>;
export type PerformCookie = Static<typeof PerformCookieSchema>;
export type FinishCookie = Static<typeof FinishCookieSchema>;

export class CookieError extends Error {
  constructor(
    readonly cookie: string,
    message: string,
  ) {
    super(`invalid ${cookie} cookie: ${message}`);
    this.name = 'CookieError';
  }
}

class CookieCodec<T extends TSchema> {
  private readonly check: TypeCheck<T>;

  constructor(
    readonly name: string,
    schema: T,
  ) {
    this.check = TypeCompiler.Compile(schema);
  }

  encode(value: Static<T>): string {
    if (!this.check.Check(value)) throw new CookieError(this.name, this.firstError(value));
    return JSON.stringify(value);
  }

  decode(text: string): Static<T> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CookieError(this.name, `not JSON (${(error as Error).message})`);
    }
    if (!this.check.Check(value)) throw new CookieError(this.name, this.firstError(value));
    return value;
  }

  private firstError(value: unknown): string {
    const first = this.check.Errors(value).First();
    return first === undefined ? 'does not match its schema' : `${first.path || '/'}: ${first.message}`;
  }
}

export const beginCookies = new CookieCodec('begin', BeginCookieSchema);
export const prepareCookies = new CookieCodec('prepare', PrepareCookieSchema);
export const performCookies = new CookieCodec('perform', PerformCookieSchema);
export const finishCookies = new CookieCodec('finish', FinishCookieSchema);
