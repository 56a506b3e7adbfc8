/**
 * The optimizer's source-fetching layer. `fetchExternalImage` fetches an absolute source like
 * Next.js 16 (exact request headers, SSRF guard with DNS pinning re-checked at every redirect
 * hop, `maximumRedirects`, gzip/deflate/br decoding, `maximumResponseBody` enforced while
 * streaming); `fetchInternalImage` GETs a relative source from the fallback application with
 * Next's internal-fetch outcomes and no client headers; `fetchWithRetries` wraps either in
 * per-attempt timeouts and jittered retries of only what a retry can fix, bounded by the job's
 * signal. Errors are Next's ImageErrors (exact status and text) or plain errors that Next
 * answers with 500; `retryable: true` marks the ones worth another attempt.
 */

export { isPublicUnicast } from './address-policy.ts';
export { closeFetchAgents } from './agents.ts';
export type { HeadRule } from './body.ts';
export {
  type GuardOptions,
  guardHost,
  type LookupFn,
  type ResolvedAddress,
  resolveHost,
  systemLookup,
} from './dns-guard.ts';
export {
  type ExternalFetchOptions,
  type FetchLimits,
  fetchExternalImage,
  openExternalImage,
} from './external.ts';
export {
  DnsLookupError,
  UnpinnedConnectError,
  UnsupportedProtocolError,
  UpstreamConnectionError,
} from './fetch-errors.ts';
export {
  fetchInternalImage,
  type InternalFetchOptions,
  internalUrl,
  openInternalImage,
} from './internal.ts';
export {
  backoffDelay,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  fetchWithRetries,
  type RetryInfo,
  type RetryOptions,
  shouldRetry,
} from './retry.ts';
export { readUpstreamSource, type UpstreamSource } from './upstream-response.ts';
