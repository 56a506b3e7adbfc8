import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from './errors.ts';
import { applyFailure, type ObservedRoute, routeState } from './routing-status.ts';
import { computeStatus, type Observed } from './status.ts';

const available = (n: number): V1Deployment => ({
  metadata: { generation: 1 },
  spec: { replicas: n, selector: {}, template: {} },
  status: {
    observedGeneration: 1,
    replicas: n,
    updatedReplicas: n,
    availableReplicas: n,
    readyReplicas: n,
  },
});
const now = new Date('2026-11-24T06:00:00.123Z');
const route = (
  parents: Array<{ conditions: Array<Record<string, unknown>> }>,
  generation = 2,
): ObservedRoute => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop', generation },
  status: {
    parents: parents.map((p) => ({ parentRef: { name: 'public', namespace: 'infra' }, ...p })),
  },
});
const cond = (type: string, status: string, reason: string, observedGeneration = 2) => ({
  type,
  status,
  reason,
  message: `${type} says ${reason}`,
  observedGeneration,
});

describe('routeState', () => {
  it.each([
    ['not applied yet', undefined, 'progressing'],
    ['no Gateway has written status (none runs)', route([]), 'available'],
    ['accepted', route([{ conditions: [cond('Accepted', 'True', 'Accepted')] }]), 'available'],
    [
      'pending at the Gateway',
      route([{ conditions: [cond('Accepted', 'False', 'Pending')] }]),
      'progressing',
    ],
    [
      'refused by the listener',
      route([{ conditions: [cond('Accepted', 'False', 'NotAllowedByListeners')] }]),
      'failed',
    ],
    [
      'a backend that does not exist',
      route([
        {
          conditions: [
            cond('Accepted', 'True', 'Accepted'),
            cond('ResolvedRefs', 'False', 'BackendNotFound'),
          ],
        },
      ]),
      'failed',
    ],
    [
      'a refusal of an older generation',
      route([{ conditions: [cond('Accepted', 'False', 'NotAllowedByListeners', 1)] }]),
      'available',
    ],
  ])('%s → %s', (_name, r, state) => {
    expect(routeState(r).state).toBe(state);
  });

  it('names the parent and the reason when it fails', () => {
    const r = route([{ conditions: [cond('Accepted', 'False', 'NotAllowedByListeners')] }]);
    expect(routeState(r).detail).toBe(
      'HTTPRoute shop: infra/public: Accepted NotAllowedByListeners: Accepted says NotAllowedByListeners',
    );
  });
});

describe('applyFailure', () => {
  const httpRoute = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' };
  const notFound = new KubeApiError(
    'PATCH /apis/gateway.networking.k8s.io/v1/…: 404 NotFound',
    404,
    'NotFound',
  );

  it('says to install the Gateway API when the HTTPRoute API is not served', () => {
    const failure = applyFailure({
      objects: new Map(),
      created: [],
      error: notFound,
      failedObject: httpRoute,
    });
    expect(failure.reason).toBe('GatewayAPIMissing');
    expect(failure.message).toContain('install its CRDs');
  });

  it('is ApplyFailed with the API message for anything else', () => {
    const error = new KubeApiError('PATCH x: 403 Forbidden: no', 403, 'Forbidden');
    expect(
      applyFailure({ objects: new Map(), created: [], error, failedObject: httpRoute }),
    ).toEqual({ reason: 'ApplyFailed', message: 'PATCH x: 403 Forbidden: no' });
    expect(
      applyFailure({
        objects: new Map(),
        created: [],
        error: notFound,
        failedObject: { kind: 'Service', apiVersion: 'v1' },
      }).reason,
    ).toBe('ApplyFailed');
  });
});

describe('computeStatus in routing modes httpRoute and ingress', () => {
  const base: Observed = {
    generation: 4,
    optimizer: available(2),
    gatewayWanted: false,
    valkeyWanted: false,
    gatewayDnsAddress: 'http://shop-gateway.web.svc.cluster.local',
    storage: 'memory',
    selector: 'a=b',
  };
  const conds = (o: Observed): string[] =>
    (computeStatus(o, undefined, now).conditions ?? []).map(
      (c) => `${c.type}=${c.status}/${c.reason}`,
    );

  it('is Ready without a gateway Deployment and reports no gateway address', () => {
    const s = computeStatus(base, undefined, now);
    expect(conds(base)).toContain('Ready=True/Available');
    expect(s.gatewayAddress).toBeUndefined();
    expect(s.gatewayReadyReplicas).toBeUndefined();
    expect(s.optimizerReplicas).toBe('2/2');
  });

  it('is Stalled when a Gateway refuses the HTTPRoute, Ready once it accepts it', () => {
    const refused = route(
      [{ conditions: [cond('Accepted', 'False', 'NotAllowedByListeners', 1)] }],
      1,
    );
    expect(conds({ ...base, routeWanted: true, route: refused })).toEqual([
      'Ready=False/RouteNotAccepted',
      'Progressing=False/RouteNotAccepted',
      'Degraded=True/RouteNotAccepted',
      'Reconciling=False/RouteNotAccepted',
      'Stalled=True/RouteNotAccepted',
    ]);
    const accepted = route([{ conditions: [cond('Accepted', 'True', 'Accepted', 1)] }], 1);
    expect(conds({ ...base, routeWanted: true, route: accepted })).toContain(
      'Ready=True/Available',
    );
  });

  it.each([
    ['available', base],
    ['rolling out', { ...base, optimizer: undefined }],
    [
      'failed',
      {
        ...base,
        routeWanted: true,
        route: route([{ conditions: [cond('Accepted', 'False', 'NoMatchingParent', 1)] }], 1),
      },
    ],
    ['apply failed', { ...base, failure: { reason: 'GatewayAPIMissing', message: 'install it' } }],
  ])('every condition carries observedGeneration when %s', (_name, o) => {
    const conditions = computeStatus(o as Observed, undefined, now).conditions ?? [];
    expect(conditions.map((c) => c.type)).toEqual([
      'Ready',
      'Progressing',
      'Degraded',
      'Reconciling',
      'Stalled',
    ]);
    for (const c of conditions) expect(c.observedGeneration, c.type).toBe(4);
  });
});
