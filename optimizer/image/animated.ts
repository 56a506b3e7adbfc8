/**
 * Animation detection without decoding pixels (spec statement 20: animated images are
 * served untouched). Each check walks container structure only, so a hostile file costs
 * at most one pass over its bytes and never a decode.
 */
import { GIF, PNG, WEBP } from './detect.ts';

const GIF_EXTENSION = 0x21;
const GIF_IMAGE = 0x2c;

/** Skips GIF data sub-blocks starting at `offset`; returns the offset after the terminator. */
function skipSubBlocks(buffer: Buffer, offset: number): number {
  let at = offset;
  while (at < buffer.length) {
    const size = buffer[at]!;
    at += 1 + size;
    if (size === 0) return at;
  }
  return buffer.length;
}

/** Bytes taken by a colour table whose presence and size are packed in `flags`. */
function colourTableSize(flags: number): number {
  return flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0;
}

/** True when the GIF holds more than one image; a truncated file counts what it has. */
function isAnimatedGif(buffer: Buffer): boolean {
  if (buffer.length < 13) return false;
  let at = 13 + colourTableSize(buffer[10]!);
  let images = 0;
  while (at < buffer.length) {
    const block = buffer[at]!;
    if (block === GIF_IMAGE) {
      images += 1;
      if (images > 1) return true;
      if (at + 10 > buffer.length) return false;
      at += 10 + colourTableSize(buffer[at + 9]!);
      at = skipSubBlocks(buffer, at + 1); // +1: the LZW minimum code size byte
    } else if (block === GIF_EXTENSION) {
      at = skipSubBlocks(buffer, at + 2);
    } else {
      // The trailer, or garbage: either way no further frame can be trusted.
      return false;
    }
  }
  return false;
}

/** True when an `acTL` chunk precedes the first `IDAT` (the APNG rule). */
function pngVerdict(buffer: Buffer): boolean | undefined {
  let at = 8;
  while (at + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    if (type === 'acTL') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + length; // length, type, data, CRC
  }
  return undefined;
}

function isAnimatedPng(buffer: Buffer): boolean {
  return pngVerdict(buffer) ?? false;
}

const VP8X_ANIMATION_FLAG = 0x02;

/** True when the VP8X header sets the animation flag or the file has an ANIM chunk. */
function webpVerdict(buffer: Buffer): boolean | undefined {
  let at = 12;
  while (at + 8 <= buffer.length) {
    const type = buffer.toString('latin1', at, at + 4);
    const length = buffer.readUInt32LE(at + 4);
    if (type === 'VP8X' && at + 9 <= buffer.length) {
      if ((buffer[at + 8]! & VP8X_ANIMATION_FLAG) !== 0) return true;
    } else if (type === 'ANIM' || type === 'ANMF') {
      return true;
    } else if (type === 'VP8 ' || type === 'VP8L') {
      // A simple-format bitstream: no animation can follow it.
      return false;
    }
    at += 8 + length + (length % 2); // chunks are padded to an even size
  }
  return undefined;
}

function isAnimatedWebp(buffer: Buffer): boolean {
  return webpVerdict(buffer) ?? false;
}

/** Whether `buffer` (of the detected `contentType`) is an animated GIF, APNG or WebP. */
export function isAnimated(buffer: Buffer, contentType: string): boolean {
  switch (contentType) {
    case GIF:
      return isAnimatedGif(buffer);
    case PNG:
      return isAnimatedPng(buffer);
    case WEBP:
      return isAnimatedWebp(buffer);
    default:
      return false;
  }
}

/**
 * Whether `head` (the first bytes of a source) settles the animation question: true or false
 * when a decisive chunk is in it (APNG's acTL comes before the first IDAT; WebP's VP8X flag or
 * ANIM before the bitstream), undefined when the answer may lie further on (then ask
 * isAnimated with the whole body). GIF needs its frames counted: always undefined.
 */
export function animationVerdict(head: Buffer, contentType: string): boolean | undefined {
  switch (contentType) {
    case PNG:
      return pngVerdict(head);
    case WEBP:
      return webpVerdict(head);
    case GIF:
      return undefined;
    default:
      return false;
  }
}
