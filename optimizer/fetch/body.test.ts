import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { declaredTooLarge, decodingSteps, openBody, readBody } from './body.ts';

class TooLarge extends Error {}
class TooManyCodings extends Error {}
const errors = { tooLarge: () => new TooLarge(), tooManyCodings: () => new TooManyCodings() };

const payload = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(200));

/** A source that counts what was pulled from it and whether it was destroyed. */
function trackedSource(chunks: Buffer[]): { stream: Readable; pulled: () => number } {
  let pulled = 0;
  let index = 0;
  const stream = new Readable({
    read() {
      const chunk = chunks[index];
      index += 1;
      if (chunk === undefined) {
        this.push(null);
        return;
      }
      pulled += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe('decodingSteps', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['gzip', ['gzip']],
    ['GZIP', ['gzip']],
    ['x-gzip', ['x-gzip']],
    ['deflate, br', ['br', 'deflate']],
    ['gzip,gzip', ['gzip', 'gzip']],
    ['identity', null],
    ['gzip, compress', null],
  ])('%j → %j', (header, expected) => {
    expect(decodingSteps(header, errors)).toEqual(expected);
  });

  it('refuses more than 5 codings', () => {
    expect(() => decodingSteps('gzip, gzip, gzip, gzip, gzip, gzip', errors)).toThrow(
      TooManyCodings,
    );
    expect(decodingSteps('gzip, gzip, gzip, gzip, gzip', errors)).toHaveLength(5);
  });
});

describe('readBody', () => {
  it.each([
    ['gzip', zlib.gzipSync(payload)],
    ['x-gzip', zlib.gzipSync(payload)],
    ['deflate', zlib.deflateSync(payload)],
    ['deflate', zlib.deflateRawSync(payload)],
    ['br', zlib.brotliCompressSync(payload)],
    ['deflate, gzip', zlib.gzipSync(zlib.deflateSync(payload))],
  ])('decodes %s', async (encoding, encoded) => {
    const body = await readBody(Readable.from([encoded]), encoding, 1e6, errors);
    expect(body.equals(payload)).toBe(true);
  });

  it('uses the body undecoded when a coding is unknown', async () => {
    const body = await readBody(Readable.from([payload]), 'compress', 1e6, errors);
    expect(body.equals(payload)).toBe(true);
  });

  it('accepts a body of exactly the limit', async () => {
    const body = await readBody(Readable.from([payload]), undefined, payload.length, errors);
    expect(body.length).toBe(payload.length);
  });

  it('fails one byte over the limit and stops pulling from the source', async () => {
    const chunk = Buffer.alloc(16 * 1024, 1);
    const { stream, pulled } = trackedSource(Array.from({ length: 1000 }, () => chunk));
    await expect(readBody(stream, undefined, 100 * 1024, errors)).rejects.toBeInstanceOf(TooLarge);
    expect(stream.destroyed).toBe(true);
    // Stream buffering may pull a few chunks ahead, never the 16 MB behind them.
    expect(pulled()).toBeLessThan(1024 * 1024);
  });

  it('stops a compression bomb at the decoded limit', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const { stream } = trackedSource([bomb]);
    await expect(readBody(stream, 'gzip', 1024 * 1024, errors)).rejects.toBeInstanceOf(TooLarge);
    expect(stream.destroyed).toBe(true);
  });

  it('rejects a corrupt gzip body', async () => {
    await expect(
      readBody(Readable.from([Buffer.from('not gzip at all')]), 'gzip', 1e6, errors),
    ).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
  });
});

describe('declaredTooLarge', () => {
  it.each([
    ['101', undefined, true],
    ['100', undefined, false],
    [undefined, undefined, false],
    ['101', 'gzip', false],
    ['nonsense', undefined, false],
  ])('content-length %j, encoding %j → %j', (length, encoding, expected) => {
    expect(declaredTooLarge(length, encoding, 100)).toBe(expected);
  });
});

describe('openBody', () => {
  const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
  const whole = Buffer.concat(chunks);

  it('reads until the head rule is satisfied and pulls little more until readAll', async () => {
    const { stream, pulled } = trackedSource(chunks);
    const opened = await openBody(stream, undefined, 10 * whole.length, errors, {
      isEnough: (head) => head.length >= 100,
      maxBytes: 256 * 1024,
    });
    expect(opened.complete).toBe(false);
    expect(opened.head.length).toBeGreaterThanOrEqual(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pulled()).toBeLessThan(whole.length / 2); // paused: the stream's buffer, no more
    expect((await opened.readAll(new AbortController().signal)).equals(whole)).toBe(true);
  });

  it('gives the body in the chunks it arrived in, the head first, none of them copied', async () => {
    const { stream } = trackedSource(chunks);
    const opened = await openBody(stream, undefined, 10 * whole.length, errors, {
      isEnough: (head) => head.length >= 100,
      maxBytes: 256 * 1024,
    });
    const parts = await opened.readChunks(new AbortController().signal);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]).toBe(opened.head);
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    // The rest are the stream's own chunks, not copies of them.
    expect(parts.slice(1).every((part) => chunks.some((c) => c.buffer === part.buffer))).toBe(true);
  });

  it('decodes before it reads the head, and applies the limit to the decoded bytes', async () => {
    const gzipped = zlib.gzipSync(whole);
    const opened = await openBody(Readable.from([gzipped]), 'gzip', whole.length, errors, {
      isEnough: (head) => head.length > 0,
      maxBytes: 1024,
    });
    expect(opened.head[0]).toBe(0);
    expect((await opened.readAll(new AbortController().signal)).equals(whole)).toBe(true);
    const bomb = await openBody(Readable.from([gzipped]), 'gzip', whole.length - 1, errors, {
      isEnough: (head) => head.length > 0,
      maxBytes: 1024,
    });
    await expect(bomb.readAll(new AbortController().signal)).rejects.toBeInstanceOf(TooLarge);
  });

  it('fails with tooLarge while reading the head when the limit is smaller than it', async () => {
    const { stream } = trackedSource(chunks);
    await expect(
      openBody(stream, undefined, 1000, errors, { maxBytes: 256 * 1024 }),
    ).rejects.toBeInstanceOf(TooLarge);
  });

  it('keeps a failure that happens while nobody reads and throws it from readAll', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.alloc(64));
    const opened = await openBody(stream, undefined, 1 << 20, errors, {
      isEnough: () => true,
      maxBytes: 1 << 20,
    });
    stream.destroy(new Error('reset by peer'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(opened.readAll(new AbortController().signal)).rejects.toThrow('reset by peer');
  });
});
