import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The installed version of a package, as resolved from `bench/` (or from the root for Deadletter's). */
export function packageVersion(name: string, from: string = import.meta.url): string {
  const require = createRequire(from);
  let dir = require.resolve(name);
  for (let k = 0; k < 8; k++) {
    dir = dir.slice(0, dir.lastIndexOf('/'));
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // not this folder, go up
    }
  }
  return 'unknown';
}
