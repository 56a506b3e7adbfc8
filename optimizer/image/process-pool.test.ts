import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobTimings, TransformProcessPool } from './process-pool.ts';
import { photo } from './test-support/fixtures.ts';
import { type OptimizeOptions, optimizeImage } from './transform.ts';

let jpeg: Buffer;
const pools: TransformProcessPool[] = [];

function pool(
  size: number,
  killGraceSeconds = 1,
  onTimings?: (timings: JobTimings) => void,
): TransformProcessPool {
  const created = new TransformProcessPool({ size, killGraceSeconds, onTimings });
  pools.push(created);
  return created;
}

function options(buffer: Buffer, overrides: Partial<OptimizeOptions> = {}): OptimizeOptions {
  return {
    buffer,
    contentType: 'image/webp',
    width: 320,
    quality: 75,
    timeoutSeconds: 7,
    maxInputPixels: 268_402_689,
    ...overrides,
  };
}

/**
 * A small SVG that librsvg needs minutes to rasterise, inside a single strip: a huge blur
 * over a large canvas. sharp's timeout cannot stop it (measured: 107 s with timeout 1).
 */
function unstoppableSvg(): Buffer {
  const circles = Array.from(
    { length: 40 },
    (_, i) =>
      `<circle cx="${(i * 97) % 3000}" cy="${(i * 61) % 3000}" r="900" ` +
      `fill="#${((i * 2654435) & 0xffffff).toString(16).padStart(6, '0')}" filter="url(#b)"/>`,
  );
  return Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="3000">' +
      `<filter id="b"><feGaussianBlur stdDeviation="120"/></filter>${circles.join('')}</svg>`,
  );
}

beforeAll(async () => {
  jpeg = await photo(800, 600).jpeg().toBuffer();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('TransformProcessPool', () => {
  it('produces the same bytes as optimizeImage in this process', async () => {
    const inProcess = await optimizeImage(options(jpeg));
    const viaChild = await pool(1).transform(options(jpeg));
    expect(Buffer.isBuffer(viaChild)).toBe(true);
    expect(viaChild.equals(inProcess)).toBe(true);
  });

  it('takes a source in the chunks it arrived in, and gives the same bytes as one buffer', async () => {
    const chunks = [jpeg.subarray(0, 10), jpeg.subarray(10, 70_000), jpeg.subarray(70_000)];
    const joined = await pool(1).transform(options(jpeg));
    const chunked = await pool(1).transform({ ...options(jpeg), buffer: chunks });
    expect(chunked.equals(joined)).toBe(true);
    expect((await optimizeImage({ ...options(jpeg), buffer: chunks })).equals(joined)).toBe(true);
  });

  it('runs several transforms on a pool of two, each with its own result', async () => {
    const p = pool(2);
    const widths = [100, 200, 300, 400];
    const outputs = await Promise.all(widths.map((width) => p.transform(options(jpeg, { width }))));
    const expected = await Promise.all(
      widths.map((width) => optimizeImage(options(jpeg, { width }))),
    );
    expect(outputs.map((output, i) => output.equals(expected[i]!))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(p.processes).toBeLessThanOrEqual(2);
  });

  it('streams multi-MB sources one after another through one child, each byte-exact', async () => {
    // Sources travel on the child's own pipe, not in the IPC message: a PNG of several MB
    // arrives in many chunks, and the next job's bytes must not mix with the last one's.
    // The child reads into one buffer it keeps and grows: a smaller source after a larger one
    // must not see the old bytes, and a larger one gets a larger buffer.
    const big = await photo(2048, 1365).png({ compressionLevel: 0 }).toBuffer();
    expect(big.length).toBeGreaterThan(4_000_000);
    const huge = await photo(2500, 2300).png({ compressionLevel: 0 }).toBuffer();
    expect(huge.length).toBeGreaterThan(16 * 1024 * 1024);
    const p = pool(1);
    const sources = [big, jpeg, huge, jpeg, big, Buffer.alloc(0)];
    const outputs = await Promise.allSettled(sources.map((b) => p.transform(options(b))));
    const expected = await Promise.allSettled(sources.map((b) => optimizeImage(options(b))));
    expect(outputs.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    for (const [i, o] of outputs.entries()) {
      const e = expected[i];
      if (o.status === 'fulfilled' && e?.status === 'fulfilled')
        expect(o.value.equals(e.value)).toBe(true);
    }
    expect(p.processes).toBe(1);
  });

  it("reports each successful job's stages as its child measured them", async () => {
    const seen: JobTimings[] = [];
    const p = pool(1, 1, (timings) => seen.push(timings));
    await p.transform(options(jpeg));
    await p.transform(options(jpeg, { width: 640 }));
    await expect(p.transform(options(Buffer.from('<html>')))).rejects.toThrow();
    expect(seen).toHaveLength(2); // none for the failure
    for (const t of seen) {
      // A child runs one job at a time, so its CPU over the pipeline is this job's work.
      expect(t.sharp.cpuMs).toBeGreaterThan(0);
      expect(t.sharp.wallMs).toBeGreaterThan(0);
      expect(t.receive.cpuMs).toBeGreaterThanOrEqual(0);
      expect(t.receive.wallMs).toBeGreaterThanOrEqual(0);
      expect(t.betweenCpuMs).toBeGreaterThanOrEqual(0);
      expect(t.roundTripMs).toBeGreaterThanOrEqual(t.receive.wallMs + t.sharp.wallMs);
    }
  });

  it('passes a sharp failure back as TRANSFORM_FAILED and keeps the child', async () => {
    const p = pool(1);
    await expect(p.transform(options(Buffer.from('<html>')))).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: expect.stringMatching(/sharp failed/),
    });
    await expect(p.transform(options(jpeg))).resolves.toBeInstanceOf(Buffer);
    expect(p.processes).toBe(1);
  });

  it('kills a transform that outlives its timeout, then serves the next one', async () => {
    const p = pool(1, 1);
    const svg = options(unstoppableSvg(), {
      contentType: 'image/jpeg',
      width: 3000,
      timeoutSeconds: 1,
    });
    await expect(p.transform(svg)).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: 'transform killed after 2 s',
    });
    await expect(p.transform(options(jpeg))).resolves.toBeInstanceOf(Buffer);
  });

  it('kills the child at once when the job is cancelled, and drops queued work', async () => {
    const p = pool(1, 60);
    const controller = new AbortController();
    const svg = options(unstoppableSvg(), {
      contentType: 'image/jpeg',
      width: 3000,
      timeoutSeconds: 60,
    });
    const running = p.transform(svg, controller.signal);
    const queued = p.transform(options(jpeg), controller.signal);
    controller.abort();
    await expect(running).rejects.toMatchObject({
      message: 'the job was cancelled; transform killed',
    });
    await expect(queued).rejects.toMatchObject({ message: 'the job was cancelled' });
    // The killed child is replaced: the next job is served.
    await expect(p.transform(options(jpeg))).resolves.toBeInstanceOf(Buffer);
  });

  it('fails queued and new work once closed', async () => {
    const p = pool(1);
    const running = p.transform(
      options(unstoppableSvg(), { contentType: 'image/jpeg', width: 3000 }),
    );
    const queued = p.transform(options(jpeg));
    const outcomes = Promise.all([
      expect(running).rejects.toMatchObject({ code: 'TRANSFORM_FAILED' }),
      expect(queued).rejects.toMatchObject({ message: 'the transform pool is closed' }),
    ]);
    await p.close();
    await outcomes;
    await expect(p.transform(options(jpeg))).rejects.toMatchObject({
      message: 'the transform pool is closed',
    });
    expect(p.processes).toBe(0);
  });
});
