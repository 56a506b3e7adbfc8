// The sample frontend: a Next.js 16 app whose pages carry real `next/image` markup. In the
// cluster, the ImageOptimizer's gateway sends /_next/image to our optimizer and everything
// else here, so these `images` settings only shape the markup (srcset widths, quality) and
// match the e2e ImageOptimizer's. In production `next/image` does not check remote hosts at
// render time (only `next dev` does), so /blocked renders and our optimizer answers 400.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** @type {import('next').NextConfig} */
const config = {
  output: 'standalone',
  poweredByHeader: false,
  images: {
    qualities: [75],
    // The in-cluster CDN Service, in whatever namespace the app runs (`*` is one label).
    remotePatterns: [{ protocol: 'http', hostname: 'cdn.*.svc.cluster.local', pathname: '/**' }],
  },
  // This app lives inside the repo, which has its own lockfile: pin the root to this folder.
  outputFileTracingRoot: root,
  turbopack: { root },
};

export default config;
