import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the package by name, as a user's agent would; inside the repository that is src/.
  resolve: { alias: { 'gemini-phone-agent': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests play audio on real-time clocks and check timing to the frame; on a 2-core
    // machine two test files at once delay each other's timers by tens of ms, so files run one by one.
    fileParallelism: false,
  },
});
