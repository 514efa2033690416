import { v7 } from 'uuid';

/** A new unique id, ordered by creation time (UUIDv7), used for messages and dead letters. */
export function newId(): string {
  return v7();
}
