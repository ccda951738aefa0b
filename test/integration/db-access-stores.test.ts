// API tokens and the hash-chained audit log on both drivers, against the real migrations (the append-only
// trigger included).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { DrizzleAuditStore, DrizzleTokenStore, hashToken, GENESIS_HASH, type Database } from '../../src/db/index.ts';
import { driverFixtures } from './db-fixture.ts';

const DAY = 86_400_000;

describe.each(driverFixtures())('access stores on $kind', (fixture) => {
  let database: Database;
  beforeAll(async () => {
    database = await fixture.setup();
  });
  afterAll(async () => {
    await fixture.teardown();
  });

  describe('API tokens', () => {
    let now: Date;
    let tokens: DrizzleTokenStore;
    beforeEach(() => {
      now = new Date('2026-11-01T10:00:00Z');
      tokens = new DrizzleTokenStore({ db: database.db, now: () => now });
    });

    it('shows the secret once and keeps only its SHA-256', async () => {
      const { token, secret } = await tokens.create({ name: 'front desk', roles: ['agent'], expiresAt: new Date(now.getTime() + 90 * DAY) });
      expect(secret).toMatch(/^cbt_[A-Za-z0-9_-]{43}$/);
      const stored = await database.db.execute(sql`select token_hash from api_tokens where id = ${token.id}`);
      const rows = (stored as unknown as { rows: { token_hash: string }[] }).rows;
      expect(rows[0]?.token_hash).toBe(hashToken(secret));
      expect(JSON.stringify(await tokens.list())).not.toContain(secret);
      expect(await tokens.authenticate(secret)).toEqual({ id: token.id, name: 'front desk', roles: ['agent'], kind: 'token' });
    });

    it('refuses unknown, malformed, expired and revoked secrets', async () => {
      const { token, secret } = await tokens.create({ name: 'short', roles: ['service'], expiresAt: new Date(now.getTime() + DAY) });
      expect(await tokens.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
      expect(await tokens.authenticate('not-a-token')).toBeUndefined();
      expect(await tokens.authenticate(secret)).toBeDefined();
      now = new Date(now.getTime() + DAY);
      expect(await tokens.authenticate(secret)).toBeUndefined();

      now = new Date('2026-11-01T10:00:00Z');
      const other = await tokens.create({ name: 'revoked', roles: ['manager'], expiresAt: new Date(now.getTime() + DAY) });
      expect((await tokens.revoke(other.token.id))?.revokedAt).toEqual(now);
      expect(await tokens.authenticate(other.secret)).toBeUndefined();
      expect(await tokens.revoke('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect((await tokens.get(token.id))?.revokedAt).toBeNull();
    });

    it('updates lastUsedAt at most once a minute', async () => {
      const { token, secret } = await tokens.create({ name: 'busy', roles: ['service'], expiresAt: new Date(now.getTime() + DAY) });
      const first = new Date(now);
      await tokens.authenticate(secret);
      now = new Date(now.getTime() + 30_000);
      await tokens.authenticate(secret);
      // Another process (no in-memory memo) is held back by the stored time as well.
      await new DrizzleTokenStore({ db: database.db, now: () => now }).authenticate(secret);
      expect((await tokens.get(token.id))?.lastUsedAt).toEqual(first);
      now = new Date(now.getTime() + 31_000);
      await tokens.authenticate(secret);
      expect((await tokens.get(token.id))?.lastUsedAt).toEqual(now);
    });

    it('the database refuses a role it does not know', async () => {
      await expect(tokens.create({ name: 'x', roles: ['root' as 'admin'], expiresAt: new Date(now.getTime() + DAY) })).rejects.toThrow();
    });
  });

  describe('audit log', () => {
    let audit: DrizzleAuditStore;
    beforeAll(async () => {
      audit = new DrizzleAuditStore({ db: database.db });
      for (let i = 0; i < 5; i++) {
        await audit.append({
          at: new Date(Date.UTC(2026, 10, 1, 10, 0, i, 123)),
          actor: 'alice',
          action: i % 2 === 0 ? 'token.create' : 'recording.play',
          targetType: 'recording',
          targetId: `r${i}`,
          reason: i === 1 ? 'billing dispute' : null,
          details: { z: 1, a: { y: [1, 'two', null], b: true }, when: new Date(Date.UTC(2026, 0, 1)), dropped: undefined },
        });
      }
    });

    it('chains from the genesis hash and verifies', async () => {
      const [newest] = await audit.list({ limit: 1 });
      expect(newest?.seq).toBe(5);
      const oldest = (await audit.list({ limit: 10 })).at(-1);
      expect(oldest?.prevHash).toBe(GENESIS_HASH);
      expect(oldest?.details).toEqual({ z: 1, a: { y: [1, 'two', null], b: true }, when: '2026-01-01T00:00:00.000Z' });
      expect(await audit.verify()).toEqual({ ok: true, checked: 5, head: { seq: 5, hash: newest?.hash } });
    });

    it('lists newest first, by action, since a time, a page before a seq', async () => {
      expect((await audit.list({ limit: 10, action: 'recording.play' })).map((e) => e.seq)).toEqual([4, 2]);
      expect((await audit.list({ limit: 10, since: new Date(Date.UTC(2026, 10, 1, 10, 0, 3)) })).map((e) => e.seq)).toEqual([5, 4]);
      expect((await audit.list({ limit: 2, beforeSeq: 4 })).map((e) => e.seq)).toEqual([3, 2]);
    });

    it('the database refuses UPDATE and DELETE', async () => {
      await expect(database.db.execute(sql`update audit_log set actor = 'mallory' where seq = 2`)).rejects.toThrow();
      await expect(database.db.execute(sql`delete from audit_log where seq = 2`)).rejects.toThrow();
      expect((await audit.verify()).ok).toBe(true);
    });

    it('20 appends at once still form one valid chain', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => audit.append({ at: new Date(), actor: `writer-${i}`, action: 'http.request', targetType: 'http', details: { i } })),
      );
      const entries = await audit.list({ limit: 100 });
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
      expect(await audit.verify()).toMatchObject({ ok: true, checked: 25 });
    });

    describe('with the append-only trigger disabled (a tamperer with table rights)', () => {
      beforeAll(async () => {
        await database.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_or_delete`);
      });

      it('an edited field is reported at its seq', async () => {
        await database.db.execute(sql`update audit_log set reason = 'routine check' where seq = 2`);
        expect(await audit.verify()).toMatchObject({ ok: false, checked: 1, firstBadSeq: 2, problem: 'altered' });
        await database.db.execute(sql`update audit_log set reason = 'billing dispute' where seq = 2`);
        expect((await audit.verify()).ok).toBe(true);
      });

      it('an edited detail (even reordering keys would not hide it) is reported', async () => {
        await database.db.execute(sql`update audit_log set details = jsonb_set(details, '{z}', '2') where seq = 3`);
        expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'altered' });
        await database.db.execute(sql`update audit_log set details = jsonb_set(details, '{z}', '1') where seq = 3`);
        expect((await audit.verify()).ok).toBe(true);
      });

      it('two entries swapped (seq exchanged) are reported at the first', async () => {
        await database.db.execute(sql`update audit_log set seq = -seq where seq in (3, 4)`);
        await database.db.execute(sql`update audit_log set seq = case when seq = -3 then 4 else 3 end where seq in (-3, -4)`);
        expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
        await database.db.execute(sql`update audit_log set seq = -seq where seq in (3, 4)`);
        await database.db.execute(sql`update audit_log set seq = case when seq = -3 then 4 else 3 end where seq in (-3, -4)`);
        expect((await audit.verify()).ok).toBe(true);
      });

      it('a removed entry is reported as missing at its seq', async () => {
        await database.db.execute(sql`delete from audit_log where seq = 7`);
        const result = await audit.verify();
        expect(result).toMatchObject({ ok: false, checked: 6, firstBadSeq: 7, problem: 'missing' });
        expect(result.message).toContain('7');
      });

      it('a removed entry replaced by a re-hashed forgery is reported at its seq', async () => {
        const [eight] = await audit.list({ limit: 1, beforeSeq: 9 });
        // Re-insert 7 "properly" chained to 6 but with other content: 8 still names the original 7's hash.
        const [six] = await audit.list({ limit: 1, beforeSeq: 7 });
        const { entryHash } = await import('../../src/db/audit-store.ts');
        const forged = { seq: 7, at: new Date(), actor: 'mallory', action: 'http.request', targetType: 'http', targetId: null, reason: null, details: {} };
        const hash = entryHash(six!.hash, forged);
        await database.db.execute(
          sql`insert into audit_log (seq, at, actor, action, target_type, details, prev_hash, hash) values (7, ${forged.at.toISOString()}, 'mallory', 'http.request', 'http', '{}'::jsonb, ${six!.hash}, ${hash})`,
        );
        expect(eight?.seq).toBe(8);
        expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 7, problem: 'broken_link' });
      });
    });
  });
});
