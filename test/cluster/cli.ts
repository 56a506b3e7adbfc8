import { startCluster } from './cluster.ts';
import { ensureImages } from './images.ts';

// `npm run cluster`: a real single-node cluster in its own network namespace, in the
// foreground until Ctrl-C (or SIGTERM), which stops it and puts the host back.
const HELP = `Usage: npm run cluster [-- --no-images]

Starts a real single-node Kubernetes (etcd, API server, controllers, scheduler,
containerd, kubelet, kube-proxy, CoreDNS) inside its own network namespace, prints
KUBECONFIG=, NETNS=, CONTAINERD= and "cluster ready", and runs until Ctrl-C or SIGTERM,
which stops it and puts the host back. See test/cluster/README.md.

  --no-images  do not build and import the product, sample frontend and Valkey images
               (npm run image -- --all); only the cluster's own add-ons
  --help       this text
`;
const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write(HELP);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--no-images');
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown[0]}\n${HELP}`);
  process.exit(2);
}
const started = Date.now();
const images = args.includes('--no-images') ? [] : await ensureImages();
const cluster = await startCluster({ images });
process.stdout.write(
  [
    `KUBECONFIG=${cluster.kubeconfigPath}`,
    `NETNS=${cluster.netnsPath}`,
    `CONTAINERD=${cluster.containerdSocket}`,
    `# kubectl: nsenter --net=${cluster.netnsPath} ${cluster.binDir}/kubectl --kubeconfig=${cluster.kubeconfigPath} get pods -A`,
    `# started in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    'cluster ready',
    '',
  ].join('\n'),
);
let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('[cluster] stopping\n');
  cluster.stop().then(
    (problems) => {
      for (const p of problems) process.stderr.write(`[cluster] left behind: ${p}\n`);
      process.exit(problems.length === 0 ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`[cluster] stop failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
// The process helpers' own signal handlers SIGKILL every daemon at once (the right last
// resort for a test runner); here Ctrl-C means a clean stop, so ours replace them. Their
// 'exit' handler stays as the safety net.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
process.on('SIGHUP', shutdown);
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
