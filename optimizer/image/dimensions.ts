/**
 * Image dimensions from headers, so the pipeline can refuse a pixel bomb (a few KB that
 * declare 60000×60000) before it takes a transform slot or decodes a single pixel.
 * PNG, GIF, JPEG and WebP — nearly all traffic — are parsed here in JavaScript: that is
 * synchronous and avoids a trip through libuv's thread pool, which busy transforms
 * occupy. Other types ask sharp, whose `metadata()` reads headers only.
 */

import { GIF, JPEG, PNG, WEBP } from './detect.ts';
import { sharp } from './sharp-setup.ts';

/** Width and height in pixels, as stored (before any EXIF rotation). */
export interface Dimensions {
  width: number;
  height: number;
}

function dimensions(width: number, height: number): Dimensions | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function pngDimensions(buffer: Buffer): Dimensions | undefined {
  // Signature (8), IHDR length (4), 'IHDR' (4), width (4), height (4).
  if (buffer.length < 24 || buffer.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return dimensions(buffer.readUInt32BE(16), buffer.readUInt32BE(20));
}

function gifDimensions(buffer: Buffer): Dimensions | undefined {
  if (buffer.length < 10) return undefined;
  return dimensions(buffer.readUInt16LE(6), buffer.readUInt16LE(8));
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The offset of a JPEG's start-of-frame marker (0xFF, SOFn), walking the marker segments from
 * the start; undefined when `buffer` ends first or is not a marker stream. The frame header's
 * fields then follow: precision at +4, height at +5, width at +7, components at +9.
 */
export function jpegFrameOffset(buffer: Buffer): number | undefined {
  let at = 2;
  while (at + 4 <= buffer.length) {
    if (buffer[at] !== 0xff) return undefined;
    const marker = buffer[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2; // standalone marker, no length
      continue;
    }
    if (isStartOfFrame(marker)) return at;
    at += 2 + buffer.readUInt16BE(at + 2);
  }
  return undefined;
}

function jpegDimensions(buffer: Buffer): Dimensions | undefined {
  const at = jpegFrameOffset(buffer);
  if (at === undefined || at + 9 > buffer.length) return undefined;
  return dimensions(buffer.readUInt16BE(at + 7), buffer.readUInt16BE(at + 5));
}

function webpDimensions(buffer: Buffer): Dimensions | undefined {
  if (buffer.length < 30) return undefined;
  const chunk = buffer.toString('latin1', 12, 16);
  const data = 20;
  if (chunk === 'VP8X') {
    return dimensions(1 + buffer.readUIntLE(data + 4, 3), 1 + buffer.readUIntLE(data + 7, 3));
  }
  if (chunk === 'VP8 ' && buffer[data + 3] === 0x9d && buffer[data + 4] === 0x01) {
    return dimensions(
      buffer.readUInt16LE(data + 6) & 0x3fff,
      buffer.readUInt16LE(data + 8) & 0x3fff,
    );
  }
  if (chunk === 'VP8L' && buffer[data] === 0x2f) {
    const bits = buffer.readUInt32LE(data + 1);
    return dimensions(1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff));
  }
  return undefined;
}

const PARSERS: ReadonlyMap<string, (buffer: Buffer) => Dimensions | undefined> = new Map([
  [PNG, pngDimensions],
  [GIF, gifDimensions],
  [JPEG, jpegDimensions],
  [WEBP, webpDimensions],
]);

/** Width and height from the header of `buffer`, or undefined when it cannot be read. */
export async function readDimensions(
  buffer: Buffer,
  contentType: string,
): Promise<Dimensions | undefined> {
  const parse = PARSERS.get(contentType);
  if (parse) return parse(buffer);
  try {
    // The limit is off here on purpose: this call exists to *report* a bomb's size so the
    // caller can refuse it; with the limit on, sharp would throw instead of telling us.
    const { width, height } = await sharp(buffer, { limitInputPixels: false }).metadata();
    return width !== undefined && height !== undefined ? dimensions(width, height) : undefined;
  } catch {
    return undefined;
  }
}
