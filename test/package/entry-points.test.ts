import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every package a module imports, following its relative imports (static and dynamic). */
function packagesReachedFrom(entry: string, followDynamic: boolean): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [resolve(ROOT, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const pattern = followDynamic
      ? /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g
      : /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g;
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] ?? match[2];
      if (!specifier) continue;
      if (/^(?:import|export)\s+type\b/.test(match[0].trim())) continue;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:'))
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  }
  return packages;
}

describe('entry points', () => {
  it("'deadletter' (queues, workers, triage) loads no part of the HTTP server", () => {
    const reached = packagesReachedFrom('src/index.ts', false);
    expect(reached).toContain('better-sqlite3');
    for (const serverOnly of [
      'fastify',
      '@fastify/static',
      '@fastify/swagger',
      'prom-client',
      'fastify-type-provider-zod',
    ]) {
      expect(reached).not.toContain(serverOnly);
    }
  });

  it("'deadletter/server' exports the server", async () => {
    const server = await import('deadletter/server');
    expect(typeof server.createServer).toBe('function');
    expect(typeof server.ServerMetrics).toBe('function');
  });
});
