import { useState } from 'preact/hooks';
import { type AlertRuleView, type AlertView, api } from '../api.ts';
import { AsyncView, Badge, Empty, ErrorBox, PageHeader, Time, useAsync } from '../components/common.tsx';
import { useQueueNames } from '../components/filters.tsx';
import { formatCount, formatSpan } from '../format.ts';
import { roleAllows, useSession } from '../session.ts';

const KINDS: { kind: AlertRuleView['kind']; label: string; threshold: string }[] = [
  { kind: 'depth', label: 'depth above', threshold: 'dead letters, e.g. 100' },
  { kind: 'growth', label: 'growth above, within a window', threshold: 'dead letters, e.g. 20' },
  { kind: 'oldest', label: 'oldest older than', threshold: 'a duration, e.g. 2d' },
  { kind: 'new_group', label: 'a new group (a new bug)', threshold: 'dead letters in it, default 1' },
  { kind: 'regressed_group', label: 'a regressed group', threshold: 'dead letters in it, default 1' },
];

function describeRule(rule: AlertRuleView): string {
  const threshold = rule.kind === 'oldest' ? formatSpan(rule.threshold) : formatCount(rule.threshold);
  const window = rule.windowMs ? ` within ${formatSpan(rule.windowMs)}` : '';
  switch (rule.kind) {
    case 'depth':
      return `more than ${threshold} dead letters`;
    case 'growth':
      return `more than ${threshold} new dead letters${window}`;
    case 'oldest':
      return `oldest dead letter older than ${threshold}`;
    case 'new_group':
      return `a new group with ${threshold}+ dead letters${window}`;
    default:
      return `a regressed group with ${threshold}+ dead letters`;
  }
}

function channelText(channel: AlertRuleView['channels'][number]): string {
  if (!channel.url) return channel.type;
  try {
    return `${channel.type} (${new URL(channel.url).host})`;
  } catch {
    return channel.type;
  }
}

/** The alert history (viewer) and the alert rules (admin: their webhook URLs are secrets). */
export function AlertsPage({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const [state, setState] = useState<'firing' | 'all'>(query.get('state') === 'firing' ? 'firing' : 'all');
  const history = useAsync(
    () => api.alerts({ ...(state === 'firing' ? { state: 'firing' as const } : {}), limit: 200 }),
    [state],
    15_000,
  );
  const admin = roleAllows(session.role, 'admin');
  return (
    <>
      <PageHeader
        title="Alerts"
        sub="Alerts fire on patterns (depth, growth, age, new or regressed groups), once per rule, queue and group."
      >
        <fieldset class="segmented">
          <legend class="sr-only">Which alerts</legend>
          <button type="button" aria-pressed={state === 'firing'} onClick={() => setState('firing')}>
            Firing
          </button>
          <button type="button" aria-pressed={state === 'all'} onClick={() => setState('all')}>
            All
          </button>
        </fieldset>
      </PageHeader>
      <AsyncView state={history} what="the alert history">
        {(alerts) =>
          alerts.length === 0 ? (
            <Empty title={state === 'firing' ? 'Nothing is firing' : 'No alert has fired yet'}>
              {admin ? 'Add a rule below.' : 'An admin adds rules here or with dlq alert rule add.'}
            </Empty>
          ) : (
            <AlertTable alerts={alerts} />
          )
        }
      </AsyncView>
      {admin ? (
        <Rules />
      ) : (
        <p class="muted small-print">
          Alert rules hold webhook URLs (secrets): an admin token sees and changes them here, or with{' '}
          <code>dlq alert rule list</code>.
        </p>
      )}
    </>
  );
}

function AlertTable({ alerts }: { alerts: AlertView[] }) {
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Rule</th>
            <th scope="col">Queue</th>
            <th scope="col">Group</th>
            <th scope="col" class="num">
              Value
            </th>
            <th scope="col">Fired</th>
            <th scope="col">Resolved</th>
            <th scope="col">Notifications</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id}>
              <td>
                <Badge kind="alert" value={alert.state} />
              </td>
              <td>{alert.ruleName}</td>
              <td>
                <a href={`/queues/${encodeURIComponent(alert.queue)}`}>{alert.queue}</a>
              </td>
              <td>
                {alert.groupId ? (
                  <a class="mono" href={`/groups/${encodeURIComponent(alert.groupId)}`}>
                    {alert.groupId.slice(0, 10)}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td class="num">{formatCount(alert.value)}</td>
              <td>
                <Time at={alert.firedAt} />
              </td>
              <td>
                {alert.resolvedAt ? <Time at={alert.resolvedAt} /> : <span class="muted">still firing</span>}
              </td>
              <td class="wrap">
                {alert.deliveries.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  alert.deliveries.map((d) => (
                    <div key={d.id} title={d.lastError ?? undefined}>
                      {d.event} → {d.channel}: <strong>{d.status}</strong>
                      {d.attempts > 1 ? ` (${d.attempts} attempts)` : ''}
                      {d.lastError ? (
                        <span class="muted error-text"> {d.lastError.slice(0, 120)}</span>
                      ) : null}
                    </div>
                  ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Rules() {
  const rules = useAsync(() => api.alertRules(), []);
  const [error, setError] = useState<unknown>();
  const [failed, setFailed] = useState('The rule was not removed');
  const change = async (rule: AlertRuleView, what: 'remove' | 'toggle') => {
    setError(undefined);
    try {
      if (what === 'remove') await api.removeAlertRule(rule.id);
      else await api.updateAlertRule(rule.id, { enabled: !rule.enabled });
      rules.reload();
    } catch (failure) {
      setFailed(what === 'remove' ? 'The rule was not removed' : 'The rule was not changed');
      setError(failure);
    }
  };
  return (
    <section aria-labelledby="rules">
      <h2 id="rules">Rules</h2>
      {error ? <ErrorBox error={error} title={failed} /> : null}
      <AsyncView state={rules} what="the alert rules">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No alert rule yet">Without rules, nobody hears about a DLQ that fills up.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="data">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Queue</th>
                    <th scope="col">Fires on</th>
                    <th scope="col">Cooldown</th>
                    <th scope="col">Re-notify</th>
                    <th scope="col">Channels</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Created</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((rule) => (
                    <tr key={rule.id}>
                      <th scope="row">{rule.name}</th>
                      <td>{rule.queue ?? <span class="muted">every queue</span>}</td>
                      <td class="wrap">{describeRule(rule)}</td>
                      <td>{formatSpan(rule.cooldownMs)}</td>
                      <td>
                        {rule.renotifyMs === null ? (
                          <span class="muted">once</span>
                        ) : (
                          `every ${formatSpan(rule.renotifyMs)}`
                        )}
                      </td>
                      <td>{rule.channels.map(channelText).join(', ')}</td>
                      <td>{rule.enabled ? 'yes' : 'no'}</td>
                      <td>
                        <Time at={rule.createdAt} /> by {rule.createdBy}
                      </td>
                      <td>
                        <button type="button" class="small" onClick={() => change(rule, 'toggle')}>
                          {rule.enabled ? 'Disable' : 'Enable'} {rule.name}
                        </button>{' '}
                        <button type="button" class="small" onClick={() => change(rule, 'remove')}>
                          Remove {rule.name}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
      <RuleForm onCreated={rules.reload} />
    </section>
  );
}

function RuleForm({ onCreated }: { onCreated: () => void }) {
  const queues = useQueueNames();
  const empty = {
    name: '',
    queue: '',
    kind: 'depth' as AlertRuleView['kind'],
    threshold: '',
    window: '',
    cooldown: '',
    renotify: '',
    channel: 'log' as 'log' | 'webhook' | 'slack',
    url: '',
  };
  const [draft, setDraft] = useState(empty);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const set = (key: keyof typeof empty) => (e: Event) =>
    setDraft((d) => ({ ...d, [key]: (e.target as HTMLInputElement).value }));
  const kind = KINDS.find((k) => k.kind === draft.kind);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.createAlertRule({
        name: draft.name.trim(),
        queue: draft.queue || null,
        kind: draft.kind,
        ...(draft.threshold.trim()
          ? {
              threshold: /^\d+$/.test(draft.threshold.trim())
                ? Number(draft.threshold)
                : draft.threshold.trim(),
            }
          : {}),
        ...(draft.window.trim() ? { window: draft.window.trim() } : {}),
        ...(draft.cooldown.trim() ? { cooldown: draft.cooldown.trim() } : {}),
        ...(draft.renotify.trim() ? { renotify: draft.renotify.trim() } : {}),
        channels: [
          draft.channel === 'log' ? { type: 'log' } : { type: draft.channel, url: draft.url.trim() },
        ],
      });
      setDraft(empty);
      onCreated();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card section-card" onSubmit={submit} aria-labelledby="add-rule">
      <h3 id="add-rule">Add a rule</h3>
      <div class="form-grid">
        <div class="field">
          <label for="ar-name">Name</label>
          <input id="ar-name" required maxLength={100} value={draft.name} onInput={set('name')} />
        </div>
        <div class="field">
          <label for="ar-queue">Queue</label>
          <select id="ar-queue" value={draft.queue} onChange={set('queue')}>
            <option value="">every queue</option>
            {queues.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ar-kind">Fires on</label>
          <select id="ar-kind" value={draft.kind} onChange={set('kind')}>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ar-threshold">
            Threshold <span class="hint">{kind?.threshold}</span>
          </label>
          <input id="ar-threshold" value={draft.threshold} onInput={set('threshold')} />
        </div>
        <div class="field">
          <label for="ar-window">
            Window <span class="hint">growth: required, e.g. 10m</span>
          </label>
          <input id="ar-window" value={draft.window} onInput={set('window')} />
        </div>
        <div class="field">
          <label for="ar-cooldown">
            Cooldown <span class="hint">default 30m</span>
          </label>
          <input id="ar-cooldown" value={draft.cooldown} onInput={set('cooldown')} />
        </div>
        <div class="field">
          <label for="ar-renotify">
            Re-notify <span class="hint">while firing, e.g. 1h; default once</span>
          </label>
          <input id="ar-renotify" value={draft.renotify} onInput={set('renotify')} />
        </div>
        <div class="field">
          <label for="ar-channel">Channel</label>
          <select id="ar-channel" value={draft.channel} onChange={set('channel')}>
            <option value="log">the server's log</option>
            <option value="webhook">webhook (JSON)</option>
            <option value="slack">Slack-compatible webhook</option>
          </select>
        </div>
        {draft.channel !== 'log' ? (
          <div class="field">
            <label for="ar-url">Webhook URL</label>
            <input id="ar-url" type="url" required value={draft.url} onInput={set('url')} />
          </div>
        ) : null}
      </div>
      <button type="submit" class="primary" disabled={busy || !draft.name.trim()}>
        {busy ? 'Adding…' : 'Add rule'}
      </button>
      {error ? <ErrorBox error={error} title="The rule was not added" /> : null}
    </form>
  );
}
