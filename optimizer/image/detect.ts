/**
 * Content-type detection from magic bytes only, in Next.js 16's order (spec statement 17).
 * The upstream Content-Type header is never trusted: an HTML error page served as
 * `image/png` must not reach sharp, and PNG bytes served as `text/html` are still a PNG.
 */

// The content types detection can return, spelled as Next.js sends them.
export const JPEG = 'image/jpeg';
export const PNG = 'image/png';
export const GIF = 'image/gif';
export const WEBP = 'image/webp';
export const SVG = 'image/svg+xml';
export const AVIF = 'image/avif';
export const ICO = 'image/x-icon';
export const ICNS = 'image/x-icns';
export const TIFF = 'image/tiff';
export const BMP = 'image/bmp';
export const JXL = 'image/jxl';
export const HEIC = 'image/heic';
export const PDF = 'application/pdf';
export const JP2 = 'image/jp2';

/** A signature byte, or null for "any byte" (box sizes, RIFF length). */
type Pattern = readonly (number | null)[];

function ascii(text: string): number[] {
  return Array.from(text, (char) => char.charCodeAt(0));
}

function matches(buffer: Buffer, pattern: Pattern, offset = 0): boolean {
  if (buffer.length < offset + pattern.length) return false;
  return pattern.every((byte, i) => byte === null || buffer[offset + i] === byte);
}

const ANY4: Pattern = [null, null, null, null];

/** An ISO-BMFF `ftyp` box whose major brand is `brand`, declaring at least 16 bytes. */
function isFtyp(buffer: Buffer, brand: string): boolean {
  if (!matches(buffer, [...ANY4, ...ascii('ftyp'), ...ascii(brand)])) return false;
  return buffer.readUInt32BE(0) >= 16;
}

/** Signatures in the order Next.js 16 tests them; the first match wins. */
const SIGNATURES: readonly { type: string; test: (buffer: Buffer) => boolean }[] = [
  { type: JPEG, test: (b) => matches(b, [0xff, 0xd8, 0xff]) },
  { type: PNG, test: (b) => matches(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: GIF, test: (b) => matches(b, ascii('GIF8')) },
  { type: WEBP, test: (b) => matches(b, [...ascii('RIFF'), ...ANY4, ...ascii('WEBP')]) },
  { type: SVG, test: (b) => matches(b, ascii('<?xml')) || matches(b, ascii('<svg')) },
  { type: AVIF, test: (b) => isFtyp(b, 'avif') },
  { type: ICO, test: (b) => matches(b, [0x00, 0x00, 0x01, 0x00]) },
  { type: ICNS, test: (b) => matches(b, ascii('icns')) },
  { type: TIFF, test: (b) => matches(b, [0x49, 0x49, 0x2a, 0x00]) },
  { type: BMP, test: (b) => matches(b, ascii('BM')) },
  { type: JXL, test: (b) => matches(b, [0xff, 0x0a]) },
  {
    type: JXL,
    test: (b) => matches(b, [0, 0, 0, 0x0c, ...ascii('JXL '), 0x0d, 0x0a, 0x87, 0x0a]),
  },
  { type: HEIC, test: (b) => isFtyp(b, 'heic') },
  { type: PDF, test: (b) => matches(b, ascii('%PDF-')) },
  { type: JP2, test: (b) => matches(b, [0, 0, 0, 0x0c, ...ascii('jP  '), 0x0d, 0x0a, 0x87, 0x0a]) },
];

/**
 * The content type of `buffer` from its magic bytes, or null when it is none we know.
 * Deliberately no heuristic fallback: an unknown type is refused (400), never guessed.
 */
export function detectContentType(buffer: Buffer): string | null {
  for (const signature of SIGNATURES) {
    if (signature.test(buffer)) return signature.type;
  }
  return null;
}

const EXTENSIONS: ReadonlyMap<string, string> = new Map([
  [JPEG, 'jpeg'],
  [PNG, 'png'],
  [WEBP, 'webp'],
  [AVIF, 'avif'],
  [GIF, 'gif'],
  [SVG, 'svg'],
  [ICO, 'ico'],
  [ICNS, 'icns'],
  [BMP, 'bmp'],
  [TIFF, 'tiff'],
  [JXL, 'jxl'],
  [HEIC, 'heic'],
  [JP2, 'jp2'],
]);

const TYPES_BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ...Array.from(EXTENSIONS, ([type, extension]): [string, string] => [extension, type]),
  // Aliases seen in file names and cache entries written by other tools.
  ['jpg', JPEG],
  ['tif', TIFF],
]);

/** The cache/file extension of an image content type (`image/jpeg` → `jpeg`), or null. */
export function extensionFor(contentType: string): string | null {
  return EXTENSIONS.get(contentType) ?? null;
}

/** The content type of a cache/file extension (`jpeg` or `jpg` → `image/jpeg`), or null. */
export function contentTypeForExtension(extension: string): string | null {
  return TYPES_BY_EXTENSION.get(extension.toLowerCase()) ?? null;
}
