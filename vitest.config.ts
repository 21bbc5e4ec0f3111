import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'libs/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'cli/src/**/*.test.ts',
      'tests/**/*.test.ts',
      'scripts/*.test.ts',
    ],
    // argon2id at 64 MiB takes ~0.1 s a call here, and every file runs beside others on 2 cores:
    // leave room on a busy machine. Timeouts catch hangs, not slowness.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report is what .ci/run counts from; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
