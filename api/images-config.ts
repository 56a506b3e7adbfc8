import { z } from 'zod';

/** Next.js 16's `images` defaults (next@16.4.6 `shared/lib/image-config`). */
export const NEXT_IMAGES_DEFAULTS = {
  deviceSizes: [640, 750, 828, 1080, 1200, 1920, 2048, 3840],
  imageSizes: [32, 48, 64, 96, 128, 256, 384],
  qualities: [75],
  formats: ['image/webp'] as Array<'image/webp' | 'image/avif'>,
  minimumCacheTTL: 14400,
  remotePatterns: [],
  domains: [],
  dangerouslyAllowSVG: false,
  contentSecurityPolicy: "script-src 'none'; frame-src 'none'; sandbox;",
  contentDispositionType: 'attachment' as 'attachment' | 'inline',
  maximumRedirects: 3,
  maximumResponseBody: 50_000_000,
  dangerouslyAllowLocalIP: false,
} as const;

const size = z
  .number()
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(10000, 'must be at most 10000');

/** One entry of `images.remotePatterns` (Next.js accepts URL strings too). */
export const RemotePatternSchema = z.union([
  z.strictObject({
    protocol: z
      .enum(['http', 'https'], { error: 'protocol must be "http" or "https"' })
      .optional()
      .describe('"http" or "https"; absent matches both.'),
    hostname: z
      .string()
      .min(1, 'hostname is required')
      .describe('Host to allow; "*" matches one subdomain level, "**" any number (Next.js glob).'),
    port: z.string().optional().describe('Port to allow; absent or "" matches any port.'),
    pathname: z
      .string()
      .optional()
      .describe('Path glob such as "/photos/**"; absent matches every path.'),
    search: z
      .string()
      .optional()
      .describe('Exact query string including "?"; absent matches any query.'),
  }),
  z.string().refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'a remote pattern given as a string must be an http(s) URL'),
]);
export type RemotePatternInput = z.infer<typeof RemotePatternSchema>;

/** One entry of `images.localPatterns`. */
export const LocalPatternSchema = z.strictObject({
  pathname: z
    .string()
    .optional()
    .describe('Path glob of a local source such as "/assets/**"; absent matches every path.'),
  search: z
    .string()
    .optional()
    .describe('Exact query string including "?"; absent matches any query, "" none.'),
});
export type LocalPattern = z.infer<typeof LocalPatternSchema>;

/** Next.js 16's `images` config: same keys, limits and defaults. */
export const ImagesConfigSchema = z.strictObject({
  deviceSizes: z
    .array(size)
    .min(1)
    .max(25)
    .default([...NEXT_IMAGES_DEFAULTS.deviceSizes])
    .describe(
      'Widths (px, 1–10000) for full-width images; allowed values of w. Default 640, 750, 828, 1080, 1200, 1920, 2048, 3840.',
    ),
  imageSizes: z
    .array(size)
    .max(25)
    .default([...NEXT_IMAGES_DEFAULTS.imageSizes])
    .describe(
      'Widths (px, 1–10000) for images smaller than the viewport; also allowed values of w. Default 32, 48, 64, 96, 128, 256, 384.',
    ),
  qualities: z
    .array(
      z
        .number()
        .int('must be an integer')
        .min(1, 'must be at least 1')
        .max(100, 'must be at most 100'),
    )
    .min(1, 'needs at least one quality')
    .max(20)
    .default([...NEXT_IMAGES_DEFAULTS.qualities])
    .describe('Allowed values of q (1–100), as Next.js 16 requires. Default [75].'),
  formats: z
    .array(
      z.enum(['image/avif', 'image/webp'], {
        error: 'formats may only contain "image/avif" and "image/webp"',
      }),
    )
    .max(4)
    .default([...NEXT_IMAGES_DEFAULTS.formats])
    .describe(
      'Output formats offered by Accept negotiation, in order of preference: "image/avif", "image/webp". Default ["image/webp"].',
    ),
  minimumCacheTTL: z
    .number()
    .int()
    .min(0)
    .default(NEXT_IMAGES_DEFAULTS.minimumCacheTTL)
    .describe(
      "Seconds an optimized image stays fresh at least; the source's Cache-Control max-age wins when longer. Default 14400 (4 h).",
    ),
  remotePatterns: z
    .array(RemotePatternSchema)
    .max(50)
    .default([])
    .describe(
      'Absolute source URLs allowed, as objects {protocol, hostname, port, pathname, search} or URL strings. Default none.',
    ),
  localPatterns: z
    .array(LocalPatternSchema)
    .max(25)
    .optional()
    .describe('Relative source paths allowed; absent allows every local path (Next.js default).'),
  domains: z
    .array(z.string().min(1))
    .max(50)
    .default([])
    .describe('Deprecated in Next.js: hostnames allowed over http(s); prefer remotePatterns.'),
  dangerouslyAllowSVG: z
    .boolean()
    .default(false)
    .describe(
      'Serve SVG sources (as-is, never rasterised) with contentSecurityPolicy. Default false: SVG is refused.',
    ),
  contentSecurityPolicy: z
    .string()
    .default(NEXT_IMAGES_DEFAULTS.contentSecurityPolicy)
    .describe(
      "Content-Security-Policy header of every image response. Default \"script-src 'none'; frame-src 'none'; sandbox;\".",
    ),
  contentDispositionType: z
    .enum(['attachment', 'inline'])
    .default('attachment')
    .describe('Content-Disposition of image responses: "attachment" (default) or "inline".'),
  maximumRedirects: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(NEXT_IMAGES_DEFAULTS.maximumRedirects)
    .describe('Redirects followed when fetching a source (0–20); more → 508. Default 3.'),
  maximumResponseBody: z
    .number()
    .int()
    .min(1)
    .default(NEXT_IMAGES_DEFAULTS.maximumResponseBody)
    .describe(
      'Largest source body in bytes; a larger source is cut off and refused. Default 50000000.',
    ),
  dangerouslyAllowLocalIP: z
    .boolean()
    .default(false)
    .describe(
      'Allow remote sources that resolve to private, loopback or link-local addresses (SSRF guard off). Default false.',
    ),
});
export type ImagesConfig = z.infer<typeof ImagesConfigSchema>;
