/**
 * The sharp transform, exactly as Next.js 16 runs it (spec statements 22 and 24–27), so
 * our outputs are byte-comparable with Next's for the same input, width and quality.
 */
import type { Sharp } from 'sharp';
import { AVIF, BMP, GIF, HEIC, ICNS, ICO, JPEG, JXL, PNG, SVG, TIFF, WEBP } from './detect.ts';
import { TransformError } from './errors.ts';
import { sharp } from './sharp-setup.ts';

/** Types served byte-for-byte, ignoring Accept (spec statement 21). */
export const BYPASS_TYPES: ReadonlySet<string> = new Set([SVG, ICO, ICNS, BMP, JXL, HEIC]);

/**
 * The type to encode to (spec statement 22): the negotiated `mimeType` when there is one;
 * else WebP and AVIF sources fall back to JPEG, which every client can show; else the
 * source's own type.
 */
export function outputType(upstreamType: string, mimeType: string): string {
  if (mimeType) return mimeType;
  if (upstreamType === WEBP || upstreamType === AVIF) return JPEG;
  return upstreamType;
}

/** Next 16's AVIF quality: AVIF at q×5/8 looks like JPEG/WebP at q, at far fewer bytes. */
export function avifQuality(quality: number): number {
  return Math.max(Math.round((quality * 50) / 80), 1);
}

/** Types without a tuned encoder in Next, written by sharp's generic `toFormat`. */
const GENERIC_FORMATS: ReadonlyMap<string, 'gif' | 'tiff'> = new Map([
  [GIF, 'gif'],
  [TIFF, 'tiff'],
]);

/** Adds Next 16's encoder for `contentType` to a pipeline (exported for the bench's stage probe). */
export function encode(transformer: Sharp, contentType: string, quality: number): Sharp {
  switch (contentType) {
    case AVIF:
      return transformer.avif({ quality: avifQuality(quality), effort: 3 });
    case WEBP:
      return transformer.webp({ quality });
    case PNG:
      return transformer.png({ quality });
    case JPEG:
      return transformer.jpeg({ quality, mozjpeg: true });
  }
  const format = GENERIC_FORMATS.get(contentType);
  if (format === undefined) throw new TransformError(`cannot encode ${contentType}`);
  return transformer.toFormat(format);
}

/** What `optimizeImage` needs; `contentType` is the OUTPUT type (see `outputType`). */
export interface OptimizeOptions {
  /** The source; in chunks as it arrived (the process pool writes them as they are). */
  buffer: Buffer | readonly Buffer[];
  contentType: string;
  width: number;
  quality: number;
  /** Seconds sharp may work before it aborts; the caller passes what is left of the job. */
  timeoutSeconds: number;
  maxInputPixels: number;
}

/**
 * Next 16's load → auto-rotate → resize, before any encoder: one libvips pipeline that
 * decodes each strip as the encoder pulls it (the bench's stage probe times it to `.raw()`).
 */
export function resizePipeline(
  options: Pick<OptimizeOptions, 'buffer' | 'width' | 'timeoutSeconds' | 'maxInputPixels'>,
): Sharp {
  const { width, timeoutSeconds, maxInputPixels } = options;
  const buffer = Array.isArray(options.buffer)
    ? Buffer.concat(options.buffer as readonly Buffer[])
    : (options.buffer as Buffer);
  return sharp(buffer, { limitInputPixels: maxInputPixels, sequentialRead: true })
    .timeout({ seconds: Math.ceil(timeoutSeconds) })
    .rotate()
    .resize(width, undefined, { withoutEnlargement: true });
}

/** Resizes and re-encodes an image as Next 16 does; any failure rejects with TRANSFORM_FAILED. */
export async function optimizeImage(options: OptimizeOptions): Promise<Buffer> {
  const { contentType, quality, timeoutSeconds } = options;
  // sharp takes whole seconds and reads 0 as "no limit": a budget already spent must not
  // turn into unbounded work, and a fraction of a second left still gets a real limit.
  if (!(timeoutSeconds > 0)) throw new TransformError('no time left for the transform');
  try {
    return await encode(resizePipeline(options), contentType, quality).toBuffer();
  } catch (error: unknown) {
    if (error instanceof TransformError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TransformError(`sharp failed: ${reason}`, { cause: error });
  }
}
