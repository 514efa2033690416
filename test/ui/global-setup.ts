import { ensureUiBuilt } from '../../scripts/build-ui.ts';

/**
 * Vitest global setup: builds the dashboard (dist/ui) once before any test file runs, when it
 * is missing or older than its sources; the server tests and the browser tests serve it.
 */
export default async function setup(): Promise<void> {
  await ensureUiBuilt();
}
