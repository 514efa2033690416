import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { formatAbsolute, formatRelative } from '../format.ts';

/** A time as `5m ago`, with the absolute time on hover and for screen readers' `datetime`. */
export function Time({ at, now }: { at: number | null | undefined; now?: number }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatAbsolute(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

/** A tier, group status or job status as a colored badge. */
export function Badge({
  kind,
  value,
}: {
  kind: 'tier' | 'status' | 'job' | 'role' | 'severity' | 'alert';
  value: string;
}) {
  return <span class={`badge ${kind}-${value.replace(/[^a-z_]/g, '')}`}>{value.replace(/_/g, ' ')}</span>;
}

/** What the API answered when a call failed, in its own words. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const message =
    error instanceof ApiError
      ? error.message
      : error instanceof Error
        ? error.message
        : String(error ?? 'unknown error');
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div class="notice error" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <span>
        {message}
        {code && code !== 'http' ? <span class="muted"> ({code})</span> : null}
      </span>
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p class="muted loading" aria-live="polite">
      Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

/** An empty state: what is not there, and what to do about it. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

/** The result of an API call: loading, its data or its error; `reload` asks again. */
export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change (and on `reload`), keeping the previous data while a new
 * answer is on its way; with `refreshMs`, again every so often while the page is visible.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  // `deps` are the caller's: `load` is a new function at every render.
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

/** Shows `children` once data is there; the error or a loading line otherwise. */
export function AsyncView<T>({
  state,
  what,
  children,
}: {
  state: Async<T>;
  what?: string;
  children: (data: T) => ComponentChildren;
}) {
  if (state.data !== undefined) {
    return (
      <>
        {state.error ? <ErrorBox error={state.error} title="Could not refresh" /> : null}
        {children(state.data)}
      </>
    );
  }
  if (state.error)
    return <ErrorBox error={state.error} title={what ? `Could not load ${what}` : undefined} />;
  return <Loading {...(what ? { what } : {})} />;
}

/** A button that copies `text` to the clipboard and says so. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | undefined>();
  const copy = () => {
    navigator.clipboard?.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
    setTimeout(() => setCopied(undefined), 2000);
  };
  return (
    <button type="button" class="small" onClick={copy}>
      {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed' : label}
    </button>
  );
}

/** The page's title line, with actions on the right. */
export function PageHeader({
  title,
  sub,
  children,
}: {
  title: ComponentChildren;
  sub?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {sub ? <p class="muted sub">{sub}</p> : null}
      </div>
      {children ? <div class="actions">{children}</div> : null}
    </div>
  );
}

/**
 * A labelled `<select>` of a filter: "any" (the empty value) first, then `choices` (values, or
 * `[value, label]` pairs); `onChoose` gets the chosen value.
 */
export function ChoiceField({
  id,
  label,
  value,
  choices,
  any = 'any',
  onChoose,
}: {
  id: string;
  label: string;
  value: string;
  choices: readonly (string | readonly [value: string, label: string])[];
  /** The label of the empty choice; `null` for a select that always has a value. */
  any?: string | null;
  onChoose: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChoose((e.target as HTMLSelectElement).value)}>
        {any === null ? null : <option value="">{any}</option>}
        {choices.map((choice) => {
          const [v, text] = typeof choice === 'string' ? [choice, choice] : choice;
          return (
            <option key={v} value={v}>
              {text}
            </option>
          );
        })}
      </select>
    </div>
  );
}
