import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests pace audio on a real-time clock; two cores, so keep file parallelism modest.
    maxWorkers: 2,
  },
});
