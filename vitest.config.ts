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
            'test/cluster/**/*.test.ts',
          ],
          exclude: [
            '**/*.cp.test.ts',
            '**/*.cluster.test.ts',
            '**/*.cluster-cli.test.ts',
            '**/node_modules/**',
          ],
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
      {
        test: {
          name: 'cluster',
          // A real single-node cluster (containerd, kubelet, CoreDNS) in its own network
          // namespace, one per run, started through `npm run cluster` by the global setup.
          include: ['test/cluster/**/*.cluster.test.ts', 'test/e2e/**/*.cluster.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/cluster/global-setup.ts'],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
