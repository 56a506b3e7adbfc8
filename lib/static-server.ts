import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { type Logger, quietRequestLogging } from './logger.ts';
import { listen, type RunningServer } from './server.ts';

/** Content types of what a `public/` directory usually holds. */
const TYPES: Record<string, string> = {
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif',
  '.html': 'text/html; charset=utf-8',
  '.ico': 'image/x-icon',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.webp': 'image/webp',
};

/** Image files (by extension) directly in `dir`, sorted. */
export async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(avif|gif|jpe?g|png|webp)$/i.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** The page served at "/" when the directory has no index.html: every image, optimised. */
function indexPage(images: string[]): string {
  const figures = images
    .map(
      (name) =>
        `<figure><img src="/_next/image?url=${encodeURIComponent(`/${name}`)}&amp;w=640&amp;q=75" width="320" alt="${name}">` +
        `<figcaption>${name}</figcaption></figure>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>next-image dev</title>
<style>body{font-family:system-ui;margin:2rem}figure{display:inline-block;margin:1rem}img{height:auto}</style></head>
<body><h1>Served by the dev fallback</h1><p>Images below go through <code>/_next/image</code>.</p>
${figures}</body></html>`;
}

/**
 * A small static file server standing in for a Next.js app's `public/` directory in `dev`:
 * GET/HEAD of files under `root` (nothing outside it), and a generated index page.
 */
export async function startStaticServer(
  root: string,
  options: { host: string; port: number; logger: Logger },
): Promise<RunningServer> {
  const base = await realpath(root);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    ...quietRequestLogging(),
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    handler: async (request, reply) => {
      let path: string;
      try {
        path = decodeURIComponent(request.url.split('?')[0] ?? '/');
      } catch {
        return reply.code(400).type('text/plain; charset=utf-8').send('malformed path\n');
      }
      if (path === '/' || path === '/index.html') {
        const index = await stat(join(base, 'index.html')).catch(() => undefined);
        if (index === undefined)
          return reply.type(TYPES['.html'] ?? 'text/html').send(indexPage(await listImages(base)));
      }
      const file = await realpath(join(base, path === '/' ? 'index.html' : path)).catch(
        () => undefined,
      );
      const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
      if (
        file === undefined ||
        !file.startsWith(base + sep) ||
        info === undefined ||
        !info.isFile()
      ) {
        return reply.code(404).type('text/plain; charset=utf-8').send(`${path} not found\n`);
      }
      reply
        .type(TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
        .header('content-length', info.size)
        .header('last-modified', info.mtime.toUTCString())
        .header('cache-control', 'public, max-age=60');
      return reply.send(request.method === 'HEAD' ? '' : createReadStream(file));
    },
  });
  return listen(app, options.host, options.port);
}
