import { startControlPlane } from './control-plane.ts';

// `npm run control-plane`: a control plane for debugging by hand; Ctrl-C stops it.
const cp = await startControlPlane();
process.stdout.write(
  [
    '',
    `kube-apiserver: ${cp.server}`,
    `etcd:           ${cp.etcdUrl}`,
    `logs and data:  ${cp.dir}`,
    `PIDs:           ${cp.pids.join(' ')}`,
    '',
    `export KUBECONFIG=${cp.kubeconfigPath}`,
    `export PATH=${cp.binDir}:$PATH   # helm, etcdctl`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);
let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('[control-plane] stopping\n');
  cp.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`[control-plane] stop failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
