import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The admin plane serves the built portal: build it first when missing or stale.
    globalSetup: ['services/admin/web/build-if-stale.ts'],
    include: [
      'libs/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'cli/src/**/*.test.ts',
      'tests/**/*.test.ts',
      'scripts/*.test.ts',
    ],
    // argon2id at 64 MiB takes ~0.1 s a call here, and every file runs beside others on 2 cores:
    // leave room on a busy machine. Timeouts catch hangs, not slowness.
    // Three files at a time on 2 cores: most files wait on child processes, PostgreSQL and
    // nats-server, so vitest's default here (cores − 1 = one file at a time) left the CPU half idle
    // (1,031 s). Tests hold their own ports, databases, streams and namespaces, so files may overlap.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report is what .ci/run counts from; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
