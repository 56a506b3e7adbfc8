import { isDeepStrictEqual } from 'node:util';
import { NEXT_IMAGES_DEFAULTS } from '../api/images-config.ts';

// Turns the `images` block of a built Next.js app (`.next/required-server-files.json`, where
// Next has already applied its defaults, turned `new URL(…)` remote patterns into objects and
// appended the patterns it adds itself) into our `images` config: the same keys, only those
// that differ from Next 16's defaults, so the result reads like what the team wrote.

/** The parts of a built Next.js config the translation reads. */
export interface NextBuiltConfig {
  images: Record<string, unknown>;
  /** `basePath` ('' when unset). */
  basePath?: string;
  /** `assetPrefix` ('' when unset; Next sets it to basePath when only basePath is given). */
  assetPrefix?: string;
}

/** What the translation gives: our `images` keys, and what the user should know. */
export interface TranslatedImages {
  images: Record<string, unknown>;
  warnings: string[];
}

/** Keys copied as they are, when they differ from Next 16's default. */
const COPIED = [
  'deviceSizes',
  'imageSizes',
  'qualities',
  'formats',
  'minimumCacheTTL',
  'dangerouslyAllowSVG',
  'contentSecurityPolicy',
  'contentDispositionType',
  'maximumRedirects',
  'maximumResponseBody',
  'dangerouslyAllowLocalIP',
] as const;

/** Keys Next writes into the build that change nothing about how /_next/image answers. */
const BUILD_ONLY = new Set(['disableStaticImages', 'sizes']);

const DEFAULT_PATH = '/_next/image';
/** What Next appends to any configured localPatterns (our optimizer appends them too). */
const STATIC_MEDIA = ['/_next/static/media/**', '/_next/static/immutable/media/**'];

/** Translates a built Next.js images config into our `images` config (pure). */
export function translateNextImages(config: NextBuiltConfig): TranslatedImages {
  const source = config.images;
  const images: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const key of COPIED) {
    const value = source[key];
    if (value !== undefined && !isDeepStrictEqual(value, NEXT_IMAGES_DEFAULTS[key]))
      images[key] = value;
  }
  const remote = remotePatterns(source.remotePatterns);
  if (remote.length > 0) images.remotePatterns = remote;
  const local = localPatterns(source.localPatterns);
  if (local !== undefined) images.localPatterns = local;
  if (Array.isArray(source.domains) && source.domains.length > 0) {
    images.domains = source.domains;
    warnings.push(
      'images.domains is deprecated since Next.js 14; it is kept, but remotePatterns ({hostname: "…"}) says the same more precisely',
    );
  }
  warnings.push(...routingWarnings(config), ...unknownKeys(source));
  return { images, warnings };
}

/** Remote patterns as objects; a URL string (what `new URL(…)` becomes in JSON) is split as Next splits a URL. */
function remotePatterns(value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  return value.map((pattern: unknown) => {
    if (typeof pattern !== 'string') return pattern;
    let url: URL;
    try {
      url = new URL(pattern);
    } catch {
      return pattern; // left for the schema to reject with its own message
    }
    return {
      protocol: url.protocol.replace(/:$/, ''),
      hostname: url.hostname,
      port: url.port,
      pathname: url.pathname,
      search: url.search,
    };
  });
}

/**
 * Local patterns without what Next adds by itself: unset becomes `[{pathname:'**', search:''}]`
 * in the build, and a configured list gets the two static-media patterns appended. Our
 * optimizer does the same, so both are left out and the result is what the user wrote.
 */
function localPatterns(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value)) return undefined;
  if (isDeepStrictEqual(value, [{ pathname: '**', search: '' }])) return undefined;
  return value.filter(
    (p: unknown) =>
      !(
        typeof p === 'object' &&
        p !== null &&
        STATIC_MEDIA.includes((p as { pathname?: string }).pathname ?? '') &&
        (p as { search?: string }).search === ''
      ),
  );
}

/** Settings that decide whether (and where) next/image calls /_next/image at all. */
function routingWarnings(config: NextBuiltConfig): string[] {
  const source = config.images;
  const warnings: string[] = [];
  if (source.unoptimized === true)
    warnings.push(
      'images.unoptimized is true: next/image links the original files and never calls /_next/image, so the optimizer gets no requests until you remove it',
    );
  const loader = typeof source.loader === 'string' ? source.loader : 'default';
  const loaderFile = typeof source.loaderFile === 'string' ? source.loaderFile : '';
  if (loader !== 'default' || loaderFile !== '')
    warnings.push(
      `images.loader is "${loader}"${loaderFile === '' ? '' : ` (loaderFile ${loaderFile})`}: next/image builds image URLs with it, not /_next/image; remove it, or make the loader return /_next/image?url=…&w=…&q=… (docs/nextjs.md)`,
    );
  const path = typeof source.path === 'string' ? source.path : DEFAULT_PATH;
  const basePath = config.basePath ?? '';
  if (loader === 'default' && path.replace(/\/$/, '') !== DEFAULT_PATH) {
    const why = basePath !== '' && path.startsWith(basePath) ? ` (basePath ${basePath})` : '';
    warnings.push(
      `images.path is "${path}"${why}: next/image requests go there; route that path to the optimizer's /_next/image (docs/nextjs.md)`,
    );
  }
  if (source.customCacheHandler === true)
    warnings.push(
      'images.customCacheHandler is not translated: the optimizer caches in its own storage (imageOptimizer.storage)',
    );
  return warnings;
}

/** Keys this translation does not know, so nothing is dropped silently. */
function unknownKeys(source: Record<string, unknown>): string[] {
  const known = new Set<string>([
    ...COPIED,
    ...BUILD_ONLY,
    'remotePatterns',
    'localPatterns',
    'domains',
    'unoptimized',
    'loader',
    'loaderFile',
    'path',
    'customCacheHandler',
  ]);
  return Object.keys(source)
    .filter((key) => !known.has(key))
    .map((key) => `images.${key} is not translated (unknown to next-image)`);
}
