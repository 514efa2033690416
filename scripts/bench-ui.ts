/**
 * The dashboard's figures for bench/RESULTS.md: the gzipped size of the built bundle and the
 * time the overview takes to show its queues on the demo data (a real `dlq serve` with its
 * demo data set, Debian's Chromium). `npm run bench:ui` prints the section; `-- --write`
 * also puts it into bench/RESULTS.md between its markers (the rest of the file is kept).
 * A figure, not a test: nothing here asserts the 1 s target.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../test/support/temp-dir.ts';
import { launchBrowser, startServe } from '../test/ui/harness.ts';
import { ensureUiBuilt } from './build-ui.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const START = '<!-- dashboard:start -->';
const END = '<!-- dashboard:end -->';
const RUNS = 10;

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} kB`;
}

function bundleSizes(): { rows: string[]; raw: number; gzip: number } {
  const dir = join(ROOT, 'dist', 'ui');
  const files: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|css|html|svg)$/.test(entry)) files.push(path);
    }
  };
  walk(dir);
  let raw = 0;
  let gzip = 0;
  const rows = files.sort().map((path) => {
    const bytes = readFileSync(path);
    const zipped = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gzip += zipped;
    return `| \`${path.slice(dir.length + 1)}\` | ${kb(bytes.length)} | ${kb(zipped)} |`;
  });
  return { rows, raw, gzip };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function overviewTimes(): Promise<{ cold: number; warm: number[]; queues: number }> {
  const { dir, remove } = tempDir('deadletter-bench-ui-');
  const served = await startServe(`sqlite:${join(dir, 'demo.db')}`, dir, { demo: true });
  const browser = await launchBrowser();
  try {
    const token = /admin token "[^"]+" \(shown once; keep it\): (\S+)/.exec(served.output())?.[1];
    if (!token) throw new Error(`no admin token in the output of dlq serve:\n${served.output()}`);
    const { page } = browser;
    // Signed in from the start (the token in the tab's session storage): the first load is cold.
    await browser.context.addInitScript(
      `sessionStorage.setItem('deadletter.token', ${JSON.stringify(token)})`,
    );
    const measure = async () => {
      await page.goto(`${served.url}/`, { waitUntil: 'commit' });
      // performance.now() counts from the navigation's start; polled every animation frame.
      // A function, not a string: the dashboard's CSP forbids eval (this file has no DOM types).
      const handle = await page.waitForFunction(
        () => {
          const doc = (
            globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<unknown> } }
          ).document;
          return doc.querySelectorAll('table.data tbody tr').length > 0 ? performance.now() : 0;
        },
        undefined,
        { polling: 'raf', timeout: 30_000 },
      );
      return Number(await handle.jsonValue());
    };
    const cold = await measure();
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await measure());
    const queues = Number(await page.evaluate(`document.querySelectorAll('table.data tbody tr').length`));
    return { cold, warm, queues };
  } finally {
    await browser.close();
    await served.stop();
    remove();
  }
}

async function main(): Promise<void> {
  await ensureUiBuilt();
  const sizes = bundleSizes();
  const times = await overviewTimes();
  const section = [
    START,
    '## Dashboard',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:ui\` (scripts/bench-ui.ts): the built`,
    'bundle (`vite build`, gzip level 9) and the overview of `dlq serve` on its demo data set, in headless',
    "Debian Chromium on this machine: time from the navigation's start until the queue table shows its rows",
    '(token already in the tab; the overview then asks for stats, groups and each queue\u2019s samples).',
    '',
    '| file | size | gzipped |',
    '|---|---|---|',
    ...sizes.rows,
    `| **total** | ${kb(sizes.raw)} | **${kb(sizes.gzip)}** |`,
    '',
    '| overview load | ms |',
    '|---|---|',
    `| first load (nothing cached) | ${Math.round(times.cold)} |`,
    `| median of ${RUNS} reloads | ${Math.round(median(times.warm))} |`,
    `| slowest of ${RUNS} reloads | ${Math.round(Math.max(...times.warm))} |`,
    '',
    `Targets: bundle under 100 kB gzipped (${sizes.gzip < 100 * 1024 ? 'met' : 'not met'}); overview under 1 s ` +
      `(${Math.max(times.cold, ...times.warm) < 1000 ? 'met' : 'not met'}; ${times.queues} queues).`,
    END,
  ].join('\n');
  console.log(section);
  if (process.argv.includes('--write')) {
    const current = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
    const start = current.indexOf(START);
    const end = current.indexOf(END);
    const next =
      start >= 0 && end > start
        ? `${current.slice(0, start)}${section}${current.slice(end + END.length)}`
        : `${current.trimEnd()}\n\n${section}\n`;
    writeFileSync(RESULTS, next);
    console.log(`\nwritten to ${RESULTS}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
