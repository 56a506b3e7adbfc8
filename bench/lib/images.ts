import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/** One generated source image. */
export type SourceImage = {
  name: string;
  path: string;
  type: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  bytes: number;
};

type Spec = { name: string; width: number; height: number; seed: number };

// Bump when the generator changes so cached files are regenerated.
const GENERATOR_VERSION = 3;

/** 2–6 MP sources, JPEG and PNG, as the issue asks. */
export const SOURCE_SPECS: readonly Spec[] = [
  { name: 'photo-1.jpg', width: 2400, height: 1600, seed: 1 },
  { name: 'photo-2.jpg', width: 3000, height: 2000, seed: 2 },
  { name: 'photo-3.jpg', width: 1800, height: 1200, seed: 3 },
  { name: 'photo-4.png', width: 2048, height: 1365, seed: 4 },
  { name: 'photo-5.png', width: 1920, height: 1280, seed: 5 },
];

/** Column (f)'s large sources, 16–24 MP (issue 14): a 24 MP camera JPEG and a 16 MP PNG. */
export const LARGE_SOURCE_SPECS: readonly Spec[] = [
  { name: 'large-1.jpg', width: 6000, height: 4000, seed: 11 },
  { name: 'large-2.png', width: 4896, height: 3264, seed: 12 },
];

/** mulberry32: a tiny seeded PRNG, so every run gets byte-identical sources. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Low-frequency gradients and waves plus per-pixel noise: compresses roughly like a photo
// (smooth areas, texture, sensor noise) instead of like flat synthetic art.
function background(spec: Spec, rand: () => number): Buffer {
  const { width, height } = spec;
  const out = Buffer.allocUnsafe(width * height * 3);
  const waves = Array.from({ length: 3 }, () => ({
    fx: (rand() * 6 + 1) / width,
    fy: (rand() * 6 + 1) / height,
    phase: rand() * Math.PI * 2,
    amp: [rand() * 40, rand() * 40, rand() * 40],
  }));
  const base = [rand() * 120 + 40, rand() * 120 + 40, rand() * 120 + 40];
  const slope = [rand() * 80 - 40, rand() * 80 - 40, rand() * 80 - 40];
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const noise = (rand() + rand() - 1) * 10;
      for (let c = 0; c < 3; c++) {
        let v = base[c]! + (slope[c]! * (x + y)) / (width + height);
        for (const w of waves)
          v += w.amp[c]! * Math.sin((x * w.fx + y * w.fy) * Math.PI * 2 + w.phase);
        out[i++] = Math.max(0, Math.min(255, v + noise * (0.8 + c * 0.1)));
      }
    }
  }
  return out;
}

function shapes(spec: Spec, rand: () => number): Buffer {
  const items: string[] = [];
  for (let k = 0; k < 40; k++) {
    const color = `rgb(${Math.floor(rand() * 255)},${Math.floor(rand() * 255)},${Math.floor(rand() * 255)})`;
    const x = Math.floor(rand() * spec.width);
    const y = Math.floor(rand() * spec.height);
    const r = Math.floor(rand() * spec.width * 0.12 + 20);
    const opacity = (rand() * 0.5 + 0.3).toFixed(2);
    items.push(
      k % 2 === 0
        ? `<ellipse cx="${x}" cy="${y}" rx="${r}" ry="${Math.floor(r * (0.4 + rand()))}" fill="${color}" fill-opacity="${opacity}"/>`
        : `<rect x="${x}" y="${y}" width="${r}" height="${Math.floor(r * (0.3 + rand()))}" fill="${color}" fill-opacity="${opacity}" transform="rotate(${Math.floor(rand() * 90)} ${x} ${y})"/>`,
    );
  }
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}">${items.join('')}</svg>`,
  );
}

// Fine, partly per-channel grain on top, as a camera sensor adds after the optics.
function addGrain(data: Buffer, channels: number, rand: () => number): void {
  for (let i = 0; i < data.length; i += channels) {
    const luma = (rand() + rand() + rand() - 1.5) * 12;
    for (let c = 0; c < 3; c++) {
      data[i + c] = Math.max(0, Math.min(255, data[i + c]! + luma + (rand() - 0.5) * 6));
    }
  }
}

async function render(spec: Spec): Promise<Buffer> {
  const rand = prng(spec.seed);
  const raw = background(spec, rand);
  const { width, height } = spec;
  // Shapes are blurred into the noisy background so edges are soft, then the noise goes on top.
  const layered = await sharp(raw, { raw: { width, height, channels: 3 } })
    .composite([{ input: shapes(spec, rand) }])
    .blur(0.7)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { channels } = layered.info;
  addGrain(layered.data, channels, rand);
  const image = sharp(layered.data, { raw: { width, height, channels } }).removeAlpha();
  return spec.name.endsWith('.png')
    ? image.png({ compressionLevel: 6 }).toBuffer()
    : image.jpeg({ quality: 85, chromaSubsampling: '4:2:0' }).toBuffer();
}

/** Generates (or reuses from `dir`) the deterministic source images of `specs`. */
export async function ensureSourceImages(
  dir: string,
  specs: readonly Spec[] = SOURCE_SPECS,
): Promise<SourceImage[]> {
  const target = join(dir, `v${GENERATOR_VERSION}`);
  await mkdir(target, { recursive: true });
  const images: SourceImage[] = [];
  for (const spec of specs) {
    const path = join(target, spec.name);
    if (!existsSync(path)) {
      const data = await render(spec);
      await writeFile(`${path}.tmp`, data);
      await rename(`${path}.tmp`, path);
    }
    const bytes = (await readFile(path)).length;
    const type = spec.name.endsWith('.png') ? 'image/png' : 'image/jpeg';
    images.push({ name: spec.name, path, type, width: spec.width, height: spec.height, bytes });
  }
  return images;
}
