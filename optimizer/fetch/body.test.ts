import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { declaredTooLarge, decodingSteps, readBody } from './body.ts';

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
