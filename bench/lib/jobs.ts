import type { SourceImage } from './images.ts';

/** Output format of a job: WebP when the client accepts it, else the source's own type. */
export type OutputFormat = 'webp' | 'jpeg' | 'png';

/** One (source, w, q, format) job, the unit every column of the bench repeats. */
export type Job = {
  image: SourceImage;
  width: number;
  quality: number;
  /** `image/webp` to ask for WebP; null sends no Accept header (Next then keeps the source type). */
  accept: 'image/webp' | null;
  output: OutputFormat;
};

/**
 * Every combination of source × width × {WebP by Accept, source type by no Accept}. PNG → PNG
 * (Next's `png({quality})`, i.e. libimagequant palette) costs 1.5–5 s per photo, 10–30× a WebP
 * job, and would swamp the mix; it is left out unless `pngOut` is set.
 */
export function buildJobs(
  images: readonly SourceImage[],
  widths: readonly number[],
  quality: number,
  pngOut = false,
): Job[] {
  const jobs: Job[] = [];
  for (const image of images) {
    for (const width of widths) {
      jobs.push({ image, width, quality, accept: 'image/webp', output: 'webp' });
      if (image.type === 'image/jpeg')
        jobs.push({ image, width, quality, accept: null, output: 'jpeg' });
      else if (pngOut) jobs.push({ image, width, quality, accept: null, output: 'png' });
    }
  }
  return jobs;
}

/**
 * The /_next/image path of a job. `bust` appends `?v=<bust>` to the source url so the cache key
 * is new (the bench config sets `localPatterns: [{pathname: '**'}]`, which allows the query).
 */
export function jobPath(job: Job, bust?: string): string {
  const source = `/${job.image.name}${bust === undefined ? '' : `?v=${bust}`}`;
  return `/_next/image?url=${encodeURIComponent(source)}&w=${job.width}&q=${job.quality}`;
}

/** The request headers of a job. */
export function jobHeaders(job: Job): Record<string, string> {
  return job.accept === null ? {} : { accept: job.accept };
}

/** A short label such as "3 sources × w{640,1080} × {webp, own type}, q75". */
export function describeJobs(jobs: readonly Job[]): string {
  const sources = new Set(jobs.map((j) => j.image.name));
  const widths = [...new Set(jobs.map((j) => j.width))].join(',');
  const qualities = [...new Set(jobs.map((j) => j.quality))].join(',');
  const outputs = [...new Set(jobs.map((j) => `${j.image.type.slice(6)}→${j.output}`))].join(', ');
  return `${jobs.length} jobs: ${sources.size} sources × w{${widths}} × {${outputs}}, q${qualities}`;
}
