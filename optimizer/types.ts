/** What a fetch of the source image yields (Next.js: `ImageUpstream`). */
export interface UpstreamImage {
  /** The whole body as one buffer (for a chunked source: joined on first use, then kept). */
  readonly buffer: Buffer;
  /** The body as it arrived, when read in chunks: what the transform child is sent. */
  chunks?: readonly Buffer[];
  /** Its first bytes (at least the image header, when there is one); `buffer` when absent. */
  head?: Buffer;
  /** Body length in bytes; `buffer.length` when absent. */
  length?: number;
  /** The upstream Content-Type header; informational only (the type comes from magic bytes). */
  contentType: string | null;
  /** The upstream Cache-Control header, for maxAge. */
  cacheControl: string | null;
  /** The upstream ETag header, or null. */
  etag: string | null;
}

/** A validated `/_next/image` request (Next.js: `ImageParamsResult`). */
export interface ImageParams {
  /** Raw relative url (`/a.png?x`) or normalized absolute url. */
  href: string;
  isAbsolute: boolean;
  /** True for `/_next/static/media/…` sources: cached for a year, immutable. */
  isStatic: boolean;
  width: number;
  quality: number;
  /** Negotiated output type from Accept, or '' when the client has no preference we serve. */
  mimeType: string;
  minimumCacheTTL: number;
}

/** A finished image, as cached (Next.js: the IMAGE cache value plus its timing). */
export interface ImageEntry {
  buffer: Buffer;
  /** Output extension: jpeg, png, webp, avif, gif, svg, ico, icns, bmp, tiff, jxl, heic… */
  extension: string;
  /** Unquoted ETag sent to clients. */
  etag: string;
  /** ETag derived from the upstream (used for revalidation reuse). */
  upstreamEtag: string;
  /** Seconds, for Cache-Control. */
  maxAge: number;
}

/** A cached entry with its expiry. */
export interface CachedImage extends ImageEntry {
  /** Epoch ms after which the entry is STALE. */
  expireAt: number;
}
