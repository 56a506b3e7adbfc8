/**
 * The image layer of the optimizer: detection, header checks, the sharp transform and
 * its work queue. No HTTP here; the route and pipeline call these.
 */
export { animationVerdict, isAnimated } from './animated.ts';
export { defaultConcurrency, parseCpuMax } from './concurrency.ts';
export { contentTypeForExtension, detectContentType, extensionFor } from './detect.ts';
export { type Dimensions, readDimensions } from './dimensions.ts';
export { TransformError } from './errors.ts';
export {
  decoderWorkingSet,
  hasHeaderParser,
  type ImageHeader,
  readImageHeader,
} from './header.ts';
export {
  type JobTimings,
  TransformProcessPool,
  type TransformProcessPoolOptions,
} from './process-pool.ts';
export { type Admission, TransformQueue, type TransformQueueOptions } from './queue.ts';
export {
  avifQuality,
  BYPASS_TYPES,
  type OptimizeOptions,
  optimizeImage,
  outputType,
} from './transform.ts';
