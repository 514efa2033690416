import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ConflictError, NotFoundError, PermanentError, ValidationError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { tempDir } from '../support/temp-dir.ts';

let tmp: ReturnType<typeof tempDir>;
let dl: Deadletter;
let clock: ManualClock;

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'dl.db')}`, clock, maintenance: false });
  await dl.createQueue('payments', { maxReceives: 1 });
  await dl.createQueue('emails', { maxReceives: 1 });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

const groupIdOf = (fingerprint: string) =>
  createHash('sha256').update(fingerprint, 'utf8').digest('hex').slice(0, 16);

/** Sends one message per error message to `queue` and lets a worker dead-letter them all. */
async function fail(queue: string, messages: string[], handle: Deadletter = dl): Promise<string[]> {
  const ids = [];
  for (const message of messages) ids.push((await handle.send(queue, { message })).id);
  const worker = await handle.work<{ message: string }>(
    queue,
    (m) => {
      throw new PermanentError(m.body.message);
    },
    { drain: true },
  );
  await worker.stopped;
  return ids;
}

async function groupOf(id: string, handle: Deadletter = dl): Promise<string> {
  return (await handle.getDeadLetter(id)).groupId;
}

describe('group merge through the handle', () => {
  it('merges, sends later failures of a merged group to the target, and lists what was merged', async () => {
    const [a] = await fail('payments', ['card declined by issuer']);
    const [b] = await fail('payments', ['card expired']);
    const source = await groupOf(a as string);
    const target = await groupOf(b as string);
    expect(source).not.toBe(target);

    const dry = await dl.mergeGroups(target, [source], { actor: 'alice', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, moved: 1, target: { id: target, count: 2 } });
    expect((await dl.listGroups()).map((g) => g.id).sort()).toEqual([source, target].sort());

    const result = await dl.mergeGroups(target, [source], { actor: 'alice' });
    expect(result).toMatchObject({ moved: 1, target: { count: 2, deadCount: 2 } });
    expect((await dl.listGroups()).map((g) => g.id)).toEqual([target]);
    await expect(dl.getGroup(source)).rejects.toThrow(`group "${source}" was merged into "${target}"`);
    expect((await dl.listMergedGroups(target)).map((m) => m.id)).toEqual([source]);

    const [later] = await fail('payments', ['card declined by issuer']);
    expect(await groupOf(later as string)).toBe(target);
    const page = await dl.listDeadLetters({ groupId: target });
    expect(page.items).toHaveLength(3);
    // Listing the merged group says where its dead letters went, rather than nothing.
    await expect(dl.listDeadLetters({ groupId: source })).rejects.toThrow(
      `group "${source}" was merged into "${target}"`,
    );
    await expect(dl.listDeadLetters({ groupId: 'never-was' })).resolves.toMatchObject({ items: [] });
    const [entry] = (await dl.listAudit({ action: 'group.merge' })).items;
    expect(entry).toMatchObject({
      actor: 'alice',
      targetId: target,
      details: { sources: [source], moved: 1 },
    });
  });

  it('refuses merging a group into itself, an unknown group and a merged one', async () => {
    const [a] = await fail('payments', ['card declined by issuer']);
    const [b] = await fail('payments', ['card expired']);
    const ga = await groupOf(a as string);
    const gb = await groupOf(b as string);
    await expect(dl.mergeGroups(ga, [ga])).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.mergeGroups('0000000000000000', [ga])).rejects.toBeInstanceOf(NotFoundError);
    await dl.mergeGroups(gb, [ga]);
    await expect(dl.mergeGroups(gb, [ga])).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('stored group rules', () => {
  it('puts the failures that match a stored rule in its group, after the code rules', async () => {
    const rule = await dl.addGroupRule(
      {
        name: 'card-problems',
        queue: 'payments',
        match: { name: 'PermanentError', message: { regex: '^card ', flags: 'i' } },
        fingerprint: 'card-problems',
      },
      { actor: 'alice' },
    );
    expect(rule).toMatchObject({ name: 'card-problems', queue: 'payments', createdBy: 'alice' });
    const ids = await fail('payments', ['card declined by issuer', 'Card expired', 'bank offline']);
    const groups = await Promise.all(ids.map((id) => groupOf(id)));
    expect(groups[0]).toBe(groupIdOf('card-problems'));
    expect(groups[1]).toBe(groupIdOf('card-problems'));
    expect(groups[2]).not.toBe(groupIdOf('card-problems'));
    // The rule is for payments only.
    const [email] = await fail('emails', ['card declined by issuer']);
    expect(await groupOf(email as string)).not.toBe(groupIdOf('card-problems'));
    expect((await dl.listAudit({ action: 'group_rule.create' })).items).toHaveLength(1);

    await dl.removeGroupRule('card-problems', { actor: 'alice' });
    expect(await dl.listGroupRules()).toEqual([]);
    const [after] = await fail('payments', ['card declined by issuer']);
    expect(await groupOf(after as string)).not.toBe(groupIdOf('card-problems'));
  });

  it('reaches the workers of another process without a restart', async () => {
    const other = await Deadletter.open({
      store: `sqlite:${join(tmp.dir, 'dl.db')}`,
      clock,
      maintenance: false,
      groupRuleRefresh: 50,
    });
    try {
      // The other process's worker has loaded the (empty) rules before the rule exists.
      const [before] = await fail('payments', ['card declined by issuer'], other);
      expect(await groupOf(before as string, other)).not.toBe(groupIdOf('card-problems'));
      await dl.addGroupRule({
        name: 'card-problems',
        match: { message: 'card' },
        fingerprint: 'card-problems',
      });
      let group = '';
      for (let i = 0; i < 100 && group !== groupIdOf('card-problems'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const [id] = await fail('payments', ['card declined by issuer'], other);
        group = await groupOf(id as string, other);
      }
      expect(group).toBe(groupIdOf('card-problems'));
    } finally {
      await other.close();
    }
  });

  it('rejects bad rules with clear errors', async () => {
    const add = (input: Partial<Parameters<Deadletter['addGroupRule']>[0]>) =>
      dl.addGroupRule({ name: 'r', match: { message: 'x' }, fingerprint: 'fp', ...input });
    await expect(add({ match: { message: { regex: '(' } } })).rejects.toThrow(/invalid message regex/);
    await expect(add({ match: {} })).rejects.toThrow(ValidationError);
    await expect(add({ name: 'bad name' })).rejects.toThrow(/invalid rule name/);
    await expect(add({ fingerprint: ' ' })).rejects.toThrow(/invalid fingerprint/);
    await expect(add({ queue: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
    await add({});
    await expect(add({})).rejects.toBeInstanceOf(ConflictError);
  });
});
