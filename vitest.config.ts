import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Unit tests (beside the code) isolate pure logic or start a small server on port 0: their
        // files run in parallel, before the integration files.
        test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'dist/**', 'test/integration/**'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // Integration tests start real redis-server / nginx / node processes; on a 2-core machine
        // running them concurrently distorts them, so files run one at a time, after the unit files.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
