import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests play audio on real-time clocks and check timing to the frame; on a 2-core
    // machine two test files at once delay each other's timers by tens of ms, so files run one by one.
    fileParallelism: false,
  },
});
