import { micromark } from 'micromark';
import { useMemo } from 'preact/hooks';
import { diffJson, type JsonChange } from '../../core/json-diff.ts';
import type { Json } from '../../core/message.ts';
import { CopyButton } from './common.tsx';

/**
 * Markdown from a queue's documentation (the runbook), rendered safely: micromark escapes any
 * HTML in the text (no `allowDangerousHtml`) and drops `javascript:` and other unsafe link
 * protocols, so what reaches the page is plain Markdown markup. The CSP forbids inline
 * scripts anyway.
 */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(
    () => micromark(text, { allowDangerousHtml: false, allowDangerousProtocol: false }),
    [text],
  );
  return (
    // micromark's output: raw HTML escaped, unsafe link protocols removed.
    <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />
  );
}

/** A JSON value, pretty-printed as text, with a copy button. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const text = useMemo(() => JSON.stringify(value, null, 2) ?? 'undefined', [value]);
  return (
    <div class="json-block">
      <div class="json-tools">
        <span class="muted">{label}</span>
        <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} />
      </div>
      <pre>{text}</pre>
    </div>
  );
}

function show(value: Json | undefined): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/** The differences between two JSON values, path by path (`customer.email: "a" → "b"`). */
export function JsonDiff({ before, after }: { before: Json; after: Json }) {
  const changes: JsonChange[] = useMemo(() => diffJson(before, after), [before, after]);
  if (changes.length === 0) return <p class="muted">No differences from the original.</p>;
  return (
    <ul class="diff" aria-label="Changes against the original body">
      {changes.map((change) => (
        <li key={`${change.kind}:${change.path}`}>
          {change.kind === 'added' ? (
            <div class="add">+ {`${change.path || '(root)'}: ${show(change.after)}`}</div>
          ) : change.kind === 'removed' ? (
            <div class="del">- {`${change.path || '(root)'}: ${show(change.before)}`}</div>
          ) : (
            <>
              <div class="del">- {`${change.path || '(root)'}: ${show(change.before)}`}</div>
              <div class="add">+ {`${change.path || '(root)'}: ${show(change.after)}`}</div>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
