/**
 * Process-wide sharp settings, applied once when this module is first imported. Every
 * module of the image layer imports sharp from here so the settings are in force before
 * the first call, whichever module makes it.
 */
import sharp from 'sharp';

// The libvips operation cache helps pipelines that reuse one input; ours never do, and
// it holds decoded pixels that would only raise memory (imgproxy turns it off too).
// Re-measured with `npm run bench -- --profile` (sweep, fresh source per job, interleaved):
// on vs off within the run-to-run noise, 62–67 vs 68–71 ms per small job, 310–338 vs
// 307–316 ms per 16–24 MP job; no gain worth the memory.
sharp.cache(false);

// One libvips thread per image; parallelism comes from running several images at once
// (TransformQueue, one slot per CPU). Measured with bench/concurrency-probe.ts (3000×2000 JPEG
// → 1080 px, Next's encoders) on a shared 2-vCPU VM: CPU time per image is the same with
// 1 or 2 threads per image (JPEG 81–89 ms, WebP 97–99 ms) or worse with 2 (AVIF 310–334
// vs 327–342 ms), because the encoders are single-threaded; wall-clock figures were too
// noisy under the neighbours' load to rank. So extra threads per image buy no throughput,
// and one thread each keeps a huge image from taking every core. imgproxy chooses the
// same (vips_concurrency_set(1), parallel workers). Re-measured for large sources too
// (bench --profile sweep, 16–24 MP JPEG/PNG): 2 threads cost 315–338 ms CPU per job vs
// 307–310 with 1, and no wall-clock gain on a loaded 2-vCPU VM. Note: more than 4 images
// at once in one process also needs UV_THREADPOOL_SIZE raised, at process start.
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
