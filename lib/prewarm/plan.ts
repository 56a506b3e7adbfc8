// What a prewarm requests: the /_next/image URLs next/image's default loader would build for a
// list of sources, or the ones a page's HTML already names in its srcset. Pure functions, so
// the CLI and the optimizer's admin route build exactly the same URLs (and so the same cache
// keys) as browsers will ask for.

/** The image settings a prewarm plan needs (a subset of next.config `images`). */
export interface PlanImages {
  deviceSizes: readonly number[];
  imageSizes: readonly number[];
  qualities: readonly number[];
  formats: readonly string[];
}

/** One request of a prewarm: a path+query below the gateway and the Accept header to send. */
export interface PrewarmTarget {
  path: string;
  accept: string;
}

/** What to request for each source: explicit lists win over the config's. */
export interface PlanOptions {
  widths?: readonly number[];
  qualities?: readonly number[];
  accept?: readonly string[];
  /** NEXT_DEPLOYMENT_ID of the build, appended as &dpl= to relative sources as Next does. */
  deploymentId?: string;
}

/** Next's findClosestQuality: the configured quality nearest to the one asked (75 by default). */
export function closestQuality(quality: number, qualities: readonly number[]): number {
  const first = qualities[0];
  if (first === undefined) return quality;
  return qualities.reduce(
    (best, q) => (Math.abs(q - quality) < Math.abs(best - quality) ? q : best),
    first,
  );
}

/** The URL next/image's default loader makes for one source, width and quality. */
export function loaderPath(src: string, width: number, quality: number, dpl?: string): string {
  const relative = src.startsWith('/') && !src.startsWith('//');
  const deployment = relative && dpl !== undefined && dpl !== '' ? `&dpl=${dpl}` : '';
  return `/_next/image?url=${encodeURIComponent(src)}&w=${width}&q=${quality}${deployment}`;
}

/**
 * One Accept header per output variant a browser can end up with: each configured format
 * alone (a browser that accepts it gets it, negotiated in config order), unless given.
 */
export function acceptVariants(images: PlanImages, accept?: readonly string[]): string[] {
  if (accept !== undefined && accept.length > 0) return [...new Set(accept)];
  return images.formats.length > 0 ? [...new Set(images.formats)] : ['*/*'];
}

/** Every request for `sources`: widths × qualities × Accept variants, deduplicated, in order. */
export function planSources(
  sources: readonly string[],
  images: PlanImages,
  options: PlanOptions = {},
): PrewarmTarget[] {
  const widths = options.widths ?? [...new Set([...images.imageSizes, ...images.deviceSizes])];
  const qualities = [
    ...new Set((options.qualities ?? [75]).map((q) => closestQuality(q, images.qualities))),
  ];
  const accepts = acceptVariants(images, options.accept);
  const seen = new Set<string>();
  const targets: PrewarmTarget[] = [];
  for (const src of sources) {
    for (const width of [...widths].sort((a, b) => a - b)) {
      for (const quality of qualities) {
        for (const accept of accepts) {
          const path = loaderPath(src, width, quality, options.deploymentId);
          const key = `${accept} ${path}`;
          if (seen.has(key)) continue;
          seen.add(key);
          targets.push({ path, accept });
        }
      }
    }
  }
  return targets;
}

/** Sources from a `--urls` file: one a line; blank lines and `#` comments skipped. */
export function parseSourceList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Which lines of a source list cannot be a next/image src (neither /path nor http(s) URL). */
export function invalidSources(sources: readonly string[]): string[] {
  return sources.filter((src) => {
    if (src.startsWith('/')) return src.startsWith('//');
    try {
      const { protocol } = new URL(src);
      return protocol !== 'http:' && protocol !== 'https:';
    } catch {
      return true;
    }
  });
}

// The sitemap protocol is a flat list of <loc> elements (sitemaps.org): reading them takes
// one pattern, and an XML parser would add a dependency for no behaviour we need.
const LOC = /<loc>\s*([^<]+?)\s*<\/loc>/gi;

/** The <loc> URLs of a sitemap or sitemap index, entities decoded; `index` when it is one. */
export function sitemapLocations(xml: string): { index: boolean; urls: string[] } {
  const urls = [...xml.matchAll(LOC)].map((m) => decodeEntities(m[1] ?? ''));
  return { index: /<sitemapindex[\s>]/i.test(xml), urls };
}

const SRC_ATTRIBUTE = /\s(srcset|imagesrcset|src|href)\s*=\s*("([^"]*)"|'([^']*)')/gi;

/**
 * Every /_next/image URL a page names in src, srcset, imagesrcset (preload links) or href,
 * as a path+query; absolute URLs only when on `pageOrigin` (the gateway serves them).
 */
export function imagePathsInHtml(html: string, pageOrigin: string): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(SRC_ATTRIBUTE)) {
    const name = (match[1] ?? '').toLowerCase();
    const value = decodeEntities(match[3] ?? match[4] ?? '');
    const candidates = name.endsWith('srcset')
      ? value.split(',').map((part) => part.trim().split(/\s+/)[0] ?? '')
      : [value.trim()];
    for (const candidate of candidates) {
      const path = imagePath(candidate, pageOrigin);
      if (path !== undefined) found.add(path);
    }
  }
  return [...found];
}

function imagePath(candidate: string, pageOrigin: string): string | undefined {
  if (candidate === '') return undefined;
  let url: URL;
  try {
    url = new URL(candidate, pageOrigin);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(pageOrigin).origin) return undefined;
  return url.pathname === '/_next/image' && url.searchParams.has('url')
    ? `${url.pathname}${url.search}`
    : undefined;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** The five XML entities and numeric references (what sitemaps and srcsets carry). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X'))
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}
