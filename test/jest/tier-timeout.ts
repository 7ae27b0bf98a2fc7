import { jest } from '@jest/globals';

// jest reads `testTimeout` only from the top-level config, so each tier passes its own through `globals`
// (jest.config.mjs). jest has one timeout for a test and for each hook around it.
const { TIER_TIMEOUT_MS } = globalThis as { TIER_TIMEOUT_MS?: number };
if (TIER_TIMEOUT_MS) jest.setTimeout(TIER_TIMEOUT_MS);
