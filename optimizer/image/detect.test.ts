import { beforeAll, describe, expect, it } from 'vitest';
import { contentTypeForExtension, detectContentType, extensionFor } from './detect.ts';
import { animation, bmp1x1, ftyp, icoHeader, photo, solidPng } from './test-support/fixtures.ts';

const samples = new Map<string, Buffer>();

beforeAll(async () => {
  const png = await solidPng(8, 8, 'green');
  samples.set('jpeg', await photo(16, 16).jpeg().toBuffer());
  samples.set('png', png);
  samples.set('webp', await photo(16, 16).webp().toBuffer());
  samples.set('avif', await photo(16, 16).avif().toBuffer());
  samples.set('gif', await photo(16, 16).gif().toBuffer());
  samples.set('animated gif', await animation('gif'));
  samples.set('tiff', await photo(16, 16).tiff().toBuffer());
  samples.set('svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'));
  samples.set(
    'xml svg',
    Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
  );
  samples.set('ico', icoHeader());
  samples.set('icns', Buffer.concat([Buffer.from('icns'), Buffer.alloc(8)]));
  samples.set('bmp', bmp1x1());
  samples.set('jxl codestream', Buffer.from([0xff, 0x0a, 0xfa, 0x7f]));
  samples.set(
    'jxl box',
    Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0]),
  );
  samples.set('heic', ftyp('heic'));
  samples.set('jp2', Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]));
  samples.set('pdf', Buffer.from('%PDF-1.7\n%âãÏÓ\n'));
  samples.set('html', Buffer.from('<!doctype html><html><body>nope</body></html>'));
  samples.set('text', Buffer.from('just some text'));
  samples.set('empty', Buffer.alloc(0));
  samples.set('avif ftyp too short', ftyp('avif', 12));
  samples.set('svg after whitespace', Buffer.from('  <svg/>'));
  samples.set('truncated png signature', png.subarray(0, 5));
  samples.set('riff but not webp', Buffer.from('RIFF\0\0\0\0WAVEfmt '));
});

describe('detectContentType', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
    ['avif', 'image/avif'],
    ['gif', 'image/gif'],
    ['animated gif', 'image/gif'],
    ['tiff', 'image/tiff'],
    ['svg', 'image/svg+xml'],
    ['xml svg', 'image/svg+xml'],
    ['ico', 'image/x-icon'],
    ['icns', 'image/x-icns'],
    ['bmp', 'image/bmp'],
    ['jxl codestream', 'image/jxl'],
    ['jxl box', 'image/jxl'],
    ['heic', 'image/heic'],
    ['jp2', 'image/jp2'],
    ['pdf', 'application/pdf'],
    ['html', null],
    ['text', null],
    ['empty', null],
    ['avif ftyp too short', null],
    ['svg after whitespace', null],
    ['truncated png signature', null],
    ['riff but not webp', null],
  ])('detects %s as %s', (name, expected) => {
    expect(detectContentType(samples.get(name)!)).toBe(expected);
  });

  it('ignores everything after the magic bytes (PNG bytes then HTML)', () => {
    const png = samples.get('png')!;
    const mixed = Buffer.concat([png.subarray(0, 8), Buffer.from('<html>')]);
    expect(detectContentType(mixed)).toBe('image/png');
  });
});

describe('extensionFor and contentTypeForExtension', () => {
  it.each([
    ['image/jpeg', 'jpeg'],
    ['image/png', 'png'],
    ['image/webp', 'webp'],
    ['image/avif', 'avif'],
    ['image/gif', 'gif'],
    ['image/svg+xml', 'svg'],
    ['image/x-icon', 'ico'],
    ['image/x-icns', 'icns'],
    ['image/bmp', 'bmp'],
    ['image/tiff', 'tiff'],
    ['image/jxl', 'jxl'],
    ['image/heic', 'heic'],
    ['image/jp2', 'jp2'],
  ])('maps %s to %s and back', (contentType, extension) => {
    expect(extensionFor(contentType)).toBe(extension);
    expect(contentTypeForExtension(extension)).toBe(contentType);
  });

  it.each([['application/pdf'], ['text/html'], ['']])('has no extension for %j', (type) => {
    expect(extensionFor(type)).toBeNull();
  });

  it.each([
    ['jpg', 'image/jpeg'],
    ['JPG', 'image/jpeg'],
    ['tif', 'image/tiff'],
    ['exe', null],
  ])('maps extension %s to %s', (extension, contentType) => {
    expect(contentTypeForExtension(extension)).toBe(contentType);
  });
});
