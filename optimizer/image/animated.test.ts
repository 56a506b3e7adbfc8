import { beforeAll, describe, expect, it } from 'vitest';
import { pngChunk } from '../../test/support/png.ts';
import { animationVerdict, isAnimated } from './animated.ts';
import { animation, photo, solidPng, withAnimationControl } from './test-support/fixtures.ts';

const samples = new Map<string, Buffer>();

beforeAll(async () => {
  const png = await solidPng(16, 8, 'red');
  const animatedGif = await animation('gif');
  samples.set('static gif', await photo(16, 16).gif().toBuffer());
  samples.set('animated gif', animatedGif);
  // Cut in the middle of the second frame: a detector must not need the whole file.
  samples.set('truncated animated gif', animatedGif.subarray(0, animatedGif.length - 4));
  samples.set('static png', png);
  samples.set('apng', withAnimationControl(png, 2));
  samples.set('static webp (lossy)', await photo(16, 16).webp().toBuffer());
  samples.set('static webp (lossless)', await photo(16, 16).webp({ lossless: true }).toBuffer());
  samples.set(
    'static webp with alpha (VP8X)',
    await photo(16, 16).ensureAlpha(0.5).webp().toBuffer(),
  );
  samples.set('animated webp', await animation('webp'));
  samples.set('jpeg', await photo(16, 16).jpeg().toBuffer());
});

describe('isAnimated', () => {
  it.each([
    ['static gif', 'image/gif', false],
    ['animated gif', 'image/gif', true],
    ['truncated animated gif', 'image/gif', true],
    ['static png', 'image/png', false],
    ['apng', 'image/png', true],
    ['static webp (lossy)', 'image/webp', false],
    ['static webp (lossless)', 'image/webp', false],
    ['static webp with alpha (VP8X)', 'image/webp', false],
    ['animated webp', 'image/webp', true],
    ['jpeg', 'image/jpeg', false],
  ])('%s (%s) → %s', (name, contentType, expected) => {
    expect(isAnimated(samples.get(name)!, contentType)).toBe(expected);
  });

  it('does not call a PNG animated when acTL comes after the first IDAT', async () => {
    const png = await solidPng(16, 8, 'red');
    const iend = png.length - 12;
    const actl = pngChunk('acTL', Buffer.from([0, 0, 0, 2, 0, 0, 0, 0]));
    const late = Buffer.concat([png.subarray(0, iend), actl, png.subarray(iend)]);
    expect(late.includes('acTL')).toBe(true);
    expect(isAnimated(late, 'image/png')).toBe(false);
  });

  it('settles APNG and WebP from the head when it can, and says so when it cannot', () => {
    const apng = samples.get('apng')!;
    const png = samples.get('static png')!;
    const idat = png.indexOf('IDAT');
    expect(animationVerdict(apng.subarray(0, apng.indexOf('IDAT') + 4), 'image/png')).toBe(true);
    expect(animationVerdict(png.subarray(0, idat + 4), 'image/png')).toBe(false);
    // Cut before the first IDAT: the acTL could still come, so the whole body must decide.
    expect(animationVerdict(png.subarray(0, idat - 8), 'image/png')).toBeUndefined();
    expect(animationVerdict(samples.get('animated webp')!, 'image/webp')).toBe(true);
    expect(animationVerdict(samples.get('static webp (lossy)')!, 'image/webp')).toBe(false);
    expect(
      animationVerdict(samples.get('static webp (lossy)')!.subarray(0, 12), 'image/webp'),
    ).toBeUndefined();
    // A GIF's frames must be counted: the head never settles it.
    expect(animationVerdict(samples.get('animated gif')!, 'image/gif')).toBeUndefined();
    expect(animationVerdict(samples.get('jpeg')!, 'image/jpeg')).toBe(false);
  });

  it.each([
    ['image/gif', Buffer.from('GIF89a')],
    ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
    ['image/webp', Buffer.from('RIFF\0\0\0\0WEBPVP8X')],
  ])('survives a truncated %s header', (contentType, buffer) => {
    expect(isAnimated(buffer, contentType)).toBe(false);
  });
});
