import { describe, expect, it } from 'vitest';
import type { ApiToken } from '../../core/api-token.ts';
import { type StoreContext, T0 } from './fixtures.ts';

function token(name: string, overrides: Partial<ApiToken> = {}): ApiToken {
  return {
    id: `tok-${name}`,
    name,
    role: 'viewer',
    hash: `${name.padEnd(8, '0')}${'ab'.repeat(28)}`,
    createdAt: T0,
    createdBy: 'ada',
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

/** The HTTP API's bearer tokens: stored by hash, one active token per name, audited changes. */
export function describeApiTokens(ctx: StoreContext): void {
  describe('api tokens', () => {
    it('creates tokens, finds them by hash and lists them oldest first', async () => {
      const ci = token('ci', { role: 'operator', createdAt: T0 + 5 });
      const admin = token('admin', { role: 'admin' });
      expect(await ctx.store.tokenCreate({ token: ci, actor: 'ada' })).toEqual(ci);
      await ctx.store.tokenCreate({ token: admin, actor: 'dlq serve' });
      expect(await ctx.store.tokenFindByHash({ hash: ci.hash })).toEqual(ci);
      expect(await ctx.store.tokenFindByHash({ hash: 'f'.repeat(64) })).toBeUndefined();
      expect(await ctx.store.tokenList()).toEqual([admin, ci]);
    });

    it('refuses a second active token with the same name, and changes nothing', async () => {
      await ctx.store.tokenCreate({ token: token('ci'), actor: 'ada' });
      await expect(
        ctx.store.tokenCreate({
          token: token('ci', { id: 'tok-other', hash: 'c'.repeat(64) }),
          actor: 'ada',
        }),
      ).rejects.toMatchObject({ code: 'conflict' });
      expect((await ctx.store.tokenList()).map((t) => t.id)).toEqual(['tok-ci']);
      expect(await ctx.store.tokenFindByHash({ hash: 'c'.repeat(64) })).toBeUndefined();
      expect((await ctx.store.auditList({ limit: 10 })).map((e) => e.action)).toEqual(['token.create']);
    });

    it('revokes by name: the token stays, revoked, and its name can be used again', async () => {
      await ctx.store.tokenCreate({ token: token('ci'), actor: 'ada' });
      const revoked = await ctx.store.tokenRevoke({ name: 'ci', now: T0 + 100, actor: 'bob' });
      expect(revoked).toMatchObject({ id: 'tok-ci', revokedAt: T0 + 100 });
      expect(await ctx.store.tokenFindByHash({ hash: token('ci').hash })).toMatchObject({
        revokedAt: T0 + 100,
      });
      await expect(ctx.store.tokenRevoke({ name: 'ci', now: T0 + 200, actor: 'bob' })).rejects.toMatchObject({
        code: 'not_found',
      });
      await expect(ctx.store.tokenRevoke({ name: 'nobody', now: T0, actor: 'bob' })).rejects.toMatchObject({
        code: 'not_found',
      });
      const again = token('ci', { id: 'tok-ci-2', hash: 'd'.repeat(64), createdAt: T0 + 300 });
      await ctx.store.tokenCreate({ token: again, actor: 'bob' });
      expect((await ctx.store.tokenList()).map((t) => [t.id, t.revokedAt])).toEqual([
        ['tok-ci', T0 + 100],
        ['tok-ci-2', null],
      ]);
    });

    it('records creation and revocation in the audit log, by actor, without the hash', async () => {
      await ctx.store.tokenCreate({ token: token('ci', { role: 'operator' }), actor: 'ada' });
      await ctx.store.tokenRevoke({ name: 'ci', now: T0 + 10, actor: 'bob' });
      const entries = await ctx.store.auditList({ limit: 10 });
      expect(entries.map(({ id: _id, ...e }) => e)).toEqual([
        {
          at: T0 + 10,
          actor: 'bob',
          action: 'token.revoke',
          targetType: 'api_token',
          targetId: 'ci',
          details: { id: 'tok-ci', role: 'operator' },
        },
        {
          at: T0,
          actor: 'ada',
          action: 'token.create',
          targetType: 'api_token',
          targetId: 'ci',
          details: { id: 'tok-ci', role: 'operator' },
        },
      ]);
      expect(JSON.stringify(entries)).not.toContain(token('ci').hash);
    });

    it('touch records the last use and never moves it back', async () => {
      await ctx.store.tokenCreate({ token: token('ci'), actor: 'ada' });
      await ctx.store.tokenTouch({ id: 'tok-ci', now: T0 + 60_000 });
      await ctx.store.tokenTouch({ id: 'tok-ci', now: T0 + 30_000 });
      await ctx.store.tokenTouch({ id: 'tok-missing', now: T0 });
      expect((await ctx.store.tokenList())[0]?.lastUsedAt).toBe(T0 + 60_000);
    });
  });
}
