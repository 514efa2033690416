#!/usr/bin/env node
// The `dlq` binary: registers tsx so that the TypeScript sources (and .ts handler modules
// given to `dlq work --handler`) load without a build step, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
