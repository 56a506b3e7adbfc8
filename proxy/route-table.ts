import { type GatewayConfig, type GatewayMethod, PROXY_DEFAULTS } from '../api/gateway-config.ts';
import { RouteConflictError } from './errors.ts';

/**
 * Which application answers a request, the way @platformatic/gateway decides it.
 *
 * Platformatic registers, for every application with a proxy, one fastify route per entry of
 * `proxy.routes` under the plugin prefix `proxy.prefix` (default "/<id>"), for the methods in
 * `proxy.methods` (HEAD follows GET). Fastify's router (find-my-way) then picks the route, not
 * the order of the applications: it keeps one tree per method and, walking the path, prefers a
 * static character over a `:param` over a `*` wildcard, backtracking when a branch dead-ends.
 * The same method and path claimed twice is a start-up error. This module reproduces that
 * without fastify so it can be tested as a table.
 */

/** One application as the route table sees it. */
export interface TableApplication {
  id: string;
  /** Mount point as given (`proxy.prefix`), or undefined for Platformatic's "/<id>". */
  prefix: string | undefined;
  routes: readonly string[];
  methods: readonly GatewayMethod[];
}

/** A route as registered: method, full path pattern and its application. */
export interface TableRoute {
  method: string;
  path: string;
  application: string;
  /** The normalised plugin prefix ("" for "/"), stripped from forwarded paths. */
  prefix: string;
}

/** The application for a request and what to forward. */
export interface RouteMatch {
  application: string;
  /** The registered pattern that matched, e.g. "/_next/image" or "/*". */
  pattern: string;
  /** The application's normalised prefix ("" for "/"). */
  prefix: string;
  /** The raw request path with the application's prefix removed (may be ""). */
  rest: string;
  /** The query string including its "?", or "". */
  query: string;
}

interface Node {
  statics: Map<string, Node>;
  param: Node | undefined;
  wildcard: TableRoute | undefined;
  route: TableRoute | undefined;
}

const newNode = (): Node => ({
  statics: new Map(),
  param: undefined,
  wildcard: undefined,
  route: undefined,
});

/** Fastify's prefix normalisation: a leading "/", no trailing "/" ("" for the root). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The full paths fastify registers for `route` under `prefix` (prefixTrailingSlash "both"). */
function fullPaths(prefix: string, route: string): string[] {
  if (route === '/' && prefix !== '') return [prefix, `${prefix}/`];
  return [prefix + route];
}

/** The applications of a gateway config that take part in proxying, in file order. */
export function tableApplications(config: GatewayConfig): TableApplication[] {
  const out: TableApplication[] = [];
  for (const app of config.gateway.applications) {
    if (app.proxy === false) continue;
    out.push({
      id: app.id,
      prefix: app.proxy?.prefix,
      routes: app.proxy?.routes ?? PROXY_DEFAULTS.routes,
      methods: app.proxy?.methods ?? PROXY_DEFAULTS.methods,
    });
  }
  return out;
}

/** Splits a pattern into static runs, `:param` segments and a trailing `*`. */
function tokens(pattern: string): Array<{ kind: 'static' | 'param' | 'wildcard'; text: string }> {
  const out: Array<{ kind: 'static' | 'param' | 'wildcard'; text: string }> = [];
  const re = /:[A-Za-z_][\w]*|\*$/g;
  let last = 0;
  for (let m = re.exec(pattern); m !== null; m = re.exec(pattern)) {
    if (m.index > last) out.push({ kind: 'static', text: pattern.slice(last, m.index) });
    out.push({ kind: m[0] === '*' ? 'wildcard' : 'param', text: m[0] });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) out.push({ kind: 'static', text: pattern.slice(last) });
  return out;
}

/** The request path as find-my-way matches it: before "?"/"#", decodeURI'd when valid. */
function matchablePath(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/** A pure, immutable routing table; build it once per config. */
export class RouteTable {
  readonly routes: readonly TableRoute[];
  readonly #trees = new Map<string, Node>();

  private constructor(routes: TableRoute[]) {
    this.routes = routes;
    for (const route of routes) this.#insert(route);
  }

  /** Builds the table; throws RouteConflictError when a method and path are claimed twice. */
  static build(applications: readonly TableApplication[]): RouteTable {
    const routes: TableRoute[] = [];
    const claimed = new Map<string, string>();
    for (const app of applications) {
      const prefix = normalizePrefix(app.prefix ?? app.id);
      // HEAD is not configurable: fastify exposes it wherever GET is.
      const methods = app.methods.includes('GET') ? [...app.methods, 'HEAD'] : [...app.methods];
      for (const route of app.routes) {
        for (const path of fullPaths(prefix, route)) {
          for (const method of methods) {
            // find-my-way treats "/a/:x" and "/a/:y" as the same route.
            const key = `${method} ${path.replace(/:[A-Za-z_]\w*/g, ':')}`;
            const owner = claimed.get(key);
            if (owner !== undefined) throw new RouteConflictError(method, path, owner, app.id);
            claimed.set(key, app.id);
            routes.push({ method, path, application: app.id, prefix });
          }
        }
      }
    }
    return new RouteTable(routes);
  }

  /** The application for `method` and `url` (path + query), or undefined (→ 404). */
  match(method: string, url: string): RouteMatch | undefined {
    const tree = this.#trees.get(method.toUpperCase());
    if (tree === undefined) return undefined;
    const cut = url.search(/[?#]/);
    const rawPath = cut === -1 ? url : url.slice(0, cut);
    const query = cut === -1 || url[cut] === '#' ? '' : url.slice(cut).replace(/#.*$/, '');
    const route = find(tree, matchablePath(rawPath));
    if (route === undefined) return undefined;
    const rest = rawPath.startsWith(route.prefix) ? rawPath.slice(route.prefix.length) : rawPath;
    return {
      application: route.application,
      pattern: route.path,
      prefix: route.prefix,
      rest,
      query,
    };
  }

  #insert(route: TableRoute): void {
    let tree = this.#trees.get(route.method);
    if (tree === undefined) {
      tree = newNode();
      this.#trees.set(route.method, tree);
    }
    let node = tree;
    for (const token of tokens(route.path)) {
      if (token.kind === 'wildcard') {
        node.wildcard = route;
        return;
      }
      if (token.kind === 'param') {
        node.param ??= newNode();
        node = node.param;
        continue;
      }
      for (const char of token.text) {
        let next = node.statics.get(char);
        if (next === undefined) {
          next = newNode();
          node.statics.set(char, next);
        }
        node = next;
      }
    }
    node.route = route;
  }
}

type Step = { node: Node; index: number } | TableRoute;

/**
 * Depth-first in find-my-way's order: static, then parameter, then wildcard, backtracking on
 * dead ends. Iterative, so a long URL cannot exhaust the call stack.
 */
function find(root: Node, path: string): TableRoute | undefined {
  const stack: Step[] = [{ node: root, index: 0 }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if (!('node' in step)) return step;
    const { node, index } = step;
    if (index === path.length && node.route !== undefined) return node.route;
    // Pushed in reverse priority: the last pushed is tried first.
    if (node.wildcard !== undefined) stack.push(node.wildcard);
    if (node.param !== undefined) {
      const slash = path.indexOf('/', index);
      stack.push({ node: node.param, index: slash === -1 ? path.length : slash });
    }
    const char = path[index];
    const next = char === undefined ? undefined : node.statics.get(char);
    if (next !== undefined) stack.push({ node: next, index: index + 1 });
  }
  return undefined;
}
