import { describeStoreConformance } from '../../src/store/conformance/index.ts';
import { openStore } from '../../src/store/open.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

describeStoreConformance('sqlite file', async () => {
  const path = tempDbPath();
  const store = await openStore(`sqlite:${path}`, { migrate: true });
  return { store, cleanup: () => removeDb(path) };
});
