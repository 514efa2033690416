import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api.ts';
import { Badge } from './common.tsx';

const NAV: { href: string; label: string }[] = [
  { href: '/', label: 'Overview' },
  { href: '/groups', label: 'Groups' },
  { href: '/dead-letters', label: 'Dead letters' },
  { href: '/replays', label: 'Replays' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/audit', label: 'Audit log' },
  { href: '/doctor', label: 'Doctor' },
  { href: '/review', label: 'Review' },
];

type Theme = 'light' | 'dark' | 'system';
const THEME_KEY = 'deadletter.theme';

function savedTheme(): Theme {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** Applies the saved theme before the first paint (called from main.tsx). */
export function applySavedTheme(): void {
  const theme = savedTheme();
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(savedTheme);
  useEffect(() => {
    try {
      if (theme === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Storage disabled: the choice lasts as long as the page.
    }
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
  const next: Record<Theme, Theme> = { system: 'dark', dark: 'light', light: 'system' };
  return (
    <button
      type="button"
      class="small ghost"
      onClick={() => setTheme(next[theme])}
      title="Switch between the system's theme, dark and light"
    >
      Theme: {theme}
    </button>
  );
}

function isActive(href: string, path: string): boolean {
  if (href === '/') return path === '/' || path.startsWith('/queues/');
  return path === href || path.startsWith(`${href}/`) || (href === '/replays' && path === '/replay');
}

/** The frame of every page: the header with navigation, who is signed in, the theme and sign-out. */
export function Layout({
  session,
  path,
  onSignOut,
  children,
}: {
  session: Session;
  path: string;
  onSignOut: () => void;
  children: ComponentChildren;
}) {
  const menu = useRef<HTMLDetailsElement>(null);
  // The compact menu closes once a link in it took the user somewhere.
  useEffect(() => {
    if (menu.current) menu.current.open = false;
  }, [path]);
  const links = NAV.map((item) => (
    <li key={item.href}>
      <a href={item.href} aria-current={isActive(item.href, path) ? 'page' : undefined}>
        {item.label}
      </a>
    </li>
  ));
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Deadletter
        </a>
        <nav class="nav-wide" aria-label="Main">
          <ul>{links}</ul>
        </nav>
        <details class="nav-menu" ref={menu}>
          <summary>Menu</summary>
          <nav aria-label="Main (compact)">
            <ul>{links}</ul>
          </nav>
        </details>
        <div class="who">
          <span class="who-name" title={`signed in with the token "${session.name}"`}>
            {session.name}
          </span>
          <Badge kind="role" value={session.role} />
          <ThemeToggle />
          <button type="button" class="small ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
