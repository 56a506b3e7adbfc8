// The e2e's in-cluster "CDN": serves cdn-images/ on CDN_LISTEN_PORT (default 8080), any query string
// allowed (so one file has many distinct URLs), and counts every request by path + query
// at GET /_requests. Run from the sample frontend's image: `node cdn.mjs`.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

const root = join(import.meta.dirname, 'cdn-images');
const counts = new Map();
// Not PORT (the image sets PORT=3000 for Next.js), nor CDN_PORT (Kubernetes sets that for
// the Service named cdn).
const port = Number(process.env.CDN_LISTEN_PORT ?? 8080);

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://cdn');
  if (url.pathname === '/_requests') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(counts)));
    return;
  }
  if (url.pathname === '/healthz') {
    res.end('ok\n');
    return;
  }
  const key = url.pathname + url.search;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  const name = url.pathname.slice(1);
  if (!/^[\w-]+\.jpg$/.test(name)) {
    res.writeHead(404).end('not found\n');
    return;
  }
  try {
    const body = await readFile(join(root, name));
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404).end('not found\n');
  }
});
server.listen(port, '0.0.0.0', () => console.log(`cdn listening on ${port}`));
for (const signal of ['SIGTERM', 'SIGINT'])
  process.on(signal, () => server.close(() => process.exit(0)));
