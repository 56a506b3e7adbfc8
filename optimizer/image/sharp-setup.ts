/**
 * Process-wide sharp settings, applied once when this module is first imported. Every
 * module of the image layer imports sharp from here so the settings are in force before
 * the first call, whichever module makes it.
 */
import sharp from 'sharp';

// The libvips operation cache helps pipelines that reuse one input; ours never do, and
// it holds decoded pixels that would only raise memory (imgproxy turns it off too).
sharp.cache(false);

// One libvips thread per image; parallelism comes from running several images at once
// (the TransformQueue). Measured with concurrency-probe.ts on a 2-vCPU VM, a 3000×2000
// JPEG → 1080 px: 2 images × 1 thread matched or beat 1 image × 2 threads on
// throughput for JPEG, WebP and AVIF, and extra threads per image mostly added
// contention. imgproxy makes the same choice (vips_concurrency_set(1), workers = 2×CPU).
sharp.concurrency(1);

// Next.js 16 (spec statement 27) lets libvips decode only these formats; every other
// loader (PPM, FITS, Matrix, CSV, VIPS, Radiance, raw…) is attack surface we do not need.
// Blocking the abstract VipsForeignLoad blocks all its subclasses; unblocking a format's
// base class re-enables its file, buffer and source variants.
export const ALLOWED_LOADERS: readonly string[] = [
  'VipsForeignLoadHeif',
  'VipsForeignLoadJpeg',
  'VipsForeignLoadNsgif',
  'VipsForeignLoadPng',
  'VipsForeignLoadSvg',
  'VipsForeignLoadTiff',
  'VipsForeignLoadWebp',
];
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: [...ALLOWED_LOADERS] });

export { sharp };
