import { defineConfig } from 'vitest/config';

// Test tiers (see ../shared/DESIGN.md §5). Each tier is a vitest project so that a
// tier's global setup (a Redis, a control plane) starts only when that tier runs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit-and-data-plane',
          include: ['{api,lib,optimizer,proxy,operator,cli,test/data-plane}/**/*.test.ts'],
          exclude: ['**/*.cp.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
