import { useState } from 'preact/hooks';
import { api, type ReplayPlan } from '../api.ts';
import { ErrorBox, PageHeader } from '../components/common.tsx';
import { useQueueNames } from '../components/filters.tsx';
import { Breakdown, Samples } from '../components/plan.tsx';
import { formatCount, plural } from '../format.ts';
import { navigate } from '../router.ts';
import { describeSelector, selectorFromQuery, selectorQuery } from '../selector.ts';
import { roleAllows, useSession } from '../session.ts';

type Step = 'selection' | 'dry-run' | 'options' | 'confirm';
const STEPS: { key: Step; label: string }[] = [
  { key: 'selection', label: '1. Selection' },
  { key: 'dry-run', label: '2. Dry run' },
  { key: 'options', label: '3. Options' },
  { key: 'confirm', label: '4. Confirm' },
];

interface Options {
  to: string;
  rate: string;
  batchSize: string;
  canary: string;
  canaryMaxFailurePercent: string;
}

function positive(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The replay wizard: the selection, a dry run (how many, which groups and tiers, samples,
 * what was replayed before, where they go), options (destination, rate, batch size, canary),
 * a confirmation, then the job's live page.
 */
export function ReplayPage({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const selector = selectorFromQuery(query);
  const queues = useQueueNames();
  const [step, setStep] = useState<Step>('selection');
  const [plan, setPlan] = useState<ReplayPlan | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [options, setOptions] = useState<Options>({
    to: '',
    rate: '',
    batchSize: '500',
    canary: '',
    canaryMaxFailurePercent: '20',
  });
  const set = (key: keyof Options) => (e: Event) =>
    setOptions((o) => ({ ...o, [key]: (e.target as HTMLInputElement).value }));

  if (!roleAllows(session.role, 'operator')) {
    return (
      <ErrorBox
        title="Replaying needs an operator token"
        error={new Error(`The token "${session.name}" has the role ${session.role}.`)}
      />
    );
  }

  const dryRun = async (next: Step) => {
    setBusy(true);
    setError(undefined);
    try {
      setPlan(await api.replayDryRun(selector, options.to || undefined));
      setStep(next);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const canary = positive(options.canary);
  const rate = positive(options.rate);
  const batchSize = positive(options.batchSize);
  const maxFailure = Number(options.canaryMaxFailurePercent);
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { job } = await api.replayCreate(selector, {
        ...(options.to ? { to: options.to } : {}),
        ...(rate ? { rate } : {}),
        ...(batchSize ? { batchSize: Math.round(batchSize) } : {}),
        ...(canary ? { canary: Math.round(canary), canaryMaxFailureRate: maxFailure / 100 } : {}),
      });
      navigate(`/replays/${encodeURIComponent(job.id)}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const index = STEPS.findIndex((s) => s.key === step);
  const destination = options.to ? `queue ${options.to}` : 'their source queue';
  return (
    <>
      <PageHeader
        title="Replay dead letters"
        sub={<a href={`/dead-letters${selectorQuery(selector)}`}>← The selection in the list</a>}
      />
      <ol class="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s.key} aria-current={s.key === step ? 'step' : undefined} class={i < index ? 'done' : ''}>
            {s.label}
          </li>
        ))}
      </ol>

      {step === 'selection' ? (
        <section class="card">
          <h2>What to replay</h2>
          <p>{describeSelector(selector)}</p>
          <p class="muted">
            Only dead letters that died before the job starts are replayed. Each goes back with its headers,
            its idempotency key and replay headers saying what it replays; a message that dies again links to
            its previous dead letter.
          </p>
          <button type="button" class="primary" disabled={busy} onClick={() => dryRun('dry-run')}>
            {busy ? 'Counting…' : 'Dry run →'}
          </button>
        </section>
      ) : null}

      {step === 'dry-run' && plan ? (
        <section>
          <div class={`notice ${plan.total === 0 ? 'warn' : ''}`}>
            <strong>
              {plan.total === 0
                ? 'Nothing to replay: no dead letter matches.'
                : `${plural(plan.total, 'dead letter')} would be replayed to ${plan.destinations
                    .map((d) => `${d.queue} (${formatCount(d.count)})`)
                    .join(', ')}.`}
            </strong>
          </div>
          {plan.alreadyReplayed.length > 0 ? (
            <div class="notice warn" role="status">
              <strong>Some of them were replayed before</strong>
              <span>
                {plan.alreadyReplayed
                  .map((r) => `${formatCount(r.count)} replayed ${plural(r.times, 'time')}`)
                  .join(', ')}
                . They failed again after a replay: check that the cause is fixed.
                {plan.atReplayLimit > 0
                  ? ` ${plural(plan.atReplayLimit, 'dead letter')} reached the replay limit and will be skipped.`
                  : ''}
              </span>
            </div>
          ) : null}
          <Breakdown byTier={plan.byTier} byGroup={plan.byGroup} byQueue={plan.byQueue} />
          <Samples samples={plan.samples} />
          <div class="actions section-card">
            <button type="button" onClick={() => setStep('selection')}>
              ← Back
            </button>
            <button
              type="button"
              class="primary"
              disabled={plan.total === 0}
              onClick={() => setStep('options')}
            >
              Options →
            </button>
          </div>
        </section>
      ) : null}

      {step === 'options' ? (
        <section class="card">
          <h2>Options</h2>
          <div class="form-grid">
            <div class="field">
              <label for="r-to">
                Destination <span class="hint">default: each one's source queue</span>
              </label>
              <select id="r-to" value={options.to} onChange={set('to')}>
                <option value="">source queue</option>
                {queues.map((q) => (
                  <option key={q} value={q}>
                    {q}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="r-rate">
                Rate <span class="hint">messages per second; empty: as fast as it goes</span>
              </label>
              <input id="r-rate" inputMode="decimal" value={options.rate} onInput={set('rate')} />
            </div>
            <div class="field">
              <label for="r-batch">
                Batch size <span class="hint">per transaction, 1–5000</span>
              </label>
              <input id="r-batch" inputMode="numeric" value={options.batchSize} onInput={set('batchSize')} />
            </div>
            <div class="field">
              <label for="r-canary">
                Canary <span class="hint">replay this many first and wait for them; empty: none</span>
              </label>
              <input id="r-canary" inputMode="numeric" value={options.canary} onInput={set('canary')} />
            </div>
            <div class="field">
              <label for="r-canary-rate">Stop when more than this % of the canary dies again</label>
              <input
                id="r-canary-rate"
                inputMode="numeric"
                value={options.canaryMaxFailurePercent}
                onInput={set('canaryMaxFailurePercent')}
                disabled={!canary}
              />
            </div>
          </div>
          <div class="actions">
            <button type="button" onClick={() => setStep('dry-run')}>
              ← Back
            </button>
            <button
              type="button"
              class="primary"
              disabled={busy || !Number.isFinite(maxFailure) || maxFailure < 0 || maxFailure > 100}
              onClick={() => dryRun('confirm')}
            >
              Review →
            </button>
          </div>
        </section>
      ) : null}

      {step === 'confirm' && plan ? (
        <section class="card">
          <h2>Confirm</h2>
          <p>
            Replay <strong>{plural(plan.total, 'dead letter')}</strong> ({describeSelector(selector)}) to{' '}
            {destination}
            {rate ? `, at most ${rate} per second` : ', as fast as the store goes'}, in batches of{' '}
            {batchSize ?? 500}
            {canary
              ? `. First a canary of ${canary}: the job waits for their outcome and stops if more than ${maxFailure}% of them die again.`
              : '.'}
          </p>
          {plan.atReplayLimit > 0 ? (
            <p class="muted">
              {plural(plan.atReplayLimit, 'dead letter')} at the replay limit will be skipped.
            </p>
          ) : null}
          <div class="actions">
            <button type="button" onClick={() => setStep('options')}>
              ← Back
            </button>
            <button type="button" class="primary" disabled={busy || plan.total === 0} onClick={start}>
              {busy ? 'Starting…' : `Start replay of ${formatCount(plan.total)}`}
            </button>
          </div>
        </section>
      ) : null}

      {error ? <ErrorBox error={error} title="The server refused" /> : null}
    </>
  );
}
