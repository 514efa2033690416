// A dry run does all of a change inside its transaction, then throws to roll it back: the
// result travels on the error, out of the transaction, to the caller. The same in every store.

/** Thrown inside a transaction to roll a dry run back, with the result it computed. */
class DryRunRollback<T> extends Error {
  constructor(readonly result: T) {
    super('dry run: rolled back');
  }
}

/** Inside a transaction: the result to commit, or (a dry run) a throw that rolls it back. */
export function commitUnlessDryRun<T>(result: T, dryRun: boolean | undefined): T {
  if (dryRun) throw new DryRunRollback(result);
  return result;
}

/** Around a transaction: the result of a dry run that rolled it back, or the error thrown again. */
export function dryRunResult<T>(error: unknown): T {
  if (error instanceof DryRunRollback) return error.result as T;
  throw error;
}
