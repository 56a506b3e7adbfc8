import type { KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImageOptimizerSchema } from '../api/image-optimizer.ts';
import { installCrds } from '../test/control-plane/crds.ts';
import {
  ensureMonitoringTools,
  MONITORING_BUILD_TIMEOUT_MS,
  type MonitoringTools,
} from '../test/control-plane/monitoring-tools.ts';
import { controlPlane } from '../test/control-plane/test-cluster.ts';
import { KubeApiError } from './errors.ts';
import { MONITORING_KINDS, resourcePath } from './kube/kinds.ts';
import { PROMETHEUS_OPERATOR_MISSING } from './monitoring.ts';
import { render } from './render/render.ts';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  patchSpec,
  waitReady,
} from './test-support/control-plane.ts';
import { crdTestBed, operatorForFile } from './test-support/test-bed.ts';

// spec.monitoring on the real API server with the Prometheus Operator's CRDs (v0.93.0, generated
// from its API module by test/control-plane/build-monitoring.sh): first without them (the CR
// says to install them, the rest still runs), then with them. The tests run in order: the
// second installs the CRDs for the whole control plane, and no other file needs them absent.

const { namespace, kc, client } = await crdTestBed('monitoring');
operatorForFile(kc, namespace);
const [POD_MONITORS, PROMETHEUS_RULES] = MONITORING_KINDS as [
  (typeof MONITORING_KINDS)[0],
  (typeof MONITORING_KINDS)[0],
];
const monitoring = {
  podMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus-stack' } },
  prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
};
let tools: MonitoringTools;

beforeAll(async () => {
  tools = await ensureMonitoringTools();
}, MONITORING_BUILD_TIMEOUT_MS);

const get = (kind: typeof POD_MONITORS, name: string) =>
  client.get<KubernetesObject & { spec?: Record<string, unknown> }>(
    resourcePath(kind, namespace, name),
  );

describe('spec.monitoring', () => {
  it('without the Prometheus Operator CRDs: Ready=False saying to install them; the workloads still run', async () => {
    const served = await client.get(
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/podmonitors.monitoring.coreos.com',
    );
    expect(served, 'another test file installed the monitoring CRDs first').toBeUndefined();
    await createCr(
      client,
      imageOptimizer(namespace, 'watched', {
        imageOptimizer: { fallback: 'frontend' },
        monitoring,
      }),
    );
    const cr = await eventually(async () => {
      const got = await client.get<CrObject>(crPath(namespace, 'watched'));
      return conditionOf(got, 'Ready')?.reason === PROMETHEUS_OPERATOR_MISSING ? got : undefined;
    }, 'Ready=False with reason PrometheusOperatorMissing');
    expect(conditionOf(cr, 'Ready')?.status).toBe('False');
    expect(conditionOf(cr, 'Ready')?.message).toMatch(/install the Prometheus Operator CRDs/);
    expect(conditionOf(cr, 'Stalled')?.reason).toBe(PROMETHEUS_OPERATOR_MISSING);
    expect(
      await client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/watched-optimizer`),
    ).toBeDefined();
  });

  it('with the CRDs installed: the PodMonitor and PrometheusRule are applied, owned, and the CR is Ready', async () => {
    const cp = controlPlane();
    await installCrds(
      { server: cp.server, caPem: cp.caPem, token: cp.adminToken },
      [tools.crd('podmonitors'), tools.crd('prometheusrules')],
      60_000,
    );
    const cr = await waitReady(client, namespace, 'watched', 90_000);
    const monitor = await get(POD_MONITORS, 'watched-next-image');
    expect(monitor?.metadata?.labels?.release).toBe('kube-prometheus-stack');
    expect(monitor?.metadata?.ownerReferences?.[0]?.uid).toBe(cr.metadata?.uid);
    expect(monitor?.spec).toMatchObject({
      podMetricsEndpoints: [{ port: 'http', interval: '15s' }, { port: 'admin' }],
    });
    const rule = await get(PROMETHEUS_RULES, 'watched-next-image');
    const groups = rule?.spec?.groups as Array<{ rules: Array<{ alert: string }> }>;
    expect(groups[0]?.rules.map((r) => r.alert)).toContain('NextImageErrorRatioHigh');
  }, 120_000);

  it('passes a server-side dry-run of what render produces, and the CRD schema rejects a bad object', async () => {
    const cr = ImageOptimizerSchema.parse({
      apiVersion: 'nextimage.dev/v1alpha1',
      kind: 'ImageOptimizer',
      metadata: { name: 'dry', namespace },
      spec: {
        imageOptimizer: { fallback: 'frontend' },
        monitoring: { podMonitor: { enabled: true }, prometheusRule: { enabled: true } },
      },
    });
    const rendered = render(cr, {
      image: 'example.test/next-image:1',
      valkeyImage: 'example.test/valkey:8',
      clusterDomain: 'cluster.local',
      valkeyPassword: 'x',
    }).objects.filter((o) => o.apiVersion === 'monitoring.coreos.com/v1');
    expect(rendered.map((o) => o.kind).sort()).toEqual(['PodMonitor', 'PrometheusRule']);
    const dryRun = (o: KubernetesObject) => {
      const kind = MONITORING_KINDS.find((k) => k.kind === o.kind) ?? POD_MONITORS;
      const query = 'fieldManager=next-image-tests&dryRun=All&fieldValidation=Strict';
      return client.request(
        'PATCH',
        `${resourcePath(kind, namespace, o.metadata?.name)}?${query}`,
        o,
        'application/apply-patch+yaml',
      );
    };
    for (const object of rendered) await dryRun(object);
    expect(await get(POD_MONITORS, 'dry-next-image')).toBeUndefined(); // dry-run stored nothing

    const [monitor] = rendered as Array<KubernetesObject & { spec: Record<string, unknown> }>;
    const bad = {
      ...monitor,
      spec: { ...monitor?.spec, podMetricsEndpoints: [{ port: 'http', interval: 'soon' }] },
    };
    const refused = await dryRun(bad as KubernetesObject).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).message).toMatch(/interval/);
  });

  it('deletes the PodMonitor when podMonitor is turned off, keeps the PrometheusRule', async () => {
    await patchSpec(client, namespace, 'watched', {
      monitoring: { podMonitor: { enabled: false } },
    });
    await eventually(
      async () =>
        (await get(POD_MONITORS, 'watched-next-image')) === undefined ? true : undefined,
      'the PodMonitor to be deleted',
    );
    expect(await get(PROMETHEUS_RULES, 'watched-next-image')).toBeDefined();
  });
});
