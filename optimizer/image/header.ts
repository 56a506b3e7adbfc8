/**
 * What decoding an image will cost, read from its first bytes only, so the optimizer can admit
 * a job against its memory budget before the body is downloaded (docs/sizing.md). Each parser
 * reads container structure, never pixel data, and answers undefined while the bytes it has
 * do not reach the field it needs (the caller reads more, up to a bound).
 */
import { isAnimated } from './animated.ts';
import { AVIF, GIF, HEIC, JPEG, PNG, WEBP } from './detect.ts';
import { jpegFrameOffset } from './dimensions.ts';

/** The decoder-relevant facts of an image header. */
export interface ImageHeader {
  width: number;
  height: number;
  /** Bands libvips decodes to (palette → RGBA, GIF → RGBA, alpha counted). */
  channels: number;
  /** 1 for 8-bit samples, 2 for 12/16-bit. */
  bytesPerChannel: number;
  /**
   * Bytes a multi-pass decode holds besides the output frame: a whole second frame for
   * Adam7-interlaced PNG, the DCT coefficients (2 bytes per sample) for progressive JPEG.
   */
  passBytes: number;
  /** More than one frame, as far as the bytes read show; animated images are never decoded. */
  animated: boolean;
}

function header(
  width: number,
  height: number,
  channels: number,
  bytesPerChannel: number,
  passFrames = 0,
): ImageHeader | undefined {
  if (!(width > 0 && height > 0)) return undefined;
  const passBytes = passFrames * width * height * channels * bytesPerChannel;
  return { width, height, channels, bytesPerChannel, passBytes, animated: false };
}

const PNG_CHANNELS: ReadonlyMap<number, number> = new Map([
  [0, 1], // grey
  [2, 3], // RGB
  [3, 4], // palette: expanded to RGB, RGBA with tRNS — count the larger
  [4, 2], // grey + alpha
  [6, 4], // RGBA
]);

function pngHeader(buffer: Buffer): ImageHeader | undefined {
  // Signature (8), IHDR length (4), 'IHDR' (4), width, height, depth, colour, …, interlace.
  if (buffer.length < 29 || buffer.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const channels = PNG_CHANNELS.get(buffer[25]!) ?? 4;
  const bytes = buffer[24] === 16 ? 2 : 1;
  const interlaced = buffer[28] === 1;
  const found = header(
    buffer.readUInt32BE(16),
    buffer.readUInt32BE(20),
    channels,
    bytes,
    interlaced ? 1 : 0,
  );
  return found && { ...found, animated: isAnimated(buffer, PNG) };
}

function gifHeader(buffer: Buffer): ImageHeader | undefined {
  if (buffer.length < 13) return undefined;
  const found = header(buffer.readUInt16LE(6), buffer.readUInt16LE(8), 4, 1);
  return found && { ...found, animated: isAnimated(buffer, GIF) };
}

/** SOF2, SOF6, SOF10 and SOF14 are the progressive processes. */
const PROGRESSIVE_SOF: ReadonlySet<number> = new Set([0xc2, 0xc6, 0xca, 0xce]);

function jpegHeader(buffer: Buffer): ImageHeader | undefined {
  const at = jpegFrameOffset(buffer);
  if (at === undefined || at + 10 > buffer.length) return undefined;
  const marker = buffer[at + 1]!;
  const bytes = buffer[at + 4]! > 8 ? 2 : 1;
  const components = buffer[at + 9]!;
  // Coefficients are 16-bit whatever the precision: 2 / bytes frames of `bytes` samples.
  const passFrames = PROGRESSIVE_SOF.has(marker) ? 2 / bytes : 0;
  return header(
    buffer.readUInt16BE(at + 7),
    buffer.readUInt16BE(at + 5),
    components,
    bytes,
    passFrames,
  );
}

const VP8X_ALPHA = 0x10;
const VP8X_ANIMATION = 0x02;

function webpHeader(buffer: Buffer): ImageHeader | undefined {
  if (buffer.length < 30) return undefined;
  const chunk = buffer.toString('latin1', 12, 16);
  const data = 20;
  if (chunk === 'VP8X') {
    const flags = buffer[data]!;
    const found = header(
      1 + buffer.readUIntLE(data + 4, 3),
      1 + buffer.readUIntLE(data + 7, 3),
      flags & VP8X_ALPHA ? 4 : 3,
      1,
    );
    return found && { ...found, animated: (flags & VP8X_ANIMATION) !== 0 };
  }
  if (chunk === 'VP8 ' && buffer[data + 3] === 0x9d && buffer[data + 4] === 0x01) {
    return header(
      buffer.readUInt16LE(data + 6) & 0x3fff,
      buffer.readUInt16LE(data + 8) & 0x3fff,
      3,
      1,
    );
  }
  if (chunk === 'VP8L' && buffer[data] === 0x2f) {
    const bits = buffer.readUInt32LE(data + 1);
    const alpha = (bits >>> 28) & 1;
    return header(1 + (bits & 0x3fff), 1 + ((bits >>> 14) & 0x3fff), alpha ? 4 : 3, 1);
  }
  return undefined;
}

/** Box containers whose children are read to reach `ispe` and `pixi` (meta is a full box). */
const HEIF_CONTAINERS: ReadonlyMap<string, number> = new Map([
  ['meta', 4],
  ['iprp', 0],
  ['ipco', 0],
]);

interface HeifFacts {
  width: number;
  height: number;
  bits: number;
  /** False until the ipco box was read to its end. */
  complete: boolean;
}

function walkHeifBoxes(buffer: Buffer, start: number, end: number, facts: HeifFacts): void {
  let at = start;
  while (at + 8 <= end) {
    const size = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    if (size < 8) return; // 0 (to the end of file) and 1 (64-bit) never hold our boxes
    const boxEnd = at + size;
    const skip = HEIF_CONTAINERS.get(type);
    if (type === 'ispe' && at + 20 <= buffer.length) {
      const width = buffer.readUInt32BE(at + 12);
      const height = buffer.readUInt32BE(at + 16);
      // The primary image is the largest; thumbnails and alpha planes declare their own.
      if (width * height > facts.width * facts.height) {
        facts.width = width;
        facts.height = height;
      }
    } else if (type === 'pixi' && at + 13 <= buffer.length) {
      facts.bits = Math.max(facts.bits, buffer[at + 13] ?? 8);
    } else if (skip !== undefined) {
      walkHeifBoxes(buffer, at + 8 + skip, Math.min(boxEnd, buffer.length), facts);
      if (type === 'ipco' && boxEnd <= buffer.length) facts.complete = true;
    }
    at = boxEnd;
  }
}

function heifHeader(buffer: Buffer): ImageHeader | undefined {
  const facts: HeifFacts = { width: 0, height: 0, bits: 8, complete: false };
  walkHeifBoxes(buffer, 0, buffer.length, facts);
  if (!facts.complete) return undefined;
  return header(facts.width, facts.height, 4, facts.bits > 8 ? 2 : 1);
}

const PARSERS: ReadonlyMap<string, (buffer: Buffer) => ImageHeader | undefined> = new Map([
  [PNG, pngHeader],
  [GIF, gifHeader],
  [JPEG, jpegHeader],
  [WEBP, webpHeader],
  [AVIF, heifHeader],
  [HEIC, heifHeader],
]);

/** True when `contentType` has a header parser here. */
export function hasHeaderParser(contentType: string): boolean {
  return PARSERS.has(contentType);
}

/** The header facts of `head` (the first bytes of a `contentType` image), or undefined. */
export function readImageHeader(head: Buffer, contentType: string): ImageHeader | undefined {
  return PARSERS.get(contentType)?.(head);
}

/**
 * Bytes the decoder holds at its peak for this image: one frame of width × height × channels ×
 * bytes per channel, plus what a multi-pass decode keeps (passBytes). Counted as a whole frame
 * even for a sequential decode: EXIF rotation and some resizes need random access.
 */
export function decoderWorkingSet(image: ImageHeader): number {
  return image.width * image.height * image.channels * image.bytesPerChannel + image.passBytes;
}
