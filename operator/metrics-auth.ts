import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KubeClient } from './kube/client.ts';

// Who may read /metrics, asked of the API server as controller-runtime's secure metrics
// (filters.WithAuthenticationAndAuthorization) and kube-rbac-proxy do: the bearer token is
// checked with a TokenReview, then the user with a SubjectAccessReview for the non-resource
// URL and verb; answers are cached briefly so a scrape every few seconds costs no API calls.

/** The answer for one request. */
export type MetricsAccess = 'allowed' | 'unauthenticated' | 'forbidden';

/** The non-resource URL a scraper must be allowed to GET (METRICS_READER_RULES in rbac.ts). */
export const METRICS_PATH = '/metrics';

export const METRICS_AUTH_CACHE = {
  /** A valid token and an allowed user stay cached this long. */
  allowedTtlMs: 60_000,
  /** A refusal is cached shorter, so a new RoleBinding takes effect soon. */
  deniedTtlMs: 10_000,
  entries: 1024,
} as const;

interface TokenReview {
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}
interface SubjectAccessReview {
  status?: { allowed?: boolean };
}

/** Checks bearer tokens against the API server; one per operator process. */
export class MetricsAuthorizer {
  readonly #client: KubeClient;
  readonly #cache = new LRUCache<string, MetricsAccess>({
    max: METRICS_AUTH_CACHE.entries,
    ttl: METRICS_AUTH_CACHE.allowedTtlMs,
  });

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** Whether `token` may GET `path`; API errors propagate (the caller answers 500). */
  async check(
    token: string | undefined,
    path = METRICS_PATH,
    verb = 'get',
  ): Promise<MetricsAccess> {
    if (token === undefined || token === '') return 'unauthenticated';
    const key = `${createHash('sha256').update(token).digest('hex')} ${verb} ${path}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const access = await this.#ask(token, path, verb);
    this.#cache.set(key, access, {
      ttl: access === 'allowed' ? METRICS_AUTH_CACHE.allowedTtlMs : METRICS_AUTH_CACHE.deniedTtlMs,
    });
    return access;
  }

  async #ask(token: string, path: string, verb: string): Promise<MetricsAccess> {
    const review = await this.#client.request<TokenReview>(
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      },
    );
    const user = review.status?.user;
    if (review.status?.authenticated !== true || user === undefined) return 'unauthenticated';
    const sar = await this.#client.request<SubjectAccessReview>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          extra: user.extra,
          nonResourceAttributes: { path, verb },
        },
      },
    );
    return sar.status?.allowed === true ? 'allowed' : 'forbidden';
  }
}
