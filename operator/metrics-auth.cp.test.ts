import type { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKubeConfig } from '../test/control-plane/test-cluster.ts';
import { kubeConfigForToken, mintServiceAccountToken } from '../test/control-plane/tokens.ts';
import type { RunningOperator } from './manager.ts';
import { loadMetricsTls } from './metrics-tls.ts';
import { METRICS_AUTH_RULES, METRICS_READER_RULES, operatorClusterRole } from './rbac.ts';
import { startTestOperator, testOperatorConfig } from './test-support/control-plane.ts';
import { crdTestBed } from './test-support/test-bed.ts';

// Secure metrics on the real API server: the operator runs as a ServiceAccount with the
// chart's rules (manager + metrics auth), and scrapers are ServiceAccounts with and without
// the metrics-reader ClusterRole. Their tokens are real, minted with the TokenRequest API.

const { namespace, client: admin } = await crdTestBed('metrics-auth');
const rbac = '/apis/rbac.authorization.k8s.io/v1';
const names = {
  manager: `nio-manager-${namespace}`,
  auth: `nio-metrics-auth-${namespace}`,
  reader: `nio-metrics-reader-${namespace}`,
};
const tokens: Record<'operator' | 'prometheus' | 'nobody', string> = {
  operator: '',
  prometheus: '',
  nobody: '',
};
const operators: RunningOperator[] = [];
let dir: string;
// The self-signed certificate has no CA to check against; the cert-dir case verifies it.
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function bindCluster(role: string, rules: unknown, sa: string): Promise<void> {
  await admin.request('POST', `${rbac}/clusterroles`, { metadata: { name: role }, rules });
  await admin.request('POST', `${rbac}/clusterrolebindings`, {
    metadata: { name: role },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
  });
}

async function startAsOperator(
  overrides: Parameters<typeof testOperatorConfig>[1] = {},
): Promise<RunningOperator> {
  const kc = kubeConfigForToken(testKubeConfig(), tokens.operator, namespace);
  const operator = await startTestOperator(
    kc,
    testOperatorConfig([namespace], { metricsSecure: true, ...overrides }),
  );
  operators.push(operator);
  return operator;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'metrics-tls-'));
  for (const sa of Object.keys(tokens))
    await admin.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
      metadata: { name: sa },
    });
  await admin.request('POST', `${rbac}/clusterroles`, operatorClusterRole(names.manager));
  await admin.request('POST', `${rbac}/clusterrolebindings`, {
    metadata: { name: names.manager },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.manager },
    subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace }],
  });
  await bindCluster(names.auth, METRICS_AUTH_RULES, 'operator');
  await bindCluster(names.reader, METRICS_READER_RULES, 'prometheus');
  for (const sa of Object.keys(tokens) as Array<keyof typeof tokens>)
    tokens[sa] = await mintServiceAccountToken(testKubeConfig(), namespace, sa);
});
afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await insecure.close();
  for (const name of Object.values(names)) {
    await admin.delete(`${rbac}/clusterrolebindings/${name}`);
    await admin.delete(`${rbac}/clusterroles/${name}`);
  }
  await rm(dir, { recursive: true, force: true });
});

async function scrape(
  url: string,
  token: string | undefined,
  dispatcher: Agent = insecure,
): Promise<{ status: number; body: string }> {
  const res = await request(`${url}/metrics`, {
    dispatcher,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: await res.body.text() };
}

describe('secure metrics (TokenReview + SubjectAccessReview)', () => {
  it('serves HTTPS, and /metrics only to a token whose user may GET /metrics', async () => {
    const operator = await startAsOperator();
    expect(operator.metrics.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const none = await scrape(operator.metrics.url, undefined);
    expect(none.status).toBe(401);
    expect(none.body).toContain('Authorization: Bearer <token>');
    expect((await scrape(operator.metrics.url, 'not-a-token')).status).toBe(401);

    const forbidden = await scrape(operator.metrics.url, tokens.nobody);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('metrics-reader ClusterRole');

    const allowed = await scrape(operator.metrics.url, tokens.prometheus);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('controller_runtime_reconcile_total');
    // A second scrape is answered from the cache: same answer.
    expect((await scrape(operator.metrics.url, tokens.prometheus)).status).toBe(200);

    // The self-signed certificate names the loopback address it is reached by.
    const port = Number(new URL(operator.metrics.url).port);
    const cert = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        const peer = socket.getPeerX509Certificate();
        socket.end();
        if (peer === undefined) reject(new Error('no peer certificate'));
        else resolve(peer);
      });
      socket.on('error', reject);
    });
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkIssued(cert)).toBe(true);
  });

  it('serves the certificate of --metrics-cert-dir, which a client can verify', async () => {
    const tls = await loadMetricsTls(undefined, ['localhost', '127.0.0.1']);
    await writeFile(join(dir, 'tls.crt'), tls.cert);
    await writeFile(join(dir, 'tls.key'), tls.key);
    const operator = await startAsOperator({ metricsCertDir: dir });
    const verifying = new Agent({ connect: { ca: tls.cert } });
    try {
      expect((await scrape(operator.metrics.url, tokens.prometheus, verifying)).status).toBe(200);
    } finally {
      await verifying.close();
    }
    await expect(startAsOperator({ metricsCertDir: join(dir, 'missing') })).rejects.toThrow(
      /cannot read tls\.crt .*mount a kubernetes\.io\/tls Secret there/,
    );
  });
});
