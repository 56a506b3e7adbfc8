import { defineConfig } from 'vitest/config';

// Test tiers (see ../shared/DESIGN.md §5). Each tier is a vitest project so that a
// tier's global setup (a Redis, a control plane) starts only when that tier runs.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit-and-data-plane',
          include: [
            '{api,lib,optimizer,proxy,operator,cli,test/data-plane}/**/*.test.ts',
            // packaging (issue 7): production install, Argo CD health check, e2e skip, generated docs/chart
            'test/{package,argocd,e2e,docs,chart}/**/*.test.ts',
          ],
          exclude: ['**/*.cp.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'control-plane',
          include: [
            'test/control-plane/**/*.test.ts',
            'operator/**/*.cp.test.ts',
            'test/chart/**/*.cp.test.ts',
          ],
          exclude: ['**/node_modules/**'],
          // Starts etcd + kube-apiserver + kube-controller-manager once per run; on a
          // machine without the cached binaries it first builds them (many minutes).
          globalSetup: ['test/control-plane/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
