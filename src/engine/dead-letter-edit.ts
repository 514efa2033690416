import type { Clock } from '../core/clock.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import { formatTombstone } from '../core/discard.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { diffJson, type JsonChange } from '../core/json-diff.ts';
import type { Json } from '../core/message.ts';
import type { Store } from '../store/store.ts';

/** What `Deadletter.editDeadLetter` did. */
export interface DeadLetterEditResult {
  /** The dead letter after the edit (unchanged when `changes` is empty). */
  deadLetter: DeadLetter;
  /** The body before this edit. */
  previousBody: Json;
  /** What changed, path by path; empty when the new body equals the current one (nothing was written). */
  changes: JsonChange[];
}

/**
 * Replaces the body of one dead letter before it is replayed. A body equal to the current one
 * changes nothing and writes no edit. Throws NotFoundError for an id not in the DLQ (a
 * discarded one says by whom, when and why) and ValidationError for a body that is not JSON
 * or too large (`checkBody`).
 */
export async function editDeadLetterBody(
  deps: { store: Store; clock: Clock; actor: string; checkBody: (body: unknown) => void },
  id: string,
  body: Json,
): Promise<DeadLetterEditResult> {
  deps.checkBody(body);
  const current = await deps.store.deadLetterGet({ id });
  if (!current) throw await notInDlq(deps.store, id);
  const changes = diffJson(current.body, body);
  if (changes.length === 0) return { deadLetter: current, previousBody: current.body, changes };
  const deadLetter = await deps.store.deadLetterEdit({ id, body, actor: deps.actor, now: deps.clock.now() });
  return { deadLetter, previousBody: current.body, changes: diffJson(current.body, deadLetter.body) };
}

/** The error for an id that is not a dead letter in the DLQ, saying what became of it when known. */
export async function notInDlq(store: Store, id: string): Promise<NotFoundError | ValidationError> {
  const tombstone = await store.tombstoneGet({ id });
  if (tombstone) return new ValidationError(`dead letter "${id}" was ${formatTombstone(tombstone)}`);
  return new NotFoundError(`unknown dead letter "${id}": it is not in the DLQ`);
}
