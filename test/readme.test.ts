import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** The README's library example, run as written (it imports 'deadletter' like a user would). */
describe('README', () => {
  it('the library example runs as written and prints what it promises', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The library'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("from 'deadletter'");
    // Inside the package, so that the self-reference `import ... from 'deadletter'` resolves.
    const dir = mkdtempSync(join(root, '.tmp-readme-'));
    try {
      writeFileSync(join(dir, 'example.ts'), code ?? '');
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'example.ts'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/queue: 'emails'/);
      expect(run.stdout).toMatch(/done: 1/);
      expect(run.stdout).toMatch(/dead: 1/);
      expect(run.stdout).toContain('permanent invalid address "nobody" 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens with what Deadletter is and exactly the two set-up commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.startsWith('# Deadletter\n\nDeadletter is a dead-letter-queue platform')).toBe(true);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(
      firstBlock
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('#')[0]?.trim()),
    ).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });
});
