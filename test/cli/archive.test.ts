import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveDay } from '../../src/core/archive-record.ts';
import type { ArchiveFileInfo } from '../../src/engine/archive-file.ts';
import type { ArchiveImportResult } from '../../src/engine/archive-import.ts';
import type { RetentionSweepResult } from '../../src/engine/retention-sweeper.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { type CliFixture, cliFixture } from './harness.ts';

const DAY = 86_400_000;
let cli: CliFixture;
/** Dead letters that died 20 and 21 days ago (past the default 14 days), and one of yesterday. */
let expired: string[];
let recent: string;
let day: string;

beforeEach(async () => {
  cli = cliFixture('dlq-archive-');
  expect((await cli.run(['queue', 'create', 'orders'])).code).toBe(0);
  const store = await openStore(cli.storeUrl);
  try {
    // Noon UTC of 20 days ago, so that both fall on the same UTC day.
    const noon = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY + DAY / 2;
    day = archiveDay(noon);
    expired = [
      await killOne(store, { queue: 'orders', diedAt: noon, groupId: 'g1' }),
      await killOne(store, { queue: 'orders', diedAt: noon + 60_000, groupId: 'g2' }),
    ];
    recent = await killOne(store, { queue: 'orders', diedAt: Date.now() - DAY, groupId: 'g1' });
  } finally {
    await store.close();
  }
});

afterEach(() => cli.remove());

describe('dlq retention run', () => {
  it('dry-runs, then archives what is past the queue retention into the archive directory', async () => {
    const dry = await cli.json<RetentionSweepResult>(['retention', 'run', '--dry-run']);
    expect(dry).toMatchObject({ dryRun: true, dead: 2, archiveDir: join(cli.dir, '.deadletter', 'archive') });
    expect((await cli.json<{ items: unknown[] }>(['list'])).items).toHaveLength(3);

    const run = await cli.run(['retention', 'run', '--actor', 'ops']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('archived 2 dead letters and 0 replayed ones');
    expect(run.stdout).toContain(`orders/${day}.jsonl.gz: +2`);
    const left = await cli.json<{ items: { id: string }[] }>(['list']);
    expect(left.items.map((item) => item.id)).toEqual([recent]);
    const [stats] = await cli.json<{ dead: number; archived: number }[]>(['stats']);
    expect(stats).toMatchObject({ dead: 1, archived: 2 });
    const audit = await cli.json<{ items: { actor: string; action: string }[] }>([
      'audit',
      '--action',
      'retention.archive',
    ]);
    expect(audit.items.map((entry) => [entry.action, entry.actor])).toEqual([['retention.archive', 'ops']]);
  });

  it('writes where --archive-dir or DEADLETTER_ARCHIVE_DIR says', async () => {
    await cli.run(['retention', 'run', '--archive-dir', 'elsewhere']);
    const files = await cli.json<ArchiveFileInfo[]>(['archive', 'list', '--archive-dir', 'elsewhere']);
    expect(files.map((f) => f.path)).toEqual([join(cli.dir, 'elsewhere', 'orders', `${day}.jsonl.gz`)]);
    const viaEnv = await cli.json<ArchiveFileInfo[]>(['archive', 'list'], {
      env: { DEADLETTER_ARCHIVE_DIR: join(cli.dir, 'elsewhere') },
    });
    expect(viaEnv).toEqual(files);
    expect(await cli.json<ArchiveFileInfo[]>(['archive', 'list'])).toEqual([]);
  });

  it('says which queue does not exist', async () => {
    const result = await cli.run(['retention', 'run', '--queue', 'nope']);
    expect([result.code, result.stderr]).toEqual([2, 'dlq: unknown queue "nope"\n']);
  });
});

describe('dlq archive list, read and import', () => {
  beforeEach(async () => {
    expect((await cli.run(['retention', 'run'])).code).toBe(0);
  });

  it('lists files with their queue, day, records and size', async () => {
    const files = await cli.json<ArchiveFileInfo[]>(['archive', 'list']);
    expect(files).toEqual([
      {
        queue: 'orders',
        day,
        path: join(cli.dir, '.deadletter', 'archive', 'orders', `${day}.jsonl.gz`),
        bytes: expect.any(Number),
        records: 2,
      },
    ]);
    const table = await cli.run(['archive', 'list', '--queue', 'orders']);
    expect(table.stdout).toMatch(
      new RegExp(`^orders\\s+${day}\\s+2\\s+[\\d.]+ (B|KiB)\\s+orders/${day}.jsonl.gz$`, 'm'),
    );
    expect(table.stdout).toContain('1 files, 2 records');
    expect((await cli.run(['archive', 'list', '--queue', 'emails'])).stdout).toContain('no archive files');
  });

  it('reads a file as a table, or as JSON lines, by its name in the archive directory', async () => {
    const table = await cli.run(['archive', 'read', `orders/${day}.jsonl.gz`]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+QUEUE\s+TIER\s+GROUP\s+DIED\s+ERROR$/);
    for (const id of expired) expect(table.stdout).toMatch(new RegExp(`^${id}\\s+dead\\s+orders`, 'm'));

    const lines = await cli.run(['archive', 'read', `orders/${day}`, '--json', '--limit', '1']);
    const records = lines.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ formatVersion: 1, state: 'dead', id: expired[0], queue: 'orders' });
  });

  it('refuses a missing file or one that is not gzip with exit 2', async () => {
    const missing = await cli.run(['archive', 'read', 'nope.jsonl.gz']);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      `dlq: no archive file at ${join(cli.dir, 'nope.jsonl.gz')}\n`,
    ]);
    writeFileSync(join(cli.dir, 'plain.jsonl.gz'), '{"id":"x"}\n');
    const plain = await cli.run(['archive', 'read', 'plain.jsonl.gz']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/^dlq: .*plain\.jsonl\.gz is not a gzip file/);
    const imported = await cli.run(['archive', 'import', 'plain.jsonl.gz']);
    expect(imported.code).toBe(2);
    expect(imported.stderr).toContain('is not a gzip file');
  });

  it('imports a file back (dry run first); a second import skips every record', async () => {
    const file = `orders/${day}.jsonl.gz`;
    const dry = await cli.json<ArchiveImportResult>(['archive', 'import', file, '--dry-run']);
    expect(dry).toMatchObject({ dryRun: true, records: 2, restored: 2, added: 0, pastRetention: 2 });
    expect((await cli.json<{ items: unknown[] }>(['list'])).items).toHaveLength(1);

    const result = await cli.run(['archive', 'import', file, '--actor', 'alice']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("imported 2: 2 back from this store's archive");
    expect(result.stdout).toContain('2 of them died longer ago than');
    const listed = await cli.json<{ items: { id: string }[] }>(['list']);
    expect(listed.items.map((item) => item.id).sort()).toEqual([...expired, recent].sort());
    const [stats] = await cli.json<{ dead: number; archived: number }[]>(['stats']);
    expect(stats).toMatchObject({ dead: 3, archived: 0 });

    const again = await cli.run(['archive', 'import', file]);
    expect(again.stdout).toContain('imported 0');
    expect(again.stdout).toContain('skipped 2, already here: 2 in the DLQ');
  });

  it('imports nothing from a file with a corrupt line and names the line', async () => {
    const lines = await cli.run(['archive', 'read', `orders/${day}`, '--json']);
    const [first, second] = lines.stdout.trim().split('\n');
    writeFileSync(join(cli.dir, 'bad.jsonl.gz'), gzipSync(`${first}\n${second?.slice(0, 40)}\n`));
    const result = await cli.run(['archive', 'import', 'bad.jsonl.gz']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: .*bad\.jsonl\.gz: line 2: not JSON/);
    const [stats] = await cli.json<{ dead: number; archived: number }[]>(['stats']);
    expect(stats).toMatchObject({ dead: 1, archived: 2 });
  });
});
