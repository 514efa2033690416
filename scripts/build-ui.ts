/**
 * Builds the dashboard (src/ui → dist/ui) when it is missing or older than its sources:
 * `npm start` runs it first (prestart), the test suite in its global setup, `npm run build:ui`
 * with `--force`. Quiet unless it builds. Two processes at once take turns (a lock directory).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist', 'ui');
const STAMP = join(OUT, '.built');
const LOCK = join(ROOT, 'dist', '.ui-build.lock');
/** What the build reads: the dashboard's sources, the build config, the installed versions. */
const INPUTS = ['src/ui', 'vite.config.ts', 'package-lock.json'];
const STALE_LOCK_MS = 5 * 60_000;

function newestMtime(path: string): number {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Whether dist/ui exists and was built after its inputs last changed. */
export function uiIsFresh(): boolean {
  let built: number;
  try {
    built = statSync(STAMP).mtimeMs;
    statSync(join(OUT, 'index.html'));
  } catch {
    return false;
  }
  return INPUTS.every((input) => newestMtime(join(ROOT, input)) <= built);
}

function tryLock(): boolean {
  mkdirSync(dirname(LOCK), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by its owner.
    }
    return false;
  }
}

/** Builds the dashboard unless it is fresh (or always, with `force`); returns whether it built. */
export async function ensureUiBuilt(
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<boolean> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (;;) {
    if (!options.force && uiIsFresh()) return false;
    if (tryLock()) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    if (!options.force && uiIsFresh()) return false;
    const started = Date.now();
    log('building the dashboard (src/ui → dist/ui)...');
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(STAMP, `${new Date().toISOString()}\n`);
    log(`built the dashboard in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureUiBuilt({ force: process.argv.includes('--force') }).catch((error: unknown) => {
    process.stderr.write(`cannot build the dashboard: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
