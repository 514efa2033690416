import './styles.css';
import { type ComponentChildren, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Session, setUnauthorizedHandler, storedToken, storeToken } from './api.ts';
import { ErrorBox, Loading } from './components/common.tsx';
import { applySavedTheme, Layout } from './components/layout.tsx';
import { LoginPage } from './pages/login.tsx';
import { navigate, onLinkClick, useLocation } from './router.ts';
import { routeFor } from './routes.tsx';
import { SessionContext } from './session.ts';

/**
 * The dashboard: a login screen until a token is accepted, then the pages. Everything it
 * shows comes from the HTTP API with that token; every string from a message is rendered as
 * text (Preact escapes it), and Markdown only through the sanitising renderer.
 */
function App() {
  const location = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(storedToken() ? undefined : null);
  const [startError, setStartError] = useState<unknown>();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      storeToken(null);
      setSession(null);
    });
    const token = storedToken();
    if (!token) return;
    api.session(token).then(setSession, (error: unknown) => {
      if ((error as { status?: number }).status === 401) {
        storeToken(null);
        setSession(null);
      } else setStartError(error);
    });
  }, []);

  useEffect(() => {
    document.addEventListener('click', onLinkClick);
    return () => document.removeEventListener('click', onLinkClick);
  }, []);

  if (startError) {
    return (
      <main id="main" class="login">
        <ErrorBox error={startError} title="The server did not answer" />
        <button type="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </main>
    );
  }
  if (session === undefined) return <Loading what="the dashboard" />;
  if (session === null) {
    return (
      <LoginPage
        onSignedIn={(token, signedIn) => {
          storeToken(token);
          setSession(signedIn);
        }}
      />
    );
  }
  const signOut = () => {
    storeToken(null);
    setSession(null);
    navigate('/');
  };
  const page: ComponentChildren = routeFor(location);
  return (
    <SessionContext.Provider value={session}>
      <Layout session={session} path={location.path} onSignOut={signOut}>
        {page}
      </Layout>
    </SessionContext.Provider>
  );
}

applySavedTheme();
const root = document.getElementById('app');
if (root) render(<App />, root);
