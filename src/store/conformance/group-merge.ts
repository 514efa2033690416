import { describe, expect, it } from 'vitest';
import { archiveDay, toArchiveRecord } from '../../core/archive-record.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts';
import type { GroupRule } from '../../core/group-rule.ts';
import {
  attemptOf,
  claim,
  createQueues,
  deathRecord,
  killOne,
  type StoreContext,
  send,
  T0,
} from './fixtures.ts';

/** Group merge (aliases included) and stored fingerprint rules. */
export function describeGroupMerge(ctx: StoreContext): void {
  describe('group merge', () => {
    /**
     * gA: 2 deaths in orders (T0+100, T0+300). gB: 1 in emails (T0+50), 1 in orders (T0+400).
     * gC: 1 in emails (T0+500), acknowledged.
     */
    async function seed(): Promise<Record<string, string[]>> {
      await createQueues(ctx.store, 'orders', 'emails');
      const ids: Record<string, string[]> = { gA: [], gB: [], gC: [] };
      ids.gA?.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'gA' }));
      ids.gA?.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 300, groupId: 'gA' }));
      ids.gB?.push(await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 50, groupId: 'gB' }));
      ids.gB?.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 400, groupId: 'gB' }));
      ids.gC?.push(await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 500, groupId: 'gC' }));
      await ctx.store.groupStatusSet({ id: 'gC', status: 'acknowledged', now: T0 + 600 });
      return ids;
    }

    const listIds = async (groupId: string) =>
      (await ctx.store.deadLetterList({ groupId, limit: 100 })).map((d) => d.id).sort();

    it('moves the dead letters and sums counts, times, queues and the sample into the target', async () => {
      const ids = await seed();
      const gB = await ctx.store.groupGet({ id: 'gB' });
      const result = await ctx.store.groupMerge({
        target: 'gC',
        sources: ['gA', 'gB'],
        actor: 'alice',
        now: T0 + 1000,
      });
      expect(result.moved).toBe(4);
      expect(result.repointed).toBe(0);
      expect(result.dryRun).toBe(false);
      expect(result.merged.map((m) => [m.id, m.targetId, m.count, m.mergedBy])).toEqual([
        ['gA', 'gC', 2, 'alice'],
        ['gB', 'gC', 2, 'alice'],
      ]);
      expect(result.target).toMatchObject({
        id: 'gC',
        count: 5,
        deadCount: 5,
        firstSeen: T0 + 50,
        lastSeen: T0 + 500,
        queues: ['emails', 'orders'],
        status: 'acknowledged',
        sampleId: gB?.sampleId,
      });
      expect(await ctx.store.groupGet({ id: 'gC' })).toEqual(result.target);
      expect(await ctx.store.groupGet({ id: 'gA' })).toBeUndefined();
      expect(await ctx.store.groupGet({ id: 'gB' })).toBeUndefined();
      expect((await ctx.store.groupList({ sort: 'count', limit: 10 })).map((g) => g.id)).toEqual(['gC']);
      expect(
        (await ctx.store.groupList({ sort: 'count', limit: 10, queue: 'orders' })).map((g) => g.id),
      ).toEqual(['gC']);
      expect(await listIds('gC')).toEqual([...(ids.gA ?? []), ...(ids.gB ?? []), ...(ids.gC ?? [])].sort());
      expect(await listIds('gA')).toEqual([]);
      expect(await ctx.store.deadLetterCountBy({ by: 'group' })).toEqual([{ key: 'gC', count: 5 }]);
      const [entry] = await ctx.store.auditList({ action: 'group.merge', limit: 10 });
      expect(entry).toMatchObject({
        actor: 'alice',
        targetType: 'group',
        targetId: 'gC',
        details: { sources: ['gA', 'gB'], moved: 4, repointed: 0 },
      });
      expect((await ctx.store.groupListMerged({ target: 'gC' })).map((m) => m.id)).toEqual(['gA', 'gB']);
      expect(await ctx.store.groupAliasGet({ id: 'gA' })).toMatchObject({ id: 'gA', targetId: 'gC' });
      expect(await ctx.store.groupAliasGet({ id: 'gC' })).toBeUndefined();
    });

    it('sends later deaths that compute a merged group id to the target', async () => {
      await seed();
      await ctx.store.groupMerge({ target: 'gC', sources: ['gA'], actor: 'alice', now: T0 + 1000 });
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2000, groupId: 'gA' });
      expect((await ctx.store.deadLetterGet({ id }))?.groupId).toBe('gC');
      expect(await ctx.store.groupGet({ id: 'gA' })).toBeUndefined();
      expect(await ctx.store.groupGet({ id: 'gC' })).toMatchObject({
        count: 4,
        deadCount: 4,
        lastSeen: T0 + 2000,
        queues: ['emails', 'orders'],
      });
    });

    it('follows a chain: A into B, then B into C sends A to C', async () => {
      await seed();
      await ctx.store.groupMerge({ target: 'gB', sources: ['gA'], actor: 'alice', now: T0 + 1000 });
      const second = await ctx.store.groupMerge({
        target: 'gC',
        sources: ['gB'],
        actor: 'bob',
        now: T0 + 2000,
      });
      expect(second.moved).toBe(4);
      expect(second.repointed).toBe(1);
      expect(await ctx.store.groupAliasGet({ id: 'gA' })).toMatchObject({ targetId: 'gC' });
      expect((await ctx.store.groupListMerged({ target: 'gC' })).map((m) => m.id).sort()).toEqual([
        'gA',
        'gB',
      ]);
      expect(await ctx.store.groupListMerged({ target: 'gB' })).toEqual([]);
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 3000, groupId: 'gA' });
      expect((await ctx.store.deadLetterGet({ id }))?.groupId).toBe('gC');
      expect(await ctx.store.groupGet({ id: 'gC' })).toMatchObject({ count: 6, deadCount: 6 });
    });

    it('refuses bad merges with clear errors and changes nothing', async () => {
      await seed();
      const before = await ctx.store.groupList({ sort: 'count', limit: 10 });
      const merge = (target: string, sources: string[]) =>
        ctx.store.groupMerge({ target, sources, actor: 'alice', now: T0 + 1000 });
      await expect(merge('gA', ['gA'])).rejects.toThrow(ValidationError);
      await expect(merge('gA', [])).rejects.toThrow(ValidationError);
      await expect(merge('nope', ['gA'])).rejects.toThrow(NotFoundError);
      await expect(merge('gA', ['gB', 'nope'])).rejects.toThrow(NotFoundError);
      expect(await ctx.store.groupList({ sort: 'count', limit: 10 })).toEqual(before);
      await merge('gB', ['gA']);
      await expect(merge('gC', ['gA'])).rejects.toThrow(ConflictError);
      await expect(merge('gC', ['gA'])).rejects.toThrow(/already merged into "gB"/);
      await expect(merge('gA', ['gC'])).rejects.toThrow(/merged into "gB": merge into "gB"/);
      expect(await ctx.store.auditList({ action: 'group.merge', limit: 10 })).toHaveLength(1);
    });

    it('changes nothing on a dry run, and reports what it would do', async () => {
      await seed();
      const before = await ctx.store.groupList({ sort: 'count', limit: 10 });
      const result = await ctx.store.groupMerge({
        target: 'gC',
        sources: ['gA', 'gB', 'gA'],
        actor: 'alice',
        now: T0 + 1000,
        dryRun: true,
      });
      expect(result).toMatchObject({ moved: 4, dryRun: true, target: { id: 'gC', count: 5 } });
      expect(result.merged.map((m) => m.id)).toEqual(['gA', 'gB']);
      expect(await ctx.store.groupList({ sort: 'count', limit: 10 })).toEqual(before);
      expect(await ctx.store.groupAliasGet({ id: 'gA' })).toBeUndefined();
      expect(await ctx.store.auditList({ action: 'group.merge', limit: 10 })).toEqual([]);
    });

    it('leaves no death in a source when deaths race the merge', async () => {
      const queues = ['q0', 'q1', 'q2', 'q3'];
      await createQueues(ctx.store, 'orders', ...queues);
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, groupId: 'gA' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20, groupId: 'gB' });
      const batches = [];
      for (const queue of queues) {
        await send(ctx.store, queue, 25, T0 + 30);
        batches.push(await claim(ctx.store, queue, T0 + 40, 25));
      }
      // Each queue's deaths go in five calls, all at once, with the merge among them.
      const fails = batches.flatMap((claimed) =>
        [0, 5, 10, 15, 20].map((start) =>
          ctx.store.messageFail({
            items: claimed.slice(start, start + 5).map((c) => {
              const death = deathRecord('gA');
              return {
                id: c.id,
                leaseToken: c.leaseToken,
                attempt: attemptOf(c, T0 + 50, death.error),
                outcome: 'dead' as const,
                death,
              };
            }),
            now: T0 + 60,
          }),
        ),
      );
      const merge = ctx.store.groupMerge({ target: 'gB', sources: ['gA'], actor: 'alice', now: T0 + 60 });
      const results = await Promise.all([...fails, merge]);
      expect(results.slice(0, -1).reduce((n, r) => n + ('applied' in r ? r.applied : 0), 0)).toBe(100);
      expect(await ctx.store.groupGet({ id: 'gA' })).toBeUndefined();
      expect(await ctx.store.deadLetterList({ groupId: 'gA', limit: 10 })).toEqual([]);
      expect(await ctx.store.groupGet({ id: 'gB' })).toMatchObject({ count: 102, deadCount: 102 });
      expect((await ctx.store.deadLetterList({ groupId: 'gB', limit: 1000 })).length).toBe(102);
    });

    it('runs beside replay batches of the groups it merges: both finish, nothing counted twice', async () => {
      await createQueues(ctx.store, 'orders');
      for (let round = 0; round < 3; round++) {
        const [source, target] = [`src-${round}`, `dst-${round}`];
        const ids: string[] = [];
        for (let i = 0; i < 30; i++) {
          ids.push(
            await killOne(ctx.store, { queue: 'orders', diedAt: T0 + round * 1000 + i, groupId: source }),
          );
        }
        await killOne(ctx.store, { queue: 'orders', diedAt: T0 + round * 1000 + 500, groupId: target });
        const job = await ctx.store.replayJobCreate({
          id: `job-${round}`,
          selector: { groupId: source },
          settings: {
            destination: null,
            ratePerSecond: null,
            batchSize: 5,
            canarySize: 0,
            canaryMaxFailureRate: 0.2,
          },
          planned: ids.length,
          actor: 'ada',
          now: T0 + 10_000,
          holder: { holder: 'runner', leaseMs: 60_000 },
        });
        const batches = [0, 5, 10, 15, 20, 25].map((start) =>
          ctx.store.deadLetterReplayBatch({
            jobId: job.id,
            holder: 'runner',
            items: ids.slice(start, start + 5).map((id) => ({ id, messageId: `${id}-again` })),
            destination: null,
            position: { diedAt: T0, id: '' },
            canary: false,
            actor: 'ada',
            now: T0 + 10_001,
          }),
        );
        const merge = ctx.store.groupMerge({ target, sources: [source], actor: 'alice', now: T0 + 10_001 });
        const [merged, ...replayed] = await Promise.all([merge, ...batches]);
        const replayedCount = replayed.reduce((n, r) => n + r.replayed.length, 0);
        expect(replayedCount).toBe(30);
        expect(merged.moved).toBeLessThanOrEqual(30);
        expect(await ctx.store.groupGet({ id: source })).toBeUndefined();
        expect(await ctx.store.groupGet({ id: target })).toMatchObject({ count: 31, deadCount: 1 });
      }
    });

    it('imports an archived dead letter of a merged group into the group it was merged into', async () => {
      await createQueues(ctx.store, 'orders');
      const archived = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'gA' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 200_000, groupId: 'gB' });
      const expired = await ctx.store.deadLetterListExpired({
        queue: 'orders',
        state: 'dead',
        before: T0 + 1_000,
        limit: 10,
      });
      expect(expired.map((l) => l.id)).toEqual([archived]);
      const day = archiveDay(T0 + 100);
      await ctx.store.deadLetterArchive({
        queue: 'orders',
        day,
        file: `orders/${day}.jsonl.gz`,
        archiveId: 'archive-1',
        letters: expired.map((l) => ({ id: l.id, state: l.state, edits: l.edits.length })),
        actor: 'system',
        now: T0 + 300_000,
      });
      await ctx.store.groupMerge({ target: 'gB', sources: ['gA'], actor: 'alice', now: T0 + 400_000 });
      expect(await ctx.store.groupGet({ id: 'gB' })).toMatchObject({ count: 2, deadCount: 1 });
      const records = expired.map((l) =>
        toArchiveRecord(l, { archiveId: 'archive-1', archivedAt: T0 + 300_000 }),
      );
      const result = await ctx.store.deadLetterImport({
        file: `orders/${day}.jsonl.gz`,
        records,
        actor: 'alice',
        now: T0 + 500_000,
      });
      expect(result).toMatchObject({ restored: 1, added: 0 });
      expect((await ctx.store.deadLetterGet({ id: archived }))?.groupId).toBe('gB');
      expect(await ctx.store.groupGet({ id: 'gA' })).toBeUndefined();
      expect(await ctx.store.groupGet({ id: 'gB' })).toMatchObject({ count: 2, deadCount: 2 });
    });

    it('keeps the counts of later discards right in the merged group', async () => {
      const ids = await seed();
      await ctx.store.groupMerge({ target: 'gC', sources: ['gA'], actor: 'alice', now: T0 + 1000 });
      await ctx.store.deadLetterDiscard({
        ids: ids.gA ?? [],
        reason: 'noise',
        actor: 'alice',
        now: T0 + 2000,
      });
      expect(await ctx.store.groupGet({ id: 'gC' })).toMatchObject({ count: 3, deadCount: 1 });
    });
  });

  describe('group rules', () => {
    const rule = (overrides: Partial<GroupRule> = {}): GroupRule => ({
      id: 'rule-1',
      name: 'card-declined',
      queue: null,
      match: { name: 'StripeCardError', message: { regex: 'declined', flags: 'i' } },
      fingerprint: 'stripe-card-declined',
      createdAt: T0,
      createdBy: 'alice',
      ...overrides,
    });

    it('stores, lists (oldest first) and removes rules, audited', async () => {
      await createQueues(ctx.store, 'orders');
      const first = rule();
      const second = rule({
        id: 'rule-2',
        name: 'timeouts',
        queue: 'orders',
        match: { code: ['ETIMEDOUT', 'ESOCKETTIMEDOUT'], status: { min: 500, max: 599 } },
        fingerprint: 'upstream-timeouts',
        createdAt: T0 + 10,
      });
      expect(await ctx.store.groupRuleCreate({ rule: second, actor: 'alice' })).toEqual(second);
      await ctx.store.groupRuleCreate({ rule: first, actor: 'alice' });
      expect(await ctx.store.groupRuleList()).toEqual([first, second]);
      await expect(
        ctx.store.groupRuleCreate({ rule: rule({ id: 'rule-3' }), actor: 'alice' }),
      ).rejects.toThrow(ConflictError);
      expect(await ctx.store.groupRuleRemove({ id: 'rule-1', actor: 'bob', now: T0 + 20 })).toEqual(first);
      expect(await ctx.store.groupRuleList()).toEqual([second]);
      await expect(ctx.store.groupRuleRemove({ id: 'rule-1', actor: 'bob', now: T0 + 30 })).rejects.toThrow(
        NotFoundError,
      );
      const actions = (await ctx.store.auditList({ limit: 10 }))
        .filter((e) => e.action.startsWith('group_rule.'))
        .map((e) => [e.action, e.actor, e.targetId]);
      expect(actions).toEqual([
        ['group_rule.remove', 'bob', 'rule-1'],
        ['group_rule.create', 'alice', 'rule-1'],
        ['group_rule.create', 'alice', 'rule-2'],
      ]);
    });
  });
}
