import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeStatus, deploymentState, type Observed, sameStatus } from './status.ts';

const dep = (replicas: number, status: V1Deployment['status'], generation = 1): V1Deployment => ({
  metadata: { generation },
  spec: { replicas, selector: {}, template: {} },
  status: { observedGeneration: generation, ...status },
});
const available = (n: number): V1Deployment =>
  dep(n, { replicas: n, updatedReplicas: n, availableReplicas: n, readyReplicas: n });

const base: Observed = {
  generation: 3,
  optimizer: available(2),
  gateway: available(1),
  valkeyWanted: false,
  gatewayDnsAddress: 'http://shop-gateway.web.svc.cluster.local:80',
  storage: 'memory',
  selector: 'a=b',
};
const now = new Date('2026-11-24T06:00:00.123Z');
const conds = (o: Observed): string[] =>
  (computeStatus(o, undefined, now).conditions ?? []).map(
    (c) => `${c.type}=${c.status}/${c.reason}`,
  );

describe('deploymentState', () => {
  it.each([
    ['missing', undefined, 'progressing'],
    ['fully available', available(2), 'available'],
    [
      'not observed yet',
      dep(2, { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 2),
      'available',
    ],
    ['generation ahead of status', { ...available(2), metadata: { generation: 5 } }, 'progressing'],
    [
      'old pods still there',
      dep(2, { replicas: 3, updatedReplicas: 2, availableReplicas: 2 }),
      'progressing',
    ],
    [
      'too few available',
      dep(2, { replicas: 2, updatedReplicas: 2, availableReplicas: 1 }),
      'progressing',
    ],
    ['scaled to zero', dep(0, {}), 'available'],
    [
      'deadline exceeded',
      dep(1, {
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
      'failed',
    ],
    [
      'replica failure',
      dep(1, { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' }] }),
      'failed',
    ],
  ])('%s → %s', (_name, d, state) => {
    expect(deploymentState('x', d as V1Deployment | undefined).state).toBe(state);
  });
});

describe('computeStatus', () => {
  it.each([
    [
      'all available',
      base,
      [
        'Ready=True/Available',
        'Progressing=False/Complete',
        'Degraded=False/AsExpected',
        'Reconciling=False/Complete',
        'Stalled=False/AsExpected',
      ],
    ],
    [
      'optimizer rolling out',
      { ...base, optimizer: dep(2, { replicas: 2, updatedReplicas: 1, availableReplicas: 1 }) },
      [
        'Ready=False/RollingOut',
        'Progressing=True/RollingOut',
        'Degraded=False/AsExpected',
        'Reconciling=True/RollingOut',
        'Stalled=False/AsExpected',
      ],
    ],
    [
      'Valkey wanted but missing',
      { ...base, valkeyWanted: true },
      [
        'Ready=False/RollingOut',
        'Progressing=True/RollingOut',
        'Degraded=False/AsExpected',
        'Reconciling=True/RollingOut',
        'Stalled=False/AsExpected',
      ],
    ],
    [
      'a deployment failed',
      {
        ...base,
        gateway: dep(1, {
          conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' }],
        }),
      },
      [
        'Ready=False/DeploymentFailed',
        'Progressing=False/DeploymentFailed',
        'Degraded=True/DeploymentFailed',
        'Reconciling=False/DeploymentFailed',
        'Stalled=True/DeploymentFailed',
      ],
    ],
    [
      'apply failed',
      { ...base, failure: { reason: 'ApplyFailed', message: 'forbidden' } },
      [
        'Ready=False/ApplyFailed',
        'Progressing=False/ApplyFailed',
        'Degraded=True/ApplyFailed',
        'Reconciling=False/ApplyFailed',
        'Stalled=True/ApplyFailed',
      ],
    ],
  ])('%s', (_name, observed, expected) => {
    expect(conds(observed)).toEqual(expected);
  });

  it('sets observedGeneration, replicas, selector, storage and the address', () => {
    const s = computeStatus(base, undefined, now);
    expect(s).toMatchObject({
      observedGeneration: 3,
      replicas: 2,
      readyReplicas: 2,
      selector: 'a=b',
      storage: 'memory',
      gatewayAddress: 'http://shop-gateway.web.svc.cluster.local:80',
      gatewayReadyReplicas: 1,
    });
    expect(
      s.conditions?.every(
        (c) => c.observedGeneration === 3 && c.lastTransitionTime === '2026-11-24T06:00:00Z',
      ),
    ).toBe(true);
  });

  it('prefers the load balancer address', () => {
    const s = computeStatus(
      {
        ...base,
        gatewayService: {
          spec: { ports: [{ port: 80 }] },
          status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
        },
      },
      undefined,
      now,
    );
    expect(s.gatewayAddress).toBe('http://203.0.113.7');
  });

  it('moves lastTransitionTime only when a condition flips', () => {
    const first = computeStatus(base, undefined, now);
    const later = new Date('2026-11-24T07:00:00Z');
    const same = computeStatus(base, first, later);
    expect(same.conditions?.map((c) => c.lastTransitionTime)).toEqual(
      first.conditions?.map((c) => c.lastTransitionTime),
    );
    expect(sameStatus(first, same)).toBe(true);
    const flipped = computeStatus(
      { ...base, optimizer: dep(2, { replicas: 2, updatedReplicas: 2, availableReplicas: 1 }) },
      first,
      later,
    );
    const ready = flipped.conditions?.find((c) => c.type === 'Ready');
    const degraded = flipped.conditions?.find((c) => c.type === 'Degraded');
    expect(ready?.lastTransitionTime).toBe('2026-11-24T07:00:00Z');
    expect(degraded?.lastTransitionTime).toBe('2026-11-24T06:00:00Z');
    expect(sameStatus(first, flipped)).toBe(false);
  });
});
