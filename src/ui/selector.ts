import type { Selector } from './model.ts';

/** The dead-letter selector in URLs and in words (the list, replay and discard pages). Pure. */

export const TIERS = ['transient', 'timeout', 'malformed', 'resource', 'permanent'] as const;

/** A selector from a URL query (the dead-letter list, replay and discard pages share it). */
export function selectorFromQuery(query: URLSearchParams): Selector {
  const selector: Selector = {};
  for (const key of ['queue', 'group', 'since', 'until', 'grep'] as const) {
    const value = query.get(key);
    if (value) selector[key] = value;
  }
  const tier = query.get('tier');
  if (tier && (TIERS as readonly string[]).includes(tier)) selector.tier = tier as Selector['tier'];
  const where = query.getAll('where').filter(Boolean);
  if (where.length > 0) selector.where = where;
  const ids = query.get('ids');
  if (ids) selector.ids = ids.split(',').filter(Boolean);
  return selector;
}

/** The URL query of a selector. */
export function selectorQuery(selector: Selector): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(selector)) {
    if (value === undefined || value === '') continue;
    if (key === 'ids' && Array.isArray(value)) params.set('ids', value.join(','));
    else if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A selector in words: `queue orders · tier permanent · 3 chosen dead letters`. */
export function describeSelector(selector: Selector): string {
  const parts: string[] = [];
  if (selector.ids)
    parts.push(`${selector.ids.length} chosen dead letter${selector.ids.length === 1 ? '' : 's'}`);
  if (selector.queue) parts.push(`queue ${selector.queue}`);
  if (selector.tier) parts.push(`tier ${selector.tier}`);
  if (selector.group) parts.push(`group ${selector.group}`);
  if (selector.since) parts.push(`since ${selector.since}`);
  if (selector.until) parts.push(`until ${selector.until}`);
  if (selector.grep) parts.push(`error contains "${selector.grep}"`);
  for (const w of selector.where ?? []) parts.push(w);
  return parts.length > 0 ? parts.join(' · ') : 'every dead letter';
}
