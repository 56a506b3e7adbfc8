import { describe, expect, it } from 'vitest';
import { decoderWorkingSet, readImageHeader } from './header.ts';
import {
  animation,
  interlacedRgbaPngHead,
  photo,
  pngDeclaring,
  withAnimationControl,
} from './test-support/fixtures.ts';

describe('readImageHeader', () => {
  it.each([
    ['jpeg (baseline)', 'image/jpeg', () => photo(37, 23).jpeg().toBuffer(), [37, 23, 3, 1, 0]],
    [
      'jpeg (progressive: coefficients counted)',
      'image/jpeg',
      () => photo(37, 23).jpeg({ progressive: true }).toBuffer(),
      [37, 23, 3, 1, 37 * 23 * 3 * 2],
    ],
    ['png (RGB)', 'image/png', () => photo(37, 23).png().toBuffer(), [37, 23, 3, 1, 0]],
    [
      'png (16-bit RGBA)',
      'image/png',
      () => photo(37, 23).ensureAlpha().toColourspace('rgb16').png().toBuffer(),
      [37, 23, 4, 2, 0],
    ],
    [
      'png (Adam7: a second frame)',
      'image/png',
      () => photo(37, 23).png({ progressive: true }).toBuffer(),
      [37, 23, 3, 1, 37 * 23 * 3],
    ],
    ['gif', 'image/gif', () => photo(37, 23).gif().toBuffer(), [37, 23, 4, 1, 0]],
    ['webp (VP8)', 'image/webp', () => photo(37, 23).webp().toBuffer(), [37, 23, 3, 1, 0]],
    [
      'webp (VP8L)',
      'image/webp',
      () => photo(37, 23).webp({ lossless: true }).toBuffer(),
      [37, 23, 3, 1, 0],
    ],
    [
      'webp (VP8X with alpha)',
      'image/webp',
      () => photo(37, 23).ensureAlpha(0.5).webp().toBuffer(),
      [37, 23, 4, 1, 0],
    ],
    ['avif (ispe)', 'image/avif', () => photo(37, 23).avif().toBuffer(), [37, 23, 4, 1, 0]],
  ])('%s', async (_name, type, make, [width, height, channels, bytes, passBytes]) => {
    const found = readImageHeader(await make(), type);
    expect(found).toEqual({
      width,
      height,
      channels,
      bytesPerChannel: bytes,
      passBytes,
      animated: false,
    });
  });

  it('reads a 16000×16000 interlaced RGBA PNG from its first bytes: 2 GB to decode', () => {
    const found = readImageHeader(interlacedRgbaPngHead(16000, 16000), 'image/png');
    expect(found).toMatchObject({ width: 16000, height: 16000, channels: 4, animated: false });
    expect(decoderWorkingSet(found!)).toBe(2 * 16000 * 16000 * 4);
  });

  it('sees animation: APNG, animated GIF and WebP', async () => {
    const apng = withAnimationControl(pngDeclaring(10, 10), 3);
    expect(readImageHeader(apng, 'image/png')?.animated).toBe(true);
    expect(readImageHeader(await animation('gif'), 'image/gif')?.animated).toBe(true);
    expect(readImageHeader(await animation('webp'), 'image/webp')?.animated).toBe(true);
  });

  it('answers undefined while the bytes stop short of the header', async () => {
    const jpeg = await photo(37, 23).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(readImageHeader(jpeg.subarray(0, 40), 'image/jpeg')).toBeUndefined();
    const png = await photo(37, 23).png().toBuffer();
    expect(readImageHeader(png.subarray(0, 28), 'image/png')).toBeUndefined();
    const avif = await photo(37, 23).avif().toBuffer();
    expect(readImageHeader(avif.subarray(0, 60), 'image/avif')).toBeUndefined();
  });
});
