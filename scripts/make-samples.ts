// Generates the sample images `next-image dev` serves (assets/samples/). Run once, commit the
// output: `node scripts/make-samples.ts`. Photo-like scenes drawn as SVG, softened and given
// film grain so the encoders face something closer to a photograph than flat colour.
import { mkdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const out = fileURLToPath(new URL('../assets/samples/', import.meta.url));

const mountains = (w: number, h: number): string => `
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1d3b6e"/><stop offset="0.55" stop-color="#f3a65a"/><stop offset="1" stop-color="#f7d8a8"/>
    </linearGradient>
    <radialGradient id="sun" cx="0.5" cy="0.5" r="0.5">
      <stop offset="0" stop-color="#fff6d5"/><stop offset="1" stop-color="#ffd27a" stop-opacity="0"/>
    </radialGradient>
    <linearGradient id="lake" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3a5f8a"/><stop offset="1" stop-color="#10233d"/>
    </linearGradient>
  </defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  <circle cx="${w * 0.68}" cy="${h * 0.42}" r="${h * 0.22}" fill="url(#sun)"/>
  <polygon fill="#4b4f6b" points="0,${h * 0.62} ${w * 0.14},${h * 0.38} ${w * 0.27},${h * 0.55} ${w * 0.42},${h * 0.3} ${w * 0.6},${h * 0.58} ${w * 0.78},${h * 0.36} ${w},${h * 0.6} ${w},${h} 0,${h}"/>
  <polygon fill="#2c3047" points="0,${h * 0.7} ${w * 0.2},${h * 0.52} ${w * 0.36},${h * 0.66} ${w * 0.55},${h * 0.48} ${w * 0.74},${h * 0.68} ${w * 0.9},${h * 0.55} ${w},${h * 0.64} ${w},${h} 0,${h}"/>
  <rect y="${h * 0.72}" width="${w}" height="${h * 0.28}" fill="url(#lake)"/>
  <ellipse cx="${w * 0.68}" cy="${h * 0.8}" rx="${w * 0.06}" ry="${h * 0.012}" fill="#ffe2a0" opacity="0.7"/>
</svg>`;

const flowers = (w: number, h: number): string => {
  let petals = '';
  for (let i = 0; i < 14; i++) {
    const x = ((i * 137) % 100) / 100;
    const y = ((i * 61) % 100) / 100;
    const r = 40 + ((i * 29) % 60);
    const hue = (i * 47) % 360;
    petals += `<circle cx="${x * w}" cy="${y * h}" r="${r}" fill="hsl(${hue},70%,60%)" opacity="0.85"/>`;
    petals += `<circle cx="${x * w}" cy="${y * h}" r="${r / 3}" fill="hsl(${(hue + 40) % 360},80%,35%)"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <defs><radialGradient id="bg" cx="0.4" cy="0.4" r="0.8">
    <stop offset="0" stop-color="#6d9a4a"/><stop offset="1" stop-color="#1f3a1c"/></radialGradient></defs>
  <rect width="${w}" height="${h}" fill="url(#bg)"/>${petals}</svg>`;
};

const logo = (size: number): string => `
<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#21fa90"/><stop offset="1" stop-color="#0b6e4f"/></linearGradient></defs>
  <rect x="${size * 0.08}" y="${size * 0.08}" width="${size * 0.84}" height="${size * 0.84}" rx="${size * 0.18}" fill="url(#g)"/>
  <path d="M ${size * 0.3} ${size * 0.7} L ${size * 0.3} ${size * 0.3} L ${size * 0.7} ${size * 0.7} L ${size * 0.7} ${size * 0.3}"
    stroke="#ffffff" stroke-width="${size * 0.08}" fill="none" stroke-linecap="round" stroke-linejoin="round"/>
</svg>`;

/** Renders `svg`, softens it and adds grain, as a photo would have. */
async function photo(svg: string, w: number, h: number): Promise<sharp.Sharp> {
  const base = await sharp(Buffer.from(svg)).blur(1.2).raw().toBuffer();
  const grain = await sharp({
    create: {
      width: w,
      height: h,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 10 },
    },
  })
    .raw()
    .toBuffer();
  return sharp(base, { raw: { width: w, height: h, channels: 4 } })
    .removeAlpha()
    .composite([{ input: grain, raw: { width: w, height: h, channels: 3 }, blend: 'soft-light' }]);
}

await mkdir(out, { recursive: true });
await (await photo(mountains(1600, 1067), 1600, 1067))
  .jpeg({ quality: 78, mozjpeg: true })
  .toFile(`${out}mountains.jpg`);
await (await photo(flowers(1200, 1200), 1200, 1200))
  .jpeg({ quality: 78, mozjpeg: true })
  .toFile(`${out}flowers.jpg`);
await sharp(Buffer.from(logo(512)))
  .png({ compressionLevel: 9 })
  .toFile(`${out}logo.png`);
for (const name of ['mountains.jpg', 'flowers.jpg', 'logo.png']) {
  process.stdout.write(`${name}: ${(await stat(`${out}${name}`)).size} bytes\n`);
}
