/**
 * Test images, built at test time with real sharp or, for headers sharp cannot write
 * (APNG, ICO, pixel bombs), by hand with valid chunk CRCs.
 */
import sharp, { type Sharp } from 'sharp';
import { PNG_SIGNATURE, pngChunk } from '../../../test/support/png.ts';

/** A PNG whose IHDR declares `width`×`height` RGB but carries a few bytes of IDAT. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The start of an Adam7-interlaced 8-bit RGBA PNG declaring `width`×`height`: signature, IHDR
 * and the first bytes of an IDAT whose declared length runs far past what follows (a truncated
 * body, as a download cut short would leave it).
 */
export function interlacedRgbaPngHead(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[12] = 1; // Adam7 interlace
  const idat = Buffer.alloc(8 + 64);
  idat.writeUInt32BE(64 * 1024 * 1024, 0);
  idat.write('IDAT', 4, 'latin1');
  idat.set([0x78, 0x9c], 8);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), idat]);
}

/** Inserts an `acTL` chunk after IHDR, which makes a PNG an APNG to any detector. */
export function withAnimationControl(png: Buffer, frames: number): Buffer {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames, 0);
  actl.writeUInt32BE(0, 4); // loop forever
  return Buffer.concat([png.subarray(0, ihdrEnd), pngChunk('acTL', actl), png.subarray(ihdrEnd)]);
}

/** A smooth, photo-like RGB image (gradients plus mild noise), deterministic. */
export function photoPixels(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = seed % 24;
      const i = (y * width + x) * 3;
      pixels[i] = (128 + 100 * Math.sin(x / 50) + noise) & 255;
      pixels[i + 1] = (128 + 100 * Math.cos(y / 40) + noise) & 255;
      pixels[i + 2] = ((x + y) / 8 + noise) & 255;
    }
  }
  return pixels;
}

/** A photo-like image as a sharp pipeline, ready for an encoder. */
export function photo(width: number, height: number): Sharp {
  return sharp(photoPixels(width, height), { raw: { width, height, channels: 3 } });
}

/** A solid-colour PNG. */
export function solidPng(width: number, height: number, colour: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** Two frames of different colours joined into an animation, encoded as `format`. */
export async function animation(format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = [await solidPng(16, 8, 'red'), await solidPng(16, 8, 'blue')];
  const joined = sharp(frames, { join: { animated: true } });
  const encoded =
    format === 'gif' ? joined.gif({ delay: [100, 100] }) : joined.webp({ delay: [100, 100] });
  return encoded.toBuffer();
}

/** A minimal ICO: a directory with one 16×16 entry (no image data needed for detection). */
export function icoHeader(): Buffer {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type icon
  header.writeUInt16LE(1, 4); // one image
  header[6] = 16;
  header[7] = 16;
  return header;
}

/** A 1×1 24-bit BMP. */
export function bmp1x1(): Buffer {
  const file = Buffer.alloc(58);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(58, 2);
  file.writeUInt32LE(54, 10); // pixel data offset
  file.writeUInt32LE(40, 14); // BITMAPINFOHEADER
  file.writeInt32LE(1, 18);
  file.writeInt32LE(1, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  return file;
}

/** An ISO-BMFF `ftyp` box with the given major brand and declared size, as HEIC/AVIF begin. */
export function ftyp(brand: string, declaredSize = 24): Buffer {
  const box = Buffer.alloc(24);
  box.writeUInt32BE(declaredSize, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brand, 8, 'latin1');
  box.write('mif1', 16, 'latin1');
  return box;
}
