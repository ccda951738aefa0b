// API tokens for the HTTP API and the CLI. The secret is shown once, at creation; only its SHA-256 is kept,
// so a copy of the database does not hand out working tokens. A secret is found by the digest's unique
// index: an equality lookup on a digest reveals nothing useful through timing about the secret itself.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { asc, eq, isNull, and, lt, or } from 'drizzle-orm';
import { isIssuedTokenShape, isRole, type Principal, type Role } from '../core/access.ts';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { apiTokens } from './schema.ts';

// `cbt_` + base64url of 32 bytes (43 characters, no padding): the shape core/access.ts recognises.
const TOKEN_PREFIX = 'cbt_';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** lastUsedAt is for "is this token still in use?", not an access log: one write a minute per token is plenty. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface NewApiToken {
  name: string;
  roles: readonly Role[];
  expiresAt: Date;
}

/** A token as listed: everything but the secret (which is not stored). */
export interface ApiTokenInfo {
  id: string;
  name: string;
  roles: Role[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

type Row = typeof apiTokens.$inferSelect;

export class DrizzleTokenStore {
  readonly #db: DrizzleDb;
  readonly #now: () => Date;
  /** When this process last wrote lastUsedAt, per token id: spares the database a write per request. */
  readonly #lastTouched = new Map<string, number>();

  constructor(options: { db: DrizzleDb; now?: () => Date }) {
    this.#db = options.db;
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates a token; the returned `secret` is the only copy there will ever be. */
  async create(token: NewApiToken): Promise<{ token: ApiTokenInfo; secret: string }> {
    const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const [row] = await this.#run(() =>
      this.#db
        .insert(apiTokens)
        .values({ id: randomUUID(), name: token.name, tokenHash: hashToken(secret), roles: [...token.roles], createdAt: this.#now(), expiresAt: token.expiresAt })
        .returning(),
    );
    return { token: info(row as Row), secret };
  }

  /** The principal a secret stands for; undefined when unknown, expired or revoked (callers answer alike). */
  async authenticate(secret: string): Promise<Principal | undefined> {
    if (!isIssuedTokenShape(secret)) return undefined;
    const [row] = await this.#run(() => this.#db.select().from(apiTokens).where(eq(apiTokens.tokenHash, hashToken(secret))));
    const now = this.#now();
    if (row === undefined || row.revokedAt !== null || row.expiresAt.getTime() <= now.getTime()) return undefined;
    await this.#touch(row.id, now);
    return { id: row.id, name: row.name, roles: row.roles.filter(isRole), kind: 'token' };
  }

  async list(): Promise<ApiTokenInfo[]> {
    const rows = await this.#run(() => this.#db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt), asc(apiTokens.id)));
    return rows.map(info);
  }

  async get(id: string): Promise<ApiTokenInfo | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.#run(() => this.#db.select().from(apiTokens).where(eq(apiTokens.id, id)));
    return row === undefined ? undefined : info(row);
  }

  /** Revokes a token (at once, for every process); a second revoke keeps the first time. Undefined if unknown. */
  async revoke(id: string): Promise<ApiTokenInfo | undefined> {
    if (!UUID.test(id)) return undefined;
    await this.#run(() =>
      this.#db
        .update(apiTokens)
        .set({ revokedAt: this.#now() })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))),
    );
    return this.get(id);
  }

  async #touch(id: string, now: Date): Promise<void> {
    const last = this.#lastTouched.get(id);
    if (last !== undefined && now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    this.#lastTouched.set(id, now.getTime());
    // The condition keeps other processes (controller, CLI) to the same one write a minute.
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    await this.#run(() =>
      this.#db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, staleBefore)))),
    );
  }

  async #run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }
}

function info(row: Row): ApiTokenInfo {
  return {
    id: row.id,
    name: row.name,
    roles: row.roles.filter(isRole),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}
