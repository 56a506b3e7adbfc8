/**
 * How many bytes of the memory budget a job asks for, decided from the first bytes of its
 * source before the body is downloaded (docs/sizing.md): the source itself, twice when it goes
 * to a transform (the buffer here and the transform child's copy), plus the decoder's working
 * set estimated from the image header. Pure; the queue does the waiting.
 */
import {
  BYPASS_TYPES,
  decoderWorkingSet,
  detectContentType,
  hasHeaderParser,
  type ImageHeader,
  readImageHeader,
} from './image/index.ts';

/** What a job will do with its source, as far as its first bytes tell. */
export type DecodePlan =
  /** Served as it is (not an image, a bypass type, animated, a pixel bomb): no decoder. */
  | 'never'
  /** Decoded; `bytes` counts the decoder's working set. */
  | 'decode'
  /** No header parser for the type (TIFF…): sized from its dimensions once downloaded. */
  | 'after-download'
  /** The decoder alone would pass the whole budget: served untransformed, never decoded. */
  | 'over-budget';

/** A job's claim on the memory budget. */
export interface AdmissionPlan {
  decode: DecodePlan;
  /** Bytes to admit. */
  bytes: number;
  header: ImageHeader | undefined;
}

/** What the plan is made from. */
export interface AdmissionInput {
  head: Buffer;
  /** The body's size: known (all read, or Content-Length), else maximumResponseBody. */
  sourceBytes: number;
  budgetBytes: number;
  maxInputPixels: number;
}

/** Bytes of a decoded job: both copies of the source plus the decoder's working set. */
export function decodeBytes(sourceBytes: number, workingSet: number): number {
  return 2 * sourceBytes + workingSet;
}

/** The admission plan of a source from its first bytes. */
export function planAdmission(input: AdmissionInput): AdmissionPlan {
  const { head, sourceBytes } = input;
  const type = detectContentType(head);
  const served = (header?: ImageHeader): AdmissionPlan => ({
    decode: 'never',
    bytes: sourceBytes,
    header,
  });
  if (type === null || !type.startsWith('image/') || BYPASS_TYPES.has(type)) return served();
  const header = hasHeaderParser(type) ? readImageHeader(head, type) : undefined;
  if (header === undefined) {
    return { decode: 'after-download', bytes: decodeBytes(sourceBytes, 0), header };
  }
  if (header.animated || header.width * header.height > input.maxInputPixels) {
    return served(header);
  }
  const bytes = decodeBytes(sourceBytes, decoderWorkingSet(header));
  if (bytes > input.budgetBytes) return { decode: 'over-budget', bytes: sourceBytes, header };
  return { decode: 'decode', bytes, header };
}

/** True once `head` holds what planAdmission needs: the type and, if it has one, the header. */
export function headIsConclusive(head: Buffer): boolean {
  if (head.length < 32) return false;
  const type = detectContentType(head);
  if (type === null || !hasHeaderParser(type)) return true;
  return readImageHeader(head, type) !== undefined;
}
