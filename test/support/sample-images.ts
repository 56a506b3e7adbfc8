import sharp from 'sharp';
import { PNG_SIGNATURE, pngChunk } from './png.ts';

/** Images of every kind the endpoint must handle, generated with sharp (deterministic). */
export interface SampleImages {
  jpeg: Buffer;
  png: Buffer;
  webp: Buffer;
  avif: Buffer;
  gif: Buffer;
  animatedGif: Buffer;
  svg: Buffer;
  ico: Buffer;
  bmp: Buffer;
  /** A 1200×800 JPEG with EXIF orientation 6 (rotated 90° on display). */
  rotatedJpeg: Buffer;
  /** A tiny PNG whose header declares 60000×60000 pixels. */
  pixelBomb: Buffer;
}

function gradient(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 255) / width;
      raw[i + 1] = (y * 255) / height;
      raw[i + 2] = ((x + y) * 7) % 255;
    }
  }
  return raw;
}

/** A structurally valid PNG header declaring width×height, with a token IDAT. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Generates the samples (a second or two with sharp). */
export async function makeSampleImages(): Promise<SampleImages> {
  const width = 1200;
  const height = 800;
  const raw = { raw: { width, height, channels: 3 as const } };
  const base = gradient(width, height);
  const frame = (color: string): Promise<Buffer> =>
    sharp({ create: { width: 64, height: 64, channels: 3, background: color } })
      .png()
      .toBuffer();
  const frames = await Promise.all([frame('#ff0000'), frame('#00ff00'), frame('#0000ff')]);
  const ico = Buffer.alloc(70);
  ico.set([0x00, 0x00, 0x01, 0x00, 0x01, 0x00], 0);
  const bmp = Buffer.alloc(70);
  bmp.write('BM', 0, 'ascii');
  return {
    jpeg: await sharp(base, raw).jpeg({ quality: 90 }).toBuffer(),
    png: await sharp(base, raw).png().toBuffer(),
    webp: await sharp(base, raw).webp({ quality: 90 }).toBuffer(),
    avif: await sharp(base, raw).resize(300).avif({ quality: 50, effort: 0 }).toBuffer(),
    gif: await sharp(base, raw).resize(200).gif().toBuffer(),
    animatedGif: await sharp(frames, { join: { animated: true } })
      .gif({ delay: [100, 100, 100], loop: 0 })
      .toBuffer(),
    svg: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    ),
    ico,
    bmp,
    rotatedJpeg: await sharp(base, raw).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
    pixelBomb: pngDeclaring(60000, 60000),
  };
}
