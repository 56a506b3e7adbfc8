import { describe, expect, it } from 'vitest';
import { loadOperatorConfig, OPERATOR_DEFAULTS } from './config.ts';

describe('loadOperatorConfig', () => {
  it('uses the defaults when nothing is given', () => {
    const c = loadOperatorConfig({}, { POD_NAMESPACE: 'ops', POD_NAME: 'op-0' });
    expect(c).toMatchObject({
      namespaces: [],
      image: OPERATOR_DEFAULTS.image,
      metricsPort: 8080,
      metricsSecure: true,
      healthPort: 8081,
      leaderElection: false,
      leaseNamespace: 'ops',
      identity: 'op-0',
      workers: 4,
    });
  });

  it.each([
    [
      'a flag over the environment',
      { image: 'flag/img:1' },
      { NEXT_IMAGE_IMAGE: 'env/img:1' },
      { image: 'flag/img:1' },
    ],
    [
      'the environment over the default',
      {},
      { NEXT_IMAGE_IMAGE: 'env/img:1', WATCH_NAMESPACES: 'a, b' },
      { image: 'env/img:1', namespaces: ['a', 'b'] },
    ],
    ['--leader-elect', { 'leader-elect': true }, {}, { leaderElection: true }],
    ['LEADER_ELECT=true', {}, { LEADER_ELECT: 'true' }, { leaderElection: true }],
    [
      'ports and workers',
      { 'metrics-port': '9090', 'health-port': '9091', workers: '8' },
      {},
      { metricsPort: 9090, healthPort: 9091, workers: 8 },
    ],
    [
      '--metrics-secure false and a cert dir',
      { 'metrics-secure': 'false', 'metrics-cert-dir': '/certs' },
      {},
      { metricsSecure: false, metricsCertDir: '/certs' },
    ],
    ['METRICS_SECURE=false', {}, { METRICS_SECURE: 'false' }, { metricsSecure: false }],
  ])('takes %s', (_name, flags, env, expected) => {
    expect(loadOperatorConfig(flags, env)).toMatchObject(expected);
  });

  it.each([
    ['a port that is not a number', { 'metrics-port': 'x' }],
    ['zero workers', { workers: '0' }],
    ['--metrics-secure that is not true or false', { 'metrics-secure': 'yes' }],
    ['an unknown log level', { 'log-level': 'loud' }],
  ])('rejects %s', (_name, flags) => {
    expect(() => loadOperatorConfig(flags, {})).toThrow();
  });
});
