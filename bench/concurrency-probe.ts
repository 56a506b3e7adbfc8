/**
 * Measures sharp throughput for one setting of threads per image and images in flight,
 * so `sharp.concurrency()` is chosen from numbers, not folklore. Not a test: timings
 * depend on the machine. Run each setting in a fresh process, since sharp's concurrency
 * is process-wide:
 *   node bench/concurrency-probe.ts <threadsPerImage> <parallelImages> <jpeg|webp|avif> <count>
 */
import sharp from 'sharp';
import { photoPixels } from '../optimizer/image/test-support/fixtures.ts';

const [threadsArg = '1', parallelArg = '1', format = 'jpeg', countArg = '20'] =
  process.argv.slice(2);
const threads = Number(threadsArg);
const parallel = Number(parallelArg);
const count = Number(countArg);

sharp.cache(false);
sharp.concurrency(threads);

const width = 3000;
const height = 2000;
const source = await sharp(photoPixels(width, height), { raw: { width, height, channels: 3 } })
  .blur(1.2)
  .jpeg({ quality: 85 })
  .toBuffer();

async function transformOnce(): Promise<void> {
  const transformer = sharp(source, { sequentialRead: true })
    .rotate()
    .resize(1080, undefined, { withoutEnlargement: true });
  if (format === 'avif') transformer.avif({ quality: 47, effort: 3 });
  else if (format === 'webp') transformer.webp({ quality: 75 });
  else transformer.jpeg({ quality: 75, mozjpeg: true });
  await transformer.toBuffer();
}

await transformOnce(); // warm-up: loads codecs, faults in memory
const latencies: number[] = [];
let started = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (started < count) {
      started += 1;
      const begin = performance.now();
      await transformOnce();
      latencies.push(performance.now() - begin);
    }
  }),
);
const wallSeconds = (performance.now() - wallBefore) / 1000;
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    threads,
    parallel,
    format,
    imagesPerSecond: Number((count / wallSeconds).toFixed(2)),
    cpuMsPerImage: Math.round((cpu.user + cpu.system) / 1000 / count),
    p50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    maxMs: Math.round(latencies.at(-1) ?? 0),
  }),
);
