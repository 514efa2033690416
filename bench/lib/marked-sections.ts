import { existsSync, readFileSync } from 'node:fs';

const SECTION = /<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->/g;

/** The marked sections of `text` by name, in their order. */
function sectionsOf(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const match of text.matchAll(SECTION)) sections.set(match[1] as string, match[0]);
  return sections;
}

/**
 * RESULTS.md is shared: each part of the bench (the pipelines, the read paths, the targets) and
 * other scripts (the dashboard's `bench:ui`, `server/load.ts --write`,
 * `replay/replay-bench.ts --write`) each own a section between `<!-- name:start -->` and
 * `<!-- name:end -->` markers. A run of `npm run bench` rewrites the file: its own sections
 * replace those of the same name where they stand, the current file's other sections are kept,
 * and a section new to the file comes after them. What precedes the first marker (the header,
 * the machine) is the new run's.
 */
export function keepMarkedSections(file: string, markdown: string): string {
  if (!existsSync(file)) return markdown;
  const current = sectionsOf(readFileSync(file, 'utf8'));
  const fresh = sectionsOf(markdown);
  const first = markdown.search(/<!-- [\w-]+:start -->/);
  const head = (first < 0 ? markdown : markdown.slice(0, first)).trimEnd();
  const ordered = [...current.keys(), ...[...fresh.keys()].filter((name) => !current.has(name))];
  const body = ordered.map((name) => fresh.get(name) ?? current.get(name));
  // Anything of the new run's outside a marked section, after the first marker, is kept last.
  const rest = (first < 0 ? '' : markdown.slice(first)).replace(SECTION, '').trim();
  return `${[head, ...body, ...(rest ? [rest] : [])].join('\n\n')}\n`;
}
