import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

/**
 * Writes `lines` into `bench/RESULTS.md` as the section `name` (between its markers, replacing
 * the previous one where it stands, or appended), leaving the other sections alone: what a
 * script run by itself with `--write` does (`replay/replay-bench.ts`, `server/load.ts`).
 * Returns the file's path.
 */
export function writeMarkedSection(name: string, lines: string[]): string {
  const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = [start, ...lines, end].join('\n');
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  return file;
}
