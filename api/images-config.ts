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
    protocol: z.enum(['http', 'https'], { error: 'protocol must be "http" or "https"' }).optional(),
    hostname: z.string().min(1, 'hostname is required'),
    port: z.string().optional(),
    pathname: z.string().optional(),
    search: z.string().optional(),
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
  pathname: z.string().optional(),
  search: z.string().optional(),
});
export type LocalPattern = z.infer<typeof LocalPatternSchema>;

/** Next.js 16's `images` config: same keys, limits and defaults. */
export const ImagesConfigSchema = z.strictObject({
  deviceSizes: z
    .array(size)
    .min(1)
    .max(25)
    .default([...NEXT_IMAGES_DEFAULTS.deviceSizes]),
  imageSizes: z
    .array(size)
    .max(25)
    .default([...NEXT_IMAGES_DEFAULTS.imageSizes]),
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
    .default([...NEXT_IMAGES_DEFAULTS.qualities]),
  formats: z
    .array(
      z.enum(['image/avif', 'image/webp'], {
        error: 'formats may only contain "image/avif" and "image/webp"',
      }),
    )
    .max(4)
    .default([...NEXT_IMAGES_DEFAULTS.formats]),
  minimumCacheTTL: z.number().int().min(0).default(NEXT_IMAGES_DEFAULTS.minimumCacheTTL),
  remotePatterns: z.array(RemotePatternSchema).max(50).default([]),
  localPatterns: z.array(LocalPatternSchema).max(25).optional(),
  domains: z.array(z.string().min(1)).max(50).default([]),
  dangerouslyAllowSVG: z.boolean().default(false),
  contentSecurityPolicy: z.string().default(NEXT_IMAGES_DEFAULTS.contentSecurityPolicy),
  contentDispositionType: z.enum(['attachment', 'inline']).default('attachment'),
  maximumRedirects: z.number().int().min(0).max(20).default(NEXT_IMAGES_DEFAULTS.maximumRedirects),
  maximumResponseBody: z.number().int().min(1).default(NEXT_IMAGES_DEFAULTS.maximumResponseBody),
  dangerouslyAllowLocalIP: z.boolean().default(false),
});
export type ImagesConfig = z.infer<typeof ImagesConfigSchema>;
