import { afterAll } from 'vitest';
import { describeStoreConformance } from '../../src/store/conformance/index.ts';
import { migrateStore, openStore } from '../../src/store/open.ts';
import { dropSchemas, emptySchema, storeUrl, tempSchema } from './postgres-schema.ts';

// One schema for this file, migrated once (`dlq migrate`'s path) and emptied after each test:
// creating a schema per test costs the whole migration each time (0.1-0.5 s); emptying its
// tables, a few milliseconds.
const schema = tempSchema('dlconf');
let migrated: Promise<unknown> | undefined;

describeStoreConformance('postgres', async () => {
  migrated ??= migrateStore(storeUrl(schema));
  await migrated;
  const store = await openStore(storeUrl(schema));
  return { store, cleanup: () => emptySchema(schema) };
});

afterAll(() => dropSchemas(schema));
