import fc from 'fast-check';

// In CI, property tests run from a fixed seed so that a landing never hinges on luck; on a
// developer's machine each run explores new cases (set FAST_CHECK_SEED to replay a failure).
const seed = process.env.FAST_CHECK_SEED ?? (process.env.CI ? '20261125' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
