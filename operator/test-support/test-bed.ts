import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { freshNamespace, testKubeConfig } from '../../test/control-plane/test-cluster.ts';
import type { OperatorConfig } from '../config.ts';
import type { RunningOperator } from '../manager.ts';
import { installCrd, KubeClient, startTestOperator, testOperatorConfig } from './control-plane.ts';

// vitest hooks for the operator's control-plane tests; kept apart from control-plane.ts,
// which the benchmark imports too.

/** What one test file works in: its own namespace and an admin client. */
export interface TestBed {
  namespace: string;
  kc: KubeConfig;
  client: KubeClient;
}

/** A fresh namespace and admin client for one test file; the CRD is installed before its tests. */
export async function crdTestBed(prefix: string): Promise<TestBed> {
  const namespace = await freshNamespace(prefix);
  const kc = testKubeConfig();
  const client = new KubeClient(kc);
  beforeAll(async () => {
    await installCrd(client);
  });
  return { namespace, kc, client };
}

/**
 * Runs an in-process operator over `namespace` for the file's tests (started after the CRD is
 * installed, stopped after the last test); returns a getter for use inside tests.
 */
export function operatorForFile(
  kc: KubeConfig,
  namespace: string,
  overrides: Partial<OperatorConfig> = {},
): () => RunningOperator {
  let operator: RunningOperator | undefined;
  beforeAll(async () => {
    operator = await startTestOperator(kc, testOperatorConfig([namespace], overrides));
  });
  afterAll(async () => {
    await operator?.stop();
  });
  return () => {
    if (operator === undefined) throw new Error('the operator has not started');
    return operator;
  };
}
