import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDimensions } from './dimensions.ts';
import { animation, photo, pngDeclaring } from './test-support/fixtures.ts';

const samples = new Map<string, { buffer: Buffer; type: string }>();

beforeAll(async () => {
  const add = async (name: string, type: string, image: Promise<Buffer>): Promise<void> => {
    samples.set(name, { buffer: await image, type });
  };
  await add('jpeg', 'image/jpeg', photo(37, 23).jpeg().toBuffer());
  await add('progressive jpeg', 'image/jpeg', photo(37, 23).jpeg({ progressive: true }).toBuffer());
  await add(
    'jpeg with EXIF and ICC',
    'image/jpeg',
    photo(37, 23).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  );
  await add('png', 'image/png', photo(37, 23).png().toBuffer());
  await add('gif', 'image/gif', photo(37, 23).gif().toBuffer());
  await add('animated gif', 'image/gif', animation('gif'));
  await add('webp (lossy, VP8)', 'image/webp', photo(37, 23).webp().toBuffer());
  await add(
    'webp (lossless, VP8L)',
    'image/webp',
    photo(37, 23).webp({ lossless: true }).toBuffer(),
  );
  await add('webp (alpha, VP8X)', 'image/webp', photo(37, 23).ensureAlpha(0.5).webp().toBuffer());
  await add('avif (via sharp)', 'image/avif', photo(37, 23).avif().toBuffer());
  await add('tiff (via sharp)', 'image/tiff', photo(37, 23).tiff().toBuffer());
  samples.set('pixel bomb png', { buffer: pngDeclaring(60000, 60000), type: 'image/png' });
  samples.set('svg (via sharp)', {
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="37" height="23"/>'),
    type: 'image/svg+xml',
  });
});

describe('readDimensions', () => {
  it.each([
    ['jpeg', 37, 23],
    ['progressive jpeg', 37, 23],
    ['jpeg with EXIF and ICC', 37, 23],
    ['png', 37, 23],
    ['gif', 37, 23],
    ['animated gif', 16, 8],
    ['webp (lossy, VP8)', 37, 23],
    ['webp (lossless, VP8L)', 37, 23],
    ['webp (alpha, VP8X)', 37, 23],
    ['avif (via sharp)', 37, 23],
    ['tiff (via sharp)', 37, 23],
    ['svg (via sharp)', 37, 23],
    ['pixel bomb png', 60000, 60000],
  ])('reads %s as %i×%i', async (name, width, height) => {
    const { buffer, type } = samples.get(name)!;
    await expect(readDimensions(buffer, type)).resolves.toEqual({ width, height });
  });

  it('agrees with sharp on the JavaScript-parsed types', async () => {
    for (const name of ['jpeg', 'png', 'gif', 'webp (lossy, VP8)', 'webp (lossless, VP8L)']) {
      const { buffer, type } = samples.get(name)!;
      const { width, height } = await sharp(buffer).metadata();
      await expect(readDimensions(buffer, type)).resolves.toEqual({ width, height });
    }
  });

  it('lets a caller refuse the 60000×60000 PNG before decoding it', async () => {
    const bomb = pngDeclaring(60000, 60000);
    expect(bomb.length).toBeLessThan(100);
    const dims = await readDimensions(bomb, 'image/png');
    expect(dims!.width * dims!.height).toBeGreaterThan(268_402_689);
  });

  it.each([
    ['truncated png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
    ['jpeg without SOF', Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg'],
    ['short gif', Buffer.from('GIF89a'), 'image/gif'],
    ['short webp', Buffer.from('RIFF\0\0\0\0WEBP'), 'image/webp'],
    ['garbage avif', Buffer.from('not an avif at all'), 'image/avif'],
    ['zero-width png', pngDeclaring(0, 10), 'image/png'],
  ])('returns undefined for %s', async (_name, buffer, type) => {
    await expect(readDimensions(buffer, type)).resolves.toBeUndefined();
  });
});
