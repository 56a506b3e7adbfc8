/** What globalSetup hands to test files through vitest's `provide`/`inject` (JSON only). */
export interface ProvidedControlPlane {
  readonly server: string;
  readonly kubeconfigPath: string;
  /** Admin kubeconfig YAML (system:masters). */
  readonly kubeconfig: string;
  readonly adminToken: string;
  readonly caPem: string;
  readonly etcdUrl: string;
  readonly binDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ProvidedControlPlane;
  }
}
