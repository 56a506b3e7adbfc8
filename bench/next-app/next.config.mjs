// The bench's Next.js 16 baseline. `images` comes from images.json, the same file the bench
// hands to the optimizer, so both serve /_next/image under identical settings.
// localPatterns [{pathname: '**'}] (no `search`) lets `?v=N` through, which is how the bench
// makes every miss a distinct cache key (Next 16's default would reject the query string).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const images = JSON.parse(readFileSync(new URL('./images.json', import.meta.url), 'utf8'));

/** @type {import('next').NextConfig} */
const config = {
  images,
  poweredByHeader: false,
  // This app lives inside the repo, which has its own lockfile: pin the root to this folder.
  outputFileTracingRoot: root,
  turbopack: { root },
};

export default config;
