import Accept from '@hapi/accept';

/**
 * Next.js's getSupportedMimeType: @hapi/accept's choice among `formats`, kept only when the
 * raw Accept header contains it verbatim (so `*\/*` and `image/*` mean "no preference").
 */
export function negotiateMimeType(formats: readonly string[], accept: string | undefined): string {
  const header = accept ?? '';
  let mimeType: string;
  try {
    mimeType = Accept.mediaType(header, formats);
  } catch {
    // A malformed Accept header is no preference, not an error.
    return '';
  }
  return mimeType !== '' && header.includes(mimeType) ? mimeType : '';
}
