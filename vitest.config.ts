import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The default reporter only counts skipped tests; this one also says why (test/support/skip-reasons-reporter.ts).
    reporters: ['default', './test/support/skip-reasons-reporter.ts'],
  },
});
