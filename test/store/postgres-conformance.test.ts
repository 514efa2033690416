import { afterAll } from 'vitest';
import { describeStoreConformance } from '../../src/store/conformance/index.ts';
import { openStore } from '../../src/store/open.ts';
import { dropSchemas, storeUrl, tempSchema } from './postgres-schema.ts';

// A fresh schema per test, migrated by openStore: the same path a new deployment takes.
const created: string[] = [];

describeStoreConformance('postgres', async () => {
  const schema = tempSchema('dlconf');
  created.push(schema);
  const store = await openStore(storeUrl(schema), { migrate: true });
  return { store, cleanup: () => dropSchemas(schema) };
});

afterAll(() => dropSchemas(...created));
