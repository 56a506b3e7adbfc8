// Column (d): a bare fastify server answering /_next/image with a fixed buffer the size of a
// typical hit, with the headers a hit carries. The ceiling for the optimizer's hit path.
// Usage: node bench/lib/bare-server.ts <port> <bytes>
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const size = Number(process.argv[3]);
const body = Buffer.alloc(size, 0x5a);
const app = Fastify({ logger: false });

app.get('/_next/image', async (_request, reply) => {
  reply
    .header('content-type', 'image/webp')
    .header('cache-control', 'public, max-age=14400, must-revalidate')
    .header('vary', 'Accept')
    .header('etag', '"bench-fixed-etag"')
    .header('x-nextjs-cache', 'HIT');
  return body;
});
app.get('/healthz', async () => 'ok');

await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
