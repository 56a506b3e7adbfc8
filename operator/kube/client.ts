import {
  type HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  RequestContext,
} from '@kubernetes/client-node';
import { type Dispatcher, fetch } from 'undici';
import { KubeApiError } from '../errors.ts';
import { kindOf, resourcePath } from './kinds.ts';

/** A list response: items plus the resourceVersion to watch from. */
export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A small REST client over the kubeconfig's credentials. It sends objects as plain JSON: the
 * generated clients pass built-in kinds through ObjectSerializer, which drops fields its models
 * name differently (NetworkPolicy `from`) and opens a new connection pool per request.
 */
export class KubeClient {
  readonly #kc: KubeConfig;
  readonly #server: string;
  #dispatcher: Dispatcher | undefined;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new TypeError('the kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = cluster.server.replace(/\/+$/, '');
  }

  /** One API request; JSON in and out. Throws KubeApiError for any non-2xx answer. */
  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const url = `${this.#server}${path}`;
    const ctx = new RequestContext(url, method as HttpMethod);
    // Re-applied per request: tokens may rotate (in-cluster ones are re-read every minute).
    await this.#kc.applySecurityAuthentication(ctx);
    this.#dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined;
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType;
    const init: Parameters<typeof fetch>[1] = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (this.#dispatcher !== undefined) init.dispatcher = this.#dispatcher;
    const res = await fetch(url, init);
    const text = await res.text();
    if (res.status < 200 || res.status >= 300)
      throw KubeApiError.fromResponse(method, path, res.status, text);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** GET one object; undefined when it does not exist. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (error: unknown) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** GET a collection, following `continue` tokens. */
  async list<T>(
    path: string,
    labelSelector?: string,
    fieldSelector?: string,
  ): Promise<ObjectList<T>> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (labelSelector !== undefined) query.set('labelSelector', labelSelector);
      if (fieldSelector !== undefined) query.set('fieldSelector', fieldSelector);
      if (token !== undefined) query.set('continue', token);
      const page = await this.request<ObjectList<T>>('GET', `${path}?${query}`);
      items.push(...page.items);
      resourceVersion = page.metadata?.resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    return { items, metadata: resourceVersion === undefined ? {} : { resourceVersion } };
  }

  /** Server-side apply of `object` (or of its status) with `fieldManager`, forcing ownership. */
  async apply<T extends KubernetesObject>(
    object: T,
    fieldManager: string,
    subresource?: 'status',
  ): Promise<T> {
    const kind = kindOf(object.apiVersion, object.kind);
    const name = object.metadata?.name;
    if (name === undefined) throw new TypeError(`${object.kind} without a name`);
    const query = new URLSearchParams({ fieldManager, force: 'true' });
    const path = `${resourcePath(kind, object.metadata?.namespace, name, subresource)}?${query}`;
    return this.request<T>('PATCH', path, object, 'application/apply-patch+yaml');
  }

  /** DELETE one object (background propagation); a missing object is not an error. */
  async delete(path: string, uid?: string): Promise<void> {
    const body: Record<string, unknown> = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
    };
    // The precondition keeps us from deleting a same-named object someone re-created meanwhile.
    if (uid !== undefined) body.preconditions = { uid };
    try {
      await this.request('DELETE', path, body);
    } catch (error: unknown) {
      if (error instanceof KubeApiError && error.status === 404) return;
      throw error;
    }
  }
}
