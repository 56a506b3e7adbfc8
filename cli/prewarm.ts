import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { ImageOptimizerSchema } from '../api/image-optimizer.ts';
import { ImagesConfigSchema } from '../api/images-config.ts';
import { ConfigError, formatIssues } from '../lib/config-file.ts';
import {
  imagePathsInHtml,
  invalidSources,
  type PlanImages,
  type PrewarmTarget,
  parseSourceList,
  planSources,
  sitemapLocations,
} from '../lib/prewarm/plan.ts';
import {
  PREWARM_DEFAULTS,
  type PrewarmFetch,
  type PrewarmProgress,
  type PrewarmSummary,
  runPrewarm,
} from '../lib/prewarm/runner.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** The flags `next-image prewarm` accepts (cli/help.ts describes each). */
export const PREWARM_FLAGS = {
  gateway: { type: 'string', short: 'g' },
  urls: { type: 'string', short: 'u' },
  sitemap: { type: 'string' },
  config: { type: 'string', short: 'c' },
  widths: { type: 'string' },
  qualities: { type: 'string' },
  accept: { type: 'string' },
  'deployment-id': { type: 'string' },
  concurrency: { type: 'string' },
  retries: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Sitemap indexes are followed this deep (an index of indexes is already unusual). */
const MAX_SITEMAP_DEPTH = 3;
/** Pages read from sitemaps, at most (a million-product shop splits them over many runs). */
const MAX_PAGES = 50_000;

/** `next-image prewarm --gateway <url> --urls <file|->` or `--sitemap <url>`. */
export async function runPrewarmCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, PREWARM_FLAGS);
  const gateway = gatewayUrl(values.gateway);
  const hasUrls = typeof values.urls === 'string';
  const hasSitemap = typeof values.sitemap === 'string';
  if (hasUrls === hasSitemap)
    throw new UsageError('pass exactly one of --urls <file|-> and --sitemap <url>');
  const concurrency = positiveInt(
    values.concurrency,
    '--concurrency',
    PREWARM_DEFAULTS.concurrency,
  );
  const retries = positiveInt(values.retries, '--retries', PREWARM_DEFAULTS.retries, 0);
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  try {
    const targets = hasUrls
      ? await targetsFromSources(values, await readSources(String(values.urls)))
      : await targetsFromSitemap(gateway, String(values.sitemap), values, agent);
    if (values['dry-run'] === true) {
      for (const t of targets) process.stdout.write(`${t.accept}\t${gateway}${t.path}\n`);
      return;
    }
    const progress = progressReporter(targets.length);
    const summary = await runPrewarm(targets, {
      fetch: httpFetch(gateway, agent),
      concurrency,
      retries,
      maxRetryAfterMs: PREWARM_DEFAULTS.maxRetryAfterMs,
      onProgress: progress.update,
    });
    progress.end();
    process.stdout.write(
      values.json === true ? `${JSON.stringify(summary)}\n` : formatSummary(summary),
    );
    if (summary.errors > 0) process.exitCode = 1;
  } finally {
    await agent.close();
  }
}

function gatewayUrl(value: string | boolean | undefined): string {
  if (typeof value !== 'string')
    throw new UsageError('pass the gateway (or an optimizer) with --gateway http://host:port');
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.origin;
  } catch {
    throw new UsageError(
      `--gateway must be an http(s) URL such as http://127.0.0.1:3042, got "${value}"`,
    );
  }
}

function positiveInt(
  value: string | boolean | undefined,
  flag: string,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'string' ||
    !/^[0-9]+$/.test(value) ||
    Number(value) < min ||
    Number(value) > 1000
  )
    throw new UsageError(
      `${flag} must be a whole number from ${min} to 1000, got "${String(value)}"`,
    );
  return Number(value);
}

function numberList(
  value: string | boolean | undefined,
  flag: string,
  max: number,
): number[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim());
  const bad = items.filter((s) => !/^[0-9]+$/.test(s) || Number(s) < 1 || Number(s) > max);
  if (bad.length > 0 || items.length === 0)
    throw new UsageError(
      `${flag} takes comma-separated whole numbers from 1 to ${max}, e.g. ${flag} ${flag === '--widths' ? '640,1080' : '75,90'}; bad: ${bad.join(', ')}`,
    );
  return items.map(Number);
}

async function readSources(file: string): Promise<string[]> {
  const text =
    file === '-'
      ? await readStream(process.stdin)
      : await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read --urls ${file} (${error.code ?? 'unknown error'})`);
        });
  const sources = parseSourceList(text);
  const invalid = invalidSources(sources);
  if (invalid.length > 0)
    throw new ConfigError(
      file,
      invalid.slice(0, 20).map((s) => `"${s}" is neither a /relative path nor an http(s) URL`),
    );
  if (sources.length === 0) throw new UsageError(`--urls ${file} lists no sources`);
  return sources;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The images settings from --config (an ImageOptimizer or an optimizer config), else Next's defaults. */
async function planImages(file: string | boolean | undefined): Promise<PlanImages> {
  if (typeof file !== 'string') return ImagesConfigSchema.parse({});
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read --config ${file} (${error.code ?? 'unknown error'})`);
  });
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error: unknown) {
    throw new ConfigError(file, [error instanceof Error ? error.message : String(error)]);
  }
  const doc = (raw ?? {}) as { kind?: unknown; next?: { images?: unknown } };
  if (doc.kind === 'ImageOptimizer') {
    const cr = ImageOptimizerSchema.safeParse(raw);
    if (!cr.success) throw new ConfigError(file, formatIssues(cr.error.issues));
    return cr.data.spec.images;
  }
  const images = ImagesConfigSchema.safeParse(doc.next?.images ?? {});
  if (!images.success)
    throw new ConfigError(
      file,
      formatIssues(images.error.issues).map((line) => line.replace(/^\$/, '$.next.images')),
    );
  return images.data;
}

async function targetsFromSources(
  values: Record<string, string | boolean | undefined>,
  sources: string[],
): Promise<PrewarmTarget[]> {
  const images = await planImages(values.config);
  return planSources(sources, images, {
    widths: numberList(values.widths, '--widths', 10_000),
    qualities: numberList(values.qualities, '--qualities', 100),
    accept: acceptList(values.accept),
    deploymentId: typeof values['deployment-id'] === 'string' ? values['deployment-id'] : undefined,
  });
}

function acceptList(value: string | boolean | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.filter((s) => !/^[a-z*]+\/[a-z0-9.+*-]+$/i.test(s));
  if (bad.length > 0 || items.length === 0)
    throw new UsageError(
      `--accept takes comma-separated media types, each one variant (e.g. image/avif,image/webp); bad: ${bad.join(', ')}`,
    );
  return items;
}

/**
 * The /_next/image URLs the sitemap's pages name. Pages are read through the gateway (their
 * path and query on --gateway), so the run needs no public DNS and sees what the app renders.
 */
async function targetsFromSitemap(
  gateway: string,
  sitemap: string,
  values: Record<string, string | boolean | undefined>,
  agent: Agent,
): Promise<PrewarmTarget[]> {
  const pages = new Set<string>();
  const visit = async (location: string, depth: number): Promise<void> => {
    const xml = await getText(viaGateway(gateway, location), agent, 'sitemap');
    const { index, urls } = sitemapLocations(xml);
    for (const url of urls) {
      if (index && depth < MAX_SITEMAP_DEPTH) await visit(url, depth + 1);
      else if (!index && pages.size < MAX_PAGES) pages.add(viaGateway(gateway, url));
    }
  };
  await visit(sitemap, 0);
  if (pages.size === 0) throw new UsageError(`the sitemap ${sitemap} lists no pages`);
  const accepts = acceptList(values.accept) ?? (await planImages(values.config)).formats;
  const paths = new Set<string>();
  let read = 0;
  for (const page of pages) {
    for (const path of imagePathsInHtml(await getText(page, agent, 'page'), gateway))
      paths.add(path);
    if (process.stderr.isTTY) process.stderr.write(`\rreading pages ${++read}/${pages.size}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  const variants = accepts.length > 0 ? accepts : ['*/*'];
  return [...paths].flatMap((path) => variants.map((accept) => ({ path, accept })));
}

/** A sitemap <loc> (absolute, or a path) as the same path and query on the gateway. */
function viaGateway(gateway: string, location: string): string {
  const url = new URL(location, gateway);
  return `${gateway}${url.pathname}${url.search}`;
}

async function getText(url: string, agent: Agent, what: string): Promise<string> {
  const res = await request(url, {
    dispatcher: agent,
    headers: { accept: 'text/html,application/xml' },
  });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    throw new UsageError(
      `the ${what} ${url} answered ${res.statusCode}; check --gateway and --sitemap`,
    );
  return text;
}

function httpFetch(gateway: string, agent: Agent): PrewarmFetch {
  return async (target, signal) => {
    const res = await request(`${gateway}${target.path}`, {
      dispatcher: agent,
      headers: { accept: target.accept },
      signal,
    });
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    const header = (name: string): string | undefined => {
      const value = res.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    return {
      status: res.statusCode,
      cache: header('x-nextjs-cache'),
      retryAfter: header('retry-after'),
      bytes,
    };
  };
}

/** A bar on a TTY; elsewhere one line per tenth done, so CI logs show it moving. */
function progressReporter(total: number): {
  update: (p: Readonly<PrewarmProgress>) => void;
  end: () => void;
} {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let lastDraw = 0;
  const line = (p: Readonly<PrewarmProgress>): string =>
    `${p.done}/${total} · ${p.hits} hits · ${p.misses} misses · ${p.errors} errors`;
  return {
    update: (p) => {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && p.done < total) return;
        lastDraw = now;
        const width = 24;
        const filled = total === 0 ? width : Math.round((p.done / total) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(p)}`);
        return;
      }
      const tenth = total === 0 ? 10 : Math.floor((p.done / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`prewarm: ${line(p)}\n`);
      }
    },
    end: () => {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** The summary printed at the end (pure). */
export function formatSummary(s: PrewarmSummary): string {
  const mb = (s.bytes / 1e6).toFixed(1);
  const lines = [
    `prewarmed ${s.total} URLs in ${(s.elapsedMs / 1000).toFixed(1)} s: ${s.hits} hits, ${s.misses} misses, ${s.stale} stale, ${s.errors} errors, ${mb} MB, ${s.retries} retries after 503/429`,
    ...s.failures.map(
      (f) => `  error: ${f.status ?? '-'} ${f.message} — ${f.path} (Accept: ${f.accept})`,
    ),
  ];
  if (s.errors > s.failures.length)
    lines.push(`  … and ${s.errors - s.failures.length} more errors`);
  return `${lines.join('\n')}\n`;
}
