import type { ComponentChildren } from 'preact';
import { Empty } from './components/common.tsx';
import { AlertsPage } from './pages/alerts.tsx';
import { AuditPage } from './pages/audit.tsx';
import { DeadLetterPage } from './pages/dead-letter.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { DiscardPage } from './pages/discard.tsx';
import { GroupPage } from './pages/group.tsx';
import { GroupsPage } from './pages/groups.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { QueuePage } from './pages/queue.tsx';
import { ReplayPage } from './pages/replay.tsx';
import { ReplayJobPage, ReplaysPage } from './pages/replays.tsx';
import { DoctorPage, ReviewPage } from './pages/reports.tsx';
import { type Location, match } from './router.ts';

type Render = (params: Record<string, string>, query: URLSearchParams) => ComponentChildren;

/** Every page by path pattern; `key`s make a page start fresh when its id or selection changes. */
const ROUTES: [string, Render][] = [
  ['/', () => <OverviewPage />],
  ['/queues/:name', (p) => <QueuePage key={p.name} name={p.name as string} />],
  ['/groups', (_p, q) => <GroupsPage query={q} />],
  ['/groups/:id', (p) => <GroupPage key={p.id} id={p.id as string} />],
  ['/dead-letters', (_p, q) => <DeadLettersPage query={q} />],
  ['/dead-letters/:id', (p) => <DeadLetterPage key={p.id} id={p.id as string} />],
  ['/replay', (_p, q) => <ReplayPage key={q.toString()} query={q} />],
  ['/replays', () => <ReplaysPage />],
  ['/replays/:id', (p) => <ReplayJobPage key={p.id} id={p.id as string} />],
  ['/discard', (_p, q) => <DiscardPage key={q.toString()} query={q} />],
  ['/audit', (_p, q) => <AuditPage query={q} />],
  ['/alerts', (_p, q) => <AlertsPage query={q} />],
  ['/doctor', () => <DoctorPage />],
  ['/review', () => <ReviewPage />],
];

/** The page for a location. */
export function routeFor(location: Location): ComponentChildren {
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, location.path);
    if (params) return render(params, location.query);
  }
  return (
    <Empty title="No such page">
      <a href="/">Go to the overview</a>.
    </Empty>
  );
}
