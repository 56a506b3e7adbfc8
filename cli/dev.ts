import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptimizerConfig } from '../api/optimizer-config.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { readNextBuild } from '../lib/next-build.ts';
import { translateNextImages } from '../lib/next-images.ts';
import { closeOnSignals, type RunningServer } from '../lib/server.ts';
import { listImages, startStaticServer } from '../lib/static-server.ts';
import { resolveOptimizerConfig } from '../optimizer/config.ts';
import { startOptimizer } from '../optimizer/server.ts';
import { resolveGatewayConfig } from '../proxy/config.ts';
import { addressInUse } from '../proxy/errors.ts';
import { type RunningGateway, startGateway } from '../proxy/server.ts';
import { parseCommandArgs, parsePort, UsageError } from './args.ts';

const HOST = '127.0.0.1';
// assets/ sits at the package root: one level up from cli/dev.ts in the sources, two from
// the compiled dist/cli/dev.js.
const SAMPLES = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.ts') ? '../assets/samples/' : '../../assets/samples/',
    import.meta.url,
  ),
);
/** A width and quality the optimizer accepts: Next's defaults' 1080 and 75 where allowed. */
function example(config: OptimizerConfig): string {
  const { deviceSizes, qualities } = config.next.images;
  const w = deviceSizes.includes(1080) ? 1080 : (deviceSizes.at(-1) ?? 1080);
  const q = qualities.includes(75) ? 75 : (qualities[0] ?? 75);
  return `w=${w}&q=${q}`;
}

/** The guide's gateway watt.json, section 3, verbatim. */
const GUIDE_GATEWAY = {
  applications: [
    { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
    { id: 'fallback', proxy: { prefix: '/', routes: ['/*'] } },
  ],
};

interface DevFlags {
  port: number;
  fallback: string | undefined;
  publicDir: string;
  imagesFrom: string | undefined;
}

/** The flags `next-image dev` accepts (cli/help.ts describes each). */
export const DEV_FLAGS = {
  port: { type: 'string', short: 'p' },
  fallback: { type: 'string' },
  public: { type: 'string' },
  'images-from': { type: 'string' },
} as const;

function parseFlags(argv: string[]): DevFlags {
  const { values } = parseCommandArgs(argv, DEV_FLAGS);
  const fallback = typeof values.fallback === 'string' ? values.fallback : undefined;
  if (fallback !== undefined && !/^https?:\/\/[^/]+/.test(fallback)) {
    throw new UsageError(
      `--fallback must be an http(s) URL such as http://localhost:3000, got "${fallback}"`,
    );
  }
  if (fallback !== undefined && values.public !== undefined) {
    throw new UsageError(
      '--public serves files in place of a frontend: use it or --fallback, not both',
    );
  }
  return {
    port: parsePort(values.port) ?? 3042,
    fallback: fallback?.replace(/\/+$/, ''),
    publicDir: resolve(typeof values.public === 'string' ? values.public : SAMPLES),
    imagesFrom: typeof values['images-from'] === 'string' ? values['images-from'] : undefined,
  };
}

async function checkDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory())
    throw new UsageError(`--public ${dir} is not a directory`);
}

/** The images config of the Next.js build --images-from names (warnings to stderr), or none. */
async function importedImages(dir: string | undefined): Promise<Record<string, unknown>> {
  if (dir === undefined) return {};
  const build = await readNextBuild(dir);
  const { images, warnings } = translateNextImages(build);
  for (const warning of [...build.warnings, ...warnings])
    process.stderr.write(`next-image dev: warning: ${warning}\n`);
  return images;
}

/** The optimizer config `dev` runs: the guide's (or the app's images), plus the samples' origin. */
function optimizerConfig(
  fallbackUrl: string,
  remote: URL,
  imported: Record<string, unknown>,
): unknown {
  const patterns = Array.isArray(imported.remotePatterns) ? imported.remotePatterns : [];
  return {
    next: {
      imageOptimizer: { enabled: true, fallback: 'fallback' },
      images: {
        ...imported,
        // Dev only: the absolute-URL example points at a loopback server, which the SSRF
        // guard refuses unless local IPs are allowed; the remote pattern limits that to it.
        dangerouslyAllowLocalIP: true,
        remotePatterns: [
          ...patterns,
          { protocol: 'http', hostname: remote.hostname, port: remote.port, pathname: '/**' },
        ],
      },
    },
    discovery: { apps: { fallback: fallbackUrl } },
  };
}

function banner(
  gateway: RunningGateway,
  flags: DevFlags,
  samples: RunningServer,
  images: string[],
  query: string,
): string {
  const sample = images[0] ?? 'your-image.png';
  const relative = flags.fallback === undefined ? `/${sample}` : '/your-image.png';
  const absolute = `${samples.url}/${sample}`;
  const image = (url: string): string =>
    `${gateway.url}/_next/image?url=${encodeURIComponent(url)}&${query}`;
  const lines = [
    '',
    'next-image dev is running',
    '',
    `  gateway    ${gateway.url}`,
    `  fallback   ${flags.fallback ?? `${gateway.upstreams.get('fallback')?.origin ?? ''} (static files from ${flags.publicDir})`}`,
    `  optimizer  ${gateway.upstreams.get('optimizer')?.origin ?? ''}`,
    `  admin      ${gateway.adminUrl}/metrics  /healthz  /readyz`,
    '',
    `Relative image (fetched from the fallback through fallback.plt.local)${flags.fallback === undefined ? '' : ' — use a path your app serves'}:`,
    `  curl -sS -o /dev/null -D - -H 'Accept: image/webp' '${image(relative)}'`,
    '',
    'Absolute image (fetched directly):',
    `  curl -sS -o /dev/null -D - -H 'Accept: image/webp' '${image(absolute)}'`,
    '',
    `Dev only: images.dangerouslyAllowLocalIP is on, and remotePatterns allows ${flags.imagesFrom === undefined ? 'just ' : `${flags.imagesFrom}'s patterns and `}${samples.url}/**`,
    `Open ${gateway.url}/ for ${flags.fallback === undefined ? 'the sample page' : 'your app'}. Ctrl-C stops everything.`,
    '',
  ];
  return lines.join('\n');
}

/** Starts the three servers in order; closes what started if a later one fails. */
async function startStack(
  flags: DevFlags,
  logger: Logger,
): Promise<{ servers: RunningServer[]; text: string }> {
  const imported = await importedImages(flags.imagesFrom);
  const started: RunningServer[] = [];
  try {
    // Sample images are always served: they are the absolute-URL example's origin.
    const samples = await startStaticServer(flags.publicDir, { host: HOST, port: 0, logger });
    started.push(samples);
    const fallbackUrl = flags.fallback ?? samples.url;
    const config = resolveOptimizerConfig(
      optimizerConfig(fallbackUrl, new URL(samples.url), imported),
      flags.imagesFrom === undefined ? 'dev optimizer config' : `--images-from ${flags.imagesFrom}`,
    );
    const optimizer = await startOptimizer(config, { host: HOST, port: 0, logger });
    started.unshift(optimizer);
    const gateway = await startGateway(
      resolveGatewayConfig(
        {
          gateway: GUIDE_GATEWAY,
          discovery: { apps: { optimizer: optimizer.url, fallback: fallbackUrl } },
        },
        'dev gateway config',
      ),
      { host: HOST, port: flags.port, adminPort: 0, logger },
    );
    started.unshift(gateway);
    return {
      servers: started,
      text: banner(gateway, flags, samples, await listImages(flags.publicDir), example(config)),
    };
  } catch (error: unknown) {
    for (const server of started) await server.close();
    throw error;
  }
}

/** `next-image dev [--port 3042] [--fallback <url>] [--public <dir>]` */
export async function runDev(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  await checkDirectory(flags.publicDir);
  // Warnings only: the banner is the interface here, request logs would bury it.
  const logger = createLogger('dev', 'warn');
  const { servers, text } = await startStack(flags, logger).catch((error: unknown) => {
    const inUse = addressInUse(error);
    throw inUse === undefined
      ? error
      : new UsageError(`${inUse} (pass --port <n>, or --port 0 for any)`);
  });
  process.stdout.write(`${text}\n`);
  // Gateway first, so nothing new arrives while the optimizer and fallback drain.
  const stack = {
    close: async (): Promise<void> => {
      for (const server of servers) await server.close();
    },
  };
  closeOnSignals([stack], 10_000, logger);
}
