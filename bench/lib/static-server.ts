import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SourceImage } from './images.ts';

/** A running loopback file server. */
export type StaticServer = { origin: string; requests: () => number; close: () => Promise<void> };

/**
 * Serves the source images from memory at `/<name>` (query ignored, with an ETag, as a Next.js
 * app serves public/ files): the optimizer's fallback application during the bench.
 */
export async function startStaticServer(images: readonly SourceImage[]): Promise<StaticServer> {
  const files = new Map<string, { data: Buffer; type: string; etag: string }>();
  for (const image of images) {
    const data = await readFile(image.path);
    // A weak validator like the one Next.js's static file serving sends (size and a content
    // digest), so the optimizer, like Next, can use it instead of hashing the source itself.
    const digest = createHash('sha1').update(data).digest('hex').slice(0, 16);
    files.set(`/${image.name}`, {
      data,
      type: image.type,
      etag: `W/"${data.length.toString(16)}-${digest}"`,
    });
  }
  let count = 0;
  const server = createServer((req, res) => {
    count += 1;
    const path = (req.url ?? '/').split('?')[0]!;
    const file = files.get(path);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, {
        'content-type': file.type,
        'content-length': file.data.length,
        'cache-control': 'public, max-age=0',
        etag: file.etag,
      })
      .end(file.data);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
