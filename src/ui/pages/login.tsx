import { useState } from 'preact/hooks';
import { api, type Session } from '../api.ts';
import { ErrorBox } from '../components/common.tsx';

/** Asks for an API token, checks it with the server, and hands it over. */
export function LoginPage({ onSignedIn }: { onSignedIn: (token: string, session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    setError(undefined);
    try {
      const session = await api.session(value);
      onSignedIn(value, session);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <form class="card login-card" onSubmit={submit}>
        <h1>Deadletter</h1>
        <p class="muted">
          Sign in with an API token. <code>dlq serve</code> prints an admin token on its first start; create
          others with <code>dlq token create --name you --role viewer|operator|admin</code>.
        </p>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          placeholder="dlq_…"
          required
        />
        <button type="submit" class="primary" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {error ? <ErrorBox error={error} title="Sign-in refused" /> : null}
        <p class="muted small-print">
          The token is kept in this tab only (session storage) and sent to this server only.
        </p>
      </form>
    </main>
  );
}
