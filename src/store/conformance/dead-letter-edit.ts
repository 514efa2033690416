import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/errors.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

/** `dlq edit`: the body is replaced, the original and every edit are kept, the edit is audited. */
export function describeDeadLetterEdit(ctx: StoreContext): void {
  describe('deadLetterEdit', () => {
    it('returns an unedited dead letter with no original body and no edits', async () => {
      await createQueues(ctx.store, 'orders');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const letter = await ctx.store.deadLetterGet({ id });
      expect({ originalBody: letter?.originalBody, edits: letter?.edits }).toEqual({
        originalBody: null,
        edits: [],
      });
    });

    it('keeps the body it died with on the first edit and appends every edit', async () => {
      await createQueues(ctx.store, 'orders');
      const original = { order: 7, customer: { country: 'DE', note: 'ünï\u0000' } };
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, body: original });

      const first = { order: 7, customer: { country: 'AT', note: 'ünï\u0000' } };
      const edited = await ctx.store.deadLetterEdit({ id, body: first, actor: 'ada', now: T0 + 100 });
      expect(edited.body).toEqual(first);
      expect(edited.originalBody).toEqual(original);
      expect(edited.edits).toEqual([{ at: T0 + 100, actor: 'ada', body: first }]);

      const second = [1, 'two', null, { three: 3.5 }];
      await ctx.store.deadLetterEdit({ id, body: second, actor: 'bob', now: T0 + 200 });
      const stored = await ctx.store.deadLetterGet({ id });
      expect(stored?.body).toEqual(second);
      expect(stored?.originalBody).toEqual(original);
      expect(stored?.edits).toEqual([
        { at: T0 + 100, actor: 'ada', body: first },
        { at: T0 + 200, actor: 'bob', body: second },
      ]);
      // Everything else is the dead letter as it died.
      expect(stored?.diedAt).toBe(T0 + 10);
      expect(stored?.attempts).toHaveLength(1);
      expect((await ctx.store.deadLetterList({ limit: 10 })).map((l) => l.id)).toEqual([id]);
    });

    it('audits each edit with the queue, its number and the paths that changed', async () => {
      await createQueues(ctx.store, 'orders');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, body: { a: 1, b: { c: 2 } } });
      await ctx.store.deadLetterEdit({
        id,
        body: { a: 1, b: { c: 3 }, d: true },
        actor: 'ada',
        now: T0 + 100,
      });
      const [entry] = await ctx.store.auditList({ action: 'dead_letter.edit', limit: 10 });
      expect(entry).toMatchObject({
        at: T0 + 100,
        actor: 'ada',
        targetType: 'dead_letter',
        targetId: id,
        details: { queue: 'orders', edit: 1, changed: 2, paths: ['b.c', 'd'] },
      });
    });

    it('throws NotFoundError for an id not in the DLQ and writes nothing', async () => {
      await createQueues(ctx.store, 'orders');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      await ctx.store.deadLetterDiscard({ ids: [id], reason: 'r', actor: 'ada', now: T0 + 20 });
      for (const missing of [id, 'never-existed']) {
        await expect(
          ctx.store.deadLetterEdit({ id: missing, body: {}, actor: 'ada', now: T0 + 30 }),
        ).rejects.toBeInstanceOf(NotFoundError);
      }
      expect(await ctx.store.auditList({ action: 'dead_letter.edit', limit: 10 })).toEqual([]);
    });
  });
}
