import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import type { RunningServer } from '../lib/server.ts';
import { metricSum } from '../test/support/fleet.ts';
import { planAdmission } from './admission.ts';
import { resolveOptimizerConfig } from './config.ts';
import { interlacedRgbaPngHead, photo, pngDeclaring } from './image/test-support/fixtures.ts';
import { startOptimizer } from './server.ts';

const MiB = 1024 * 1024;
const logger = createLogger('test', 'silent');

/** What a source route sent before its connection closed. */
interface Sent {
  /** Bytes the kernel accepted (write callbacks that fired), head included. */
  written: number;
  /** True when the whole body was sent. */
  finished: boolean;
}

interface Body {
  head: Buffer;
  /** Body length; the bytes after `head` are zeros. */
  length: number;
  /** Send Content-Length (default) or chunked. */
  declare?: boolean;
  /** The rest of the body waits for this. */
  hold?: Promise<void>;
}

/** Writes `body` in 64 KiB chunks, each after the last was accepted, until done or closed. */
async function sendBody(res: ServerResponse, body: Body): Promise<Sent> {
  const sent: Sent = { written: 0, finished: false };
  let closed = false;
  const onClose = once(res, 'close').then(() => {
    closed = true;
  });
  const write = (chunk: Buffer): Promise<void> =>
    new Promise((resolve) => {
      res.write(chunk, (error) => {
        if (!error) sent.written += chunk.length;
        resolve();
      });
    });
  res.writeHead(200, body.declare === false ? {} : { 'content-length': String(body.length) });
  await write(body.head);
  await Promise.race([body.hold, onClose]);
  const chunk = Buffer.alloc(64 * 1024);
  let left = body.length - body.head.length;
  while (left > 0 && !closed) {
    const piece = chunk.subarray(0, Math.min(chunk.length, left));
    await Promise.race([write(piece), onClose]);
    left -= piece.length;
  }
  if (!closed) {
    res.end();
    sent.finished = true;
  }
  await onClose;
  return sent;
}

/** A source server on port 0 whose routes say what each path sends. */
class Sources {
  readonly routes = new Map<string, Body>();
  readonly sent = new Map<string, Promise<Sent>>();
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '/';
      const body = this.routes.get(path);
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      this.sent.set(path, sendBody(res, body));
    });
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once `path` was asked for and its connection has closed. */
  async closed(path: string): Promise<Sent> {
    while (!this.sent.has(path)) await new Promise((resolve) => setImmediate(resolve));
    return await this.sent.get(path)!;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

let sources: Sources;
let base: string;
let optimizer: RunningServer | undefined;

beforeAll(async () => {
  sources = new Sources();
  base = await sources.start();
});
afterAll(async () => {
  await sources.close();
});
afterEach(async () => {
  await optimizer?.close();
  optimizer = undefined;
});

async function start(tuning: Record<string, unknown>, images: Record<string, unknown> = {}) {
  const config = resolveOptimizerConfig({
    next: {
      imageOptimizer: { fallback: 'fallback', timeout: 20_000, maxAttempts: 1 },
      images,
    },
    discovery: { apps: { fallback: base } },
    optimizer: { concurrency: 1, fetchTimeoutMs: 15_000, ...tuning },
  });
  optimizer = await startOptimizer(config, { host: '127.0.0.1', port: 0, logger });
  return optimizer;
}

async function get(path: string, w = 640) {
  const url = `${optimizer!.url}/_next/image?url=${encodeURIComponent(path)}&w=${w}&q=75`;
  const res = await request(url);
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

async function metric(name: string): Promise<number> {
  const res = await request(`${optimizer!.url}/metrics`);
  return metricSum(await res.body.text(), name);
}

/** Waits until a metric reaches `value` (the optimizer's own report that a step happened). */
async function metricReaches(name: string, value: number): Promise<void> {
  while ((await metric(name)) < value) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The first bytes of a non-interlaced 8-bit RGBA PNG declaring width × height. */
function rgbaPngHead(width: number, height: number): Buffer {
  const head = interlacedRgbaPngHead(width, height);
  const ihdrData = 16;
  head[ihdrData + 12] = 0; // no interlace
  // The IHDR CRC no longer matches, which only a decoder would notice.
  return head;
}

describe('admission by memory, before download', () => {
  it('sheds a job that does not fit with 503 + Retry-After, closing its source before the body', async () => {
    await start({ memoryBudgetBytes: 32 * MiB, queueSize: 0 }, { maximumResponseBody: 64 * MiB });
    const hold = gate();
    // 2 × 2 MiB of source + 2000 × 2000 × 4 of decoder: 20 MiB of the 32 admitted.
    sources.routes.set('/holder.png', {
      head: rgbaPngHead(2000, 2000),
      length: 2 * MiB,
      hold: hold.promise,
    });
    // 32 MiB declared: more than the budget has left (and than it holds at all to decode).
    sources.routes.set('/big.png', { head: rgbaPngHead(1000, 1000), length: 32 * MiB });
    const holder = get('/holder.png');
    await metricReaches('next_image_memory_admitted_bytes', 1);
    expect(await metric('next_image_memory_budget_bytes')).toBe(32 * MiB);

    const shed = await get('/big.png');
    expect(shed.status).toBe(503);
    expect(Number(shed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const sent = await sources.closed('/big.png');
    expect(sent.finished).toBe(false);
    expect(sent.written).toBeLessThan(16 * MiB);
    expect(await metric('next_image_shed_total{reason="memory"}')).toBe(1);

    hold.open();
    expect((await holder).status).toBe(200);
    expect(await metric('next_image_memory_admitted_bytes')).toBe(0);
  });

  it('queues a job that does not fit yet and runs it once memory is released', async () => {
    await start({ memoryBudgetBytes: 32 * MiB, queueSize: 4 });
    const hold = gate();
    // 2 × 2 MiB + 3500 × 2000 × 4: 32.2 MB of the 33.5 MB budget.
    sources.routes.set('/holder2.png', {
      head: rgbaPngHead(3500, 2000),
      length: 2 * MiB,
      hold: hold.promise,
    });
    const source = await photo(1200, 800).jpeg().toBuffer();
    // 2 × source + 1200 × 800 × 3: fits alone, not beside the holder.
    sources.routes.set('/queued.jpg', { head: source, length: source.length });
    const holder = get('/holder2.png');
    await metricReaches('next_image_memory_admitted_bytes', 1);
    const queued = get('/queued.jpg');
    await metricReaches('next_image_transform_queue_depth', 1);
    expect(sources.sent.has('/queued.jpg')).toBe(true); // its head was read, then it waited
    hold.open();
    const [first, second] = await Promise.all([holder, queued]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect((await sharp(second.body).metadata()).width).toBe(640);
    expect(await metric('next_image_shed_total')).toBe(0);
  });

  it('serves a 16000×16000 interlaced PNG from its header without decoding it (2 GB to decode)', async () => {
    await start({ memoryBudgetBytes: 256 * MiB });
    const head = interlacedRgbaPngHead(16000, 16000);
    sources.routes.set('/interlaced.png', { head, length: head.length });
    const res = await get('/interlaced.png');
    // Next serves the original bytes whenever sharp cannot make the image (statement 28).
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body.equals(head)).toBe(true);
    expect(await metric('next_image_decodes_refused_total{reason="memory"}')).toBe(1);
    expect(await metric('next_image_transforms_total{outcome="optimized"}')).toBe(0);
  });

  it('serves a pixel bomb untransformed from its header, never decoded', async () => {
    await start({ memoryBudgetBytes: 256 * MiB });
    const bomb = pngDeclaring(60000, 60000);
    sources.routes.set('/bomb.png', { head: bomb, length: bomb.length });
    const res = await get('/bomb.png');
    expect(res.status).toBe(200);
    expect(res.body.equals(bomb)).toBe(true);
    expect(await metric('next_image_decodes_refused_total{reason="pixels"}')).toBe(1);
  });

  it('cuts off a declared Content-Length over maximumResponseBody with 413 before the body', async () => {
    await start({}, { maximumResponseBody: 1 * MiB });
    sources.routes.set('/declared.png', { head: rgbaPngHead(100, 100), length: 32 * MiB });
    const res = await get('/declared.png');
    expect(res.status).toBe(413);
    const sent = await sources.closed('/declared.png');
    expect(sent.finished).toBe(false);
    expect(sent.written).toBeLessThan(16 * MiB);
  });

  it('cuts off a streamed body at maximumResponseBody with 413', async () => {
    await start({}, { maximumResponseBody: 1 * MiB });
    sources.routes.set('/streamed.png', {
      head: rgbaPngHead(100, 100),
      length: 32 * MiB,
      declare: false,
    });
    const res = await get('/streamed.png');
    expect(res.status).toBe(413);
    const sent = await sources.closed('/streamed.png');
    expect(sent.finished).toBe(false);
    expect(sent.written).toBeLessThan(16 * MiB);
  });
});

describe('planAdmission', () => {
  const budget = { budgetBytes: 64 * MiB, maxInputPixels: 268_402_689 };
  it.each([
    [
      'a decodable PNG: two source copies + its frame',
      rgbaPngHead(1000, 1000),
      1 * MiB,
      'decode',
      2 * MiB + 4_000_000,
    ],
    [
      'an interlaced PNG: a second frame',
      interlacedRgbaPngHead(1000, 1000),
      1 * MiB,
      'decode',
      2 * MiB + 8_000_000,
    ],
    ['a pixel bomb: the source only', pngDeclaring(60000, 60000), 100, 'never', 100],
    [
      'over the whole budget: the source only',
      interlacedRgbaPngHead(16000, 16000),
      100,
      'over-budget',
      100,
    ],
    ['not an image: the source only', Buffer.from('<html>hello</html>'.repeat(4)), 72, 'never', 72],
  ])('%s', (_name, head, sourceBytes, decode, bytes) => {
    const plan = planAdmission({ head, sourceBytes, ...budget });
    expect(plan.decode).toBe(decode);
    expect(plan.bytes).toBe(bytes);
  });
});
