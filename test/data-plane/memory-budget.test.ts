import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interlacedRgbaPngHead } from '../../optimizer/image/test-support/fixtures.ts';
import { type CliProcess, runCli } from '../support/processes.ts';

const MiB = 1024 * 1024;
const SOURCE_BYTES = 16 * MiB;
const MISSES = 16;

/** Peak and current resident set of a process, in bytes, from /proc (Linux). */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { peak: kib('VmHWM') * 1024, now: kib('VmRSS') * 1024 };
}

let dir: string;
let server: Server;
let sentBytes = 0;
let optimizer: CliProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'memory-budget-'));
  // A 16 MB PNG (a 2000×2000 RGBA header, then bytes no decoder will like), sent 64 KiB at a
  // time, each piece counted once the kernel took it.
  const head = interlacedRgbaPngHead(2000, 2000);
  head[16 + 12] = 0; // not interlaced
  const body = Buffer.concat([head, Buffer.alloc(SOURCE_BYTES - head.length)]);
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(SOURCE_BYTES) });
    let offset = 0;
    const pump = (): void => {
      while (offset < SOURCE_BYTES) {
        const piece = body.subarray(offset, offset + 64 * 1024);
        offset += piece.length;
        const more = res.write(piece, (error) => {
          if (!error) sentBytes += piece.length;
        });
        if (!more) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
});
afterAll(async () => {
  await optimizer?.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('the memory budget, measured on a real optimizer process', () => {
  it('keeps the main process within the budget + 150 MB under 16 concurrent misses of 16 MB sources, and sheds without downloading', async () => {
    const budget = 64 * MiB;
    const file = join(dir, 'optimizer.json');
    const port = (server.address() as AddressInfo).port;
    await writeFile(
      file,
      JSON.stringify({
        next: { imageOptimizer: { fallback: 'src', timeout: 120_000, maxAttempts: 1 } },
        discovery: { apps: { src: `http://127.0.0.1:${port}` } },
        optimizer: {
          concurrency: 2,
          queueSize: 4,
          memoryBudgetBytes: budget,
          memoryCacheBytes: 0,
          fetchTimeoutMs: 120_000,
        },
      }),
    );
    optimizer = runCli(['optimizer', '--config', file, '--port', '0']);
    const url = (await optimizer.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 60_000))[1];
    const pid = optimizer.child.pid!;
    const idle = memoryOf(pid).now;

    const statuses = await Promise.all(
      Array.from({ length: MISSES }, async (_, i) => {
        const res = await request(`${url}/_next/image?url=%2Fbig-${i}.png&w=640&q=75`);
        await res.body.dump({ limit: Number.POSITIVE_INFINITY });
        return res.statusCode;
      }),
    );
    const served = statuses.filter((status) => status === 200).length;
    const shed = statuses.filter((status) => status === 503).length;
    expect(served + shed).toBe(MISSES);
    expect(shed).toBeGreaterThan(0);
    // What was admitted was downloaded; what was shed sent little more than socket buffers.
    expect(sentBytes).toBeLessThan(served * SOURCE_BYTES + shed * (SOURCE_BYTES / 2));
    expect(memoryOf(pid).peak - idle).toBeLessThan(budget + 150 * MiB);
  }, 300_000);
});
