import { readFileSync } from 'node:fs';

// `next-image <command> --help` and `next-image --version`, answered before the command's
// module is loaded: help must work where the command itself could not start (no config, no
// cluster), and must not pay for sharp or the Kubernetes client.

/** Each command's usage, the flags its parser accepts, and what they do. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  optimizer: `Usage: next-image optimizer --config <file.json> [--host <addr>] [--port <n>]

Serves /_next/image exactly as Next.js 16 does, plus /healthz, /readyz and /metrics.

  -c, --config <file>  the optimizer config (Platformatic's next.imageOptimizer, next.images,
                       next.imagesFrom, discovery, server, optimizer); every problem is
                       listed at start-up
      --host <addr>    listen address (default: the config's server.hostname, else 127.0.0.1)
      --port <n>       listen port (default: the config's server.port, else 3001)
  -h, --help           this text

Environment (secrets kept out of the file; one also set in the file is an error):
  NEXT_IMAGE_STORAGE_URL       next.imageOptimizer.storage.url (redis/valkey storage)
  NEXT_IMAGE_STORAGE_PASSWORD  the password of that url
  NEXT_IMAGE_PURGE_TOKEN       optimizer.purgeToken
`,
  gateway: `Usage: next-image gateway --config <file.json> [--host <addr>] [--port <n>] [--admin-port <n>] [--workers <n>]

Sends GET /_next/image to the optimizer and everything else to the frontend, configured
like Platformatic's gateway watt.json.

  -c, --config <file>     the gateway config; every problem is listed at start-up
      --host <addr>       listen address (default: the config's, else 127.0.0.1)
      --port <n>          listen port (default: the config's, else 3042)
      --admin-port <n>    /healthz, /readyz and /metrics (default: the config's admin.port, else 3043)
      --workers <n>       processes sharing the port (default: the config's, else 1)
  -h, --help              this text
`,
  dev: `Usage: next-image dev [--port <n>] [--fallback <url>] [--public <dir>] [--images-from <next-app-dir>]

A gateway, an optimizer and a frontend stand-in on one machine, with ready-to-paste curl
commands: the quickest way to see what the product does.

  -p, --port <n>        the gateway's port (default 3042; 0 for any free one)
      --fallback <url>  your running Next.js app (http://localhost:3000) instead of the samples
      --public <dir>    serve this folder as the frontend instead of the bundled samples
      --images-from <dir>  use the images config of this built Next.js app (as import-next
                        reads it; the samples' origin is allowed on top)
  -h, --help            this text
`,
  crd: `Usage: next-image crd [-o <file>]

Prints the ImageOptimizer CustomResourceDefinition, generated from the schema the operator
validates with.

  -o, --output <file>  write it to a file instead of stdout
  -h, --help           this text
`,
  prewarm: `Usage: next-image prewarm --gateway <url> (--urls <file|-> | --sitemap <url>) [options]

Requests every /_next/image variant a browser will ask for, through the gateway, so the shared
cache is full before the traffic comes. With --urls, one source a line (/relative or https://…)
becomes the URLs next/image's default loader builds: every width of the config × each quality
× each output format. With --sitemap, the sitemap's pages are read through the gateway and every
/_next/image URL of their src/srcset is requested. 503/429 are waited out as Retry-After says.
Prints a progress bar (a line per tenth when not a TTY) and a summary; exit 1 on any error.

  -g, --gateway <url>       the gateway (or one optimizer) to request through, e.g. http://127.0.0.1:3042
  -u, --urls <file|->       sources, one a line ("-" for stdin); blank lines and # comments skipped
      --sitemap <url>       a sitemap or sitemap index (a URL, or a path on the gateway)
  -c, --config <file>       an ImageOptimizer (YAML) or an optimizer config (JSON) whose images
                            settings give the widths, qualities and formats (default: Next.js 16's)
      --widths <list>       only these widths, e.g. 640,1080 (default: imageSizes + deviceSizes)
      --qualities <list>    these qualities, each mapped to the closest configured one (default 75)
      --accept <list>       one request per media type, e.g. image/avif,image/webp (default: formats)
      --deployment-id <id>  the build's NEXT_DEPLOYMENT_ID, added as &dpl= to relative sources
      --concurrency <n>     requests in flight (default 4)
      --retries <n>         times a 503/429 is waited out before it counts as an error (default 5)
      --dry-run             print the URLs (Accept, tab, URL) instead of requesting them
      --json                print the summary as JSON
  -h, --help                this text
`,
  render: `Usage: next-image render -f <cr.yaml|-> [-n <namespace>] [-o yaml|json] [--image <ref>] [--valkey-image <ref>] [--cluster-domain <d>] [--valkey-password <p>]

Prints what the operator would create for an ImageOptimizer, as plain YAML documents (no
anchors) or a JSON List, for GitOps without the operator.

  -f, --file <file>          the ImageOptimizer ("-" for stdin)
  -n, --namespace <ns>       its namespace, required when metadata.namespace is not set
  -o, --output <format>      yaml (default) or json
      --image <ref>          the next-image image (default: the operator's)
      --valkey-image <ref>   the Valkey image (default: the operator's)
      --cluster-domain <d>   the cluster's DNS domain (default cluster.local)
      --valkey-password <p>  the provisioned Valkey's password (default: random)
  -h, --help                 this text

Secret references (urlSecretRef, passwordSecretRef, purgeTokenSecretRef) become secretKeyRef
env vars. render cannot read Secrets, so it adds no secret hash: pods applied from its output
roll when the output changes, not when a Secret does. A password written inline in a storage
url is accepted with a warning on stderr.
`,
  'import-next': `Usage: next-image import-next <next-app-dir> [-o yaml|json] [--name <name> [-n <namespace>] [--fallback <service|url>]]

Reads the images config of a built Next.js app (.next/required-server-files.json, written by
\`next build\`; next.config itself is never run) and prints it as an ImageOptimizer's
spec.images, or as a whole ImageOptimizer with --name. Only keys that differ from Next.js 16's
defaults are printed; settings that change where next/image sends requests (unoptimized,
loader, loaderFile, path) are warned about on stderr. docs/nextjs.md walks through a move.

  <next-app-dir>             the app directory (or its .next, or a custom distDir)
  -o, --format <format>      yaml (default) or json
      --name <name>          print a whole ImageOptimizer with this metadata.name
  -n, --namespace <ns>       with --name: its metadata.namespace (default: none, kubectl's -n)
      --fallback <svc|url>   with --name: spec.imageOptimizer.fallback (default frontend)
  -h, --help                 this text
`,
  operator: `Usage: next-image operator [flags]

Reconciles ImageOptimizer resources into gateway and optimizer Deployments, Services and a
Valkey. Flags win over environment variables (docs/operator.md lists both).

      --namespaces <a,b>            namespaces to watch (default: all)
      --image <ref>                 default image of the pods it creates
      --valkey-image <ref>          default Valkey image
      --cluster-domain <d>          the cluster's DNS domain (default cluster.local)
      --bind-address <addr>         for the metrics and health ports (default 0.0.0.0)
      --metrics-port <n>            /metrics (default 8080)
      --metrics-secure <bool>       /metrics over HTTPS, only for bearer tokens whose user may GET
                                    /metrics (TokenReview + SubjectAccessReview); default true
      --metrics-cert-dir <dir>      tls.crt and tls.key for /metrics (default: self-signed at start)
      --health-port <n>             /healthz, /readyz (default 8081)
      --workers <n>                 reconciles at once (default 4)
      --resync-seconds <n>          reconcile everything again this often (default 300)
      --leader-elect                hold a Lease; only the holder reconciles
      --lease-namespace <ns>        the Lease's namespace (default: the ServiceAccount's)
      --lease-name <name>           the Lease's name (default next-image-operator)
      --identity <id>               this replica's name in the Lease (default: POD_NAME, hostname)
      --lease-duration-seconds <n>  default 15
      --renew-deadline-seconds <n>  default 10
      --retry-period-seconds <n>    default 2
      --log-level <level>           trace, debug, info, warn, error (default info)
      --kubeconfig <file>           default: ~/.kube/config, then the in-cluster ServiceAccount
  -h, --help                        this text
`,
};

/** Whether `argv` (after the command name) asks for help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** The package's version (package.json beside bin/, dist/ and the sources alike). */
export function packageVersion(): string {
  // cli/help.ts in the sources, dist/cli/help.js once built.
  const up = import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json';
  const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
