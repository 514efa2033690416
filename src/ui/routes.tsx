import type { ComponentChildren } from 'preact';
import { Empty } from './components/common.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { type Location, match } from './router.ts';

/** The page for a location. */
export function routeFor(location: Location): ComponentChildren {
  const { path } = location;
  if (match('/', path)) return <OverviewPage />;
  return (
    <Empty title="No such page">
      <a href="/">Go to the overview</a>.
    </Empty>
  );
}
