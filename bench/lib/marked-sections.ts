import { existsSync, readFileSync } from 'node:fs';

/**
 * RESULTS.md is shared: other scripts (the dashboard's `bench:ui`, `server/load.ts --write`,
 * `replay/replay-bench.ts --write`) each own a section between `<!-- name:start -->` and
 * `<!-- name:end -->` markers. A run of `npm run bench` rewrites the file, so it carries over
 * every marked section of the current file that its own output does not contain, in their order.
 */
export function keepMarkedSections(file: string, markdown: string): string {
  if (!existsSync(file)) return markdown;
  const current = readFileSync(file, 'utf8');
  const kept: string[] = [];
  for (const match of current.matchAll(/<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->/g)) {
    const name = match[1] as string;
    if (!markdown.includes(`<!-- ${name}:start -->`)) kept.push(match[0]);
  }
  return kept.length === 0 ? markdown : `${markdown.trimEnd()}\n\n${kept.join('\n\n')}\n`;
}
