import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor, reasonFor } from '../../src/cli/errors.ts';
import {
  ConflictError,
  NotAStoreError,
  NotFoundError,
  SchemaVersionError,
  ValidationError,
} from '../../src/core/errors.ts';
import { type CliFixture, cliFixture, runDlq } from './harness.ts';

let cli: CliFixture;
beforeAll(() => {
  cli = cliFixture();
});
afterAll(() => cli.remove());

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every command that opens the store, with arguments that would otherwise be valid. */
const STORE_COMMANDS: [string, string[]][] = (
  [
    ['migrate'],
    ['stats'],
    ['queue', 'list'],
    ['queue', 'create', 'jobs'],
    ['queue', 'update', 'jobs', '--max-receives', '2'],
    ['send', 'jobs', '--body', '{}'],
    ['list'],
    ['show', '01900000-0000-7000-8000-000000000000'],
    ['groups'],
    ['group', 'ack', 'g_1'],
    ['demo', '--messages', '5'],
  ] as string[][]
).map((args) => [args.join(' '), args]);

describe('a file that is not a Deadletter store', () => {
  it.each(STORE_COMMANDS)('is refused by `dlq %s` (exit 2) and left untouched', async (_name, args) => {
    const path = join(cli.dir, 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(50));
    const before = digest(path);
    const result = await runDlq([...args, '--store', `sqlite:${path}`], { cwd: cli.dir, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: .*notes\.txt is not a SQLite database.*\n$/);
    expect(result.stdout).toBe('');
    expect(digest(path)).toBe(before);
    expect(readdirSync(cli.dir).filter((name) => name.startsWith('notes.txt'))).toEqual(['notes.txt']);
  });

  it("refuses another application's SQLite database (exit 2)", async () => {
    const path = join(cli.dir, 'app.db');
    const db = new Database(path);
    db.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@example.com')",
    );
    db.close();
    const before = digest(path);
    for (const args of [['migrate'], ['stats'], ['queue', 'create', 'jobs']]) {
      const result = await runDlq([...args, '--store', `sqlite:${path}`], { env: {} });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/is a SQLite database of something else \(tables: users/);
    }
    expect(digest(path)).toBe(before);
  });
});

describe('a store with a newer schema', () => {
  it.each(STORE_COMMANDS)('is refused by `dlq %s` (exit 2) and left untouched', async (_name, args) => {
    const path = join(cli.dir, 'future.db');
    if (!existsSync(path)) {
      expect((await runDlq(['queue', 'create', 'jobs', '--store', `sqlite:${path}`], { env: {} })).code).toBe(
        0,
      );
      const db = new Database(path);
      db.prepare('INSERT INTO deadletter_migrations (version, name, applied_at) VALUES (999, ?, ?)').run(
        '0999_from_the_future',
        Date.now(),
      );
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
    const before = digest(path);
    const result = await runDlq([...args, '--store', `sqlite:${path}`], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: .*newer Deadletter \(schema 999.*upgrade Deadletter\n$/);
    expect(digest(path)).toBe(before);
  });
});

describe('a store with an older schema', () => {
  it('is refused with a pointer to dlq migrate (exit 2)', async () => {
    const path = join(cli.dir, 'older.db');
    expect((await runDlq(['migrate', '--store', `sqlite:${path}`], { env: {} })).code).toBe(0);
    const db = new Database(path);
    const latest = (db.prepare('SELECT MAX(version) AS v FROM deadletter_migrations').get() as { v: number })
      .v;
    db.prepare('DELETE FROM deadletter_migrations WHERE version = ?').run(latest);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const result = await runDlq(['stats', '--store', `sqlite:${path}`], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/older schema .*run `dlq migrate`/);
  });
});

describe('a store that does not exist yet', () => {
  it('is not created by commands that only read or need a queue (exit 2)', async () => {
    const path = join(cli.dir, 'missing', 'store.db');
    for (const args of [
      ['stats'],
      ['list'],
      ['groups'],
      ['send', 'jobs', '--body', '{}'],
      ['queue', 'list'],
    ]) {
      const result = await runDlq([...args, '--store', `sqlite:${path}`], { env: {} });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /no Deadletter store at sqlite:.*store\.db yet: create it with `dlq migrate`/,
      );
    }
    expect(existsSync(join(cli.dir, 'missing'))).toBe(false);
  });

  it('is created by queue create, from DEADLETTER_STORE', async () => {
    const result = await runDlq(['queue', 'create', 'jobs'], {
      cwd: cli.dir,
      env: { DEADLETTER_STORE: 'sqlite:./fresh/store.db' },
    });
    expect(result.code).toBe(0);
    expect(existsSync(join(cli.dir, 'fresh', 'store.db'))).toBe(true);
  });

  it('defaults to ./.deadletter/deadletter.db in the working directory', async () => {
    const result = await runDlq(['migrate', '--json'], { cwd: cli.dir, env: {} });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      store: `sqlite:${join(cli.dir, '.deadletter', 'deadletter.db')}`,
    });
    expect(existsSync(join(cli.dir, '.deadletter', 'deadletter.db'))).toBe(true);
  });
});

describe('an operation that fails', () => {
  it('exits 1 with a one-line reason when the store is damaged', async () => {
    const path = join(cli.dir, 'damaged.db');
    const store = ['--store', `sqlite:${path}`];
    expect((await runDlq(['queue', 'create', 'jobs', ...store], { env: {} })).code).toBe(0);
    expect((await runDlq(['send', 'jobs', '--body', '{"n":1}', ...store], { env: {} })).code).toBe(0);
    const db = new Database(path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").get() as {
      rootpage: number;
    };
    db.close();
    // Overwrite the messages table's root page: SQLite reports the file as malformed.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);
    for (const args of [['stats'], ['send', 'jobs', '--body', '{}']]) {
      const result = await runDlq([...args, ...store], { env: {} });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^dlq: .*malformed\n$/);
    }
  });
});

describe('usage', () => {
  it('prints help on --help (exit 0) and the version on --version', async () => {
    const help = await runDlq(['--help'], { env: {} });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: dlq \[options\] \[command\]/);
    for (const command of [
      'migrate',
      'queue',
      'send',
      'work',
      'list',
      'show',
      'groups',
      'group',
      'stats',
      'demo',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`\\n {2}${command} `));
    }
    expect(help.stdout).toMatch(/Exit codes: 0 success, 1 the operation failed, 2 bad usage or bad input/);
    const sub = await runDlq(['queue', 'create', '--help'], { env: {} });
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/--no-dead-letter/);
    const version = await runDlq(['--version'], { env: {} });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('shows help on stderr and exits 2 without a command', async () => {
    const result = await runDlq([], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Usage: dlq/);
  });

  it.each([
    [['stat'], /^dlq: unknown command 'stat' \(Did you mean stats\?\)\n$/],
    [['stats', '--verbose'], /^dlq: unknown option '--verbose'\n$/],
    [['stats', 'extra'], /^dlq: too many arguments/],
    [['send'], /^dlq: missing required argument 'queue'\n$/],
    [['list', '--limit'], /^dlq: option '--limit <n>' argument missing\n$/],
  ])('refuses %j with exit 2 and one line on stderr', async (args, reason) => {
    const result = await runDlq(args, { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stdout).toBe('');
  });
});

describe('exitCodeFor, the one mapping of errors to exit codes', () => {
  it.each([
    [new ValidationError('bad'), EXIT.usage],
    [new NotFoundError('gone'), EXIT.usage],
    [new ConflictError('taken'), EXIT.usage],
    [new SchemaVersionError('newer', 2, 1), EXIT.usage],
    [new NotAStoreError('notes'), EXIT.usage],
    [new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), EXIT.usage],
    [new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), EXIT.ok],
    [new Error('disk I/O error'), EXIT.failed],
    ['a thrown string', EXIT.failed],
  ])('maps %o to %i', (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('reduces any error to one line', () => {
    expect(reasonFor(new ValidationError('first\nsecond'))).toBe('first');
    expect(reasonFor(new TypeError('x is not a function'))).toBe('TypeError: x is not a function');
    expect(reasonFor(new CommanderError(1, 'c', "error: unknown command 'x'\n(Did you mean y?)"))).toBe(
      "unknown command 'x' (Did you mean y?)",
    );
  });
});
