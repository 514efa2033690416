import type { Clock } from '../core/clock.ts';
import { type DoctorReport, runDoctor } from '../core/doctor.ts';
import type { Group } from '../core/group.ts';
import type { QueueDocs } from '../core/queue-docs.ts';
import type { Store } from '../store/store.ts';

/** Most groups read per queue for the checks. */
const GROUPS_PER_QUEUE = 1000;

/** Gathers the snapshot `dlq doctor` judges (core/doctor.ts) and runs the checks. */
export async function gatherDoctor(deps: { store: Store; clock: Clock }): Promise<DoctorReport> {
  const { store } = deps;
  const queues = await store.queueList();
  const docs = new Map<string, QueueDocs>();
  const groupsByQueue = new Map<string, Group[]>();
  for (const queue of queues) {
    const [queueDocs, groups] = await Promise.all([
      store.queueDocsGet({ queue: queue.name }),
      store.groupList({ queue: queue.name, sort: 'count', limit: GROUPS_PER_QUEUE }),
    ]);
    if (queueDocs) docs.set(queue.name, queueDocs);
    groupsByQueue.set(queue.name, groups);
  }
  const atReplayLimit = await store.deadLetterListAtReplayLimit({ sampleSize: 5 });
  const alertRules = await store.alertRuleList();
  return runDoctor({ now: deps.clock.now(), queues, docs, groupsByQueue, atReplayLimit, alertRules });
}
