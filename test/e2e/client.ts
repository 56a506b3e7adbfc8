// The e2e's HTTP client, run inside the cluster's network namespace (`nsenter --net=…
// node client.ts …`): Service and pod addresses exist only there. Node's own fetch, nothing
// else, so what the gateway sees is what any HTTP client sends. Prints one JSON line.
//
//   node client.ts get <url> [<header>=<value>…]    one request: status, headers, body
//   node client.ts post <url> [<header>=<value>…]   the same with POST and no body
//   node client.ts burst <n> <url>… [<header>=<value>…]  n at once per URL, all together
//   node client.ts load <url-with-{i}> [<header>=<value>…]  a request after another (URL
//       {i} = request number mod 4, so most are hits) until stdin ends; then the counts

/** What one request returned. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bytes: number;
  /** The body when it is text (html, json, plain, or untyped), else empty. */
  readonly text: string;
}

/** What a `load` run counted. */
export interface LoadReport {
  readonly ok: number;
  readonly failed: number;
  /** The first failures: status or error text, with the time since the start in ms. */
  readonly failures: readonly string[];
  readonly durationMs: number;
}

const headersOf = (pairs: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    pairs.map((p) => {
      const eq = p.indexOf('=');
      return [p.slice(0, eq), p.slice(eq + 1)];
    }),
  );

async function get(
  url: string,
  headers: Record<string, string>,
  method: 'GET' | 'POST' = 'GET',
): Promise<Reply> {
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    bytes: body.length,
    // Next.js sends its 400s with no content type at all.
    text: type === '' || /^(text\/|application\/json)/.test(type) ? body.toString('utf8') : '',
  };
}

async function load(template: string, headers: Record<string, string>): Promise<LoadReport> {
  let stop = false;
  process.stdin.on('data', () => undefined);
  process.stdin.once('end', () => {
    stop = true;
  });
  process.stdin.resume();
  const started = Date.now();
  let ok = 0;
  let failed = 0;
  const failures: string[] = [];
  const worker = async (w: number): Promise<void> => {
    for (let i = w; !stop; i += 2) {
      const url = template.replaceAll('{i}', String(i % 4));
      try {
        const r = await get(url, headers);
        if (r.status === 200) ok++;
        else {
          failed++;
          if (failures.length < 20)
            failures.push(`${Date.now() - started} ms: ${r.status} ${r.text.slice(0, 200)}`);
        }
      } catch (err) {
        failed++;
        if (failures.length < 20) failures.push(`${Date.now() - started} ms: ${String(err)}`);
      }
    }
  };
  await Promise.all([worker(0), worker(1)]);
  return { ok, failed, failures, durationMs: Date.now() - started };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mode, ...rest] = process.argv.slice(2);
  let out: unknown;
  if (mode === 'get' && rest[0] !== undefined) out = await get(rest[0], headersOf(rest.slice(1)));
  else if (mode === 'post' && rest[0] !== undefined)
    out = await get(rest[0], headersOf(rest.slice(1)), 'POST');
  else if (mode === 'burst' && rest[0] !== undefined && rest[1] !== undefined) {
    const n = Number(rest[0]);
    const urls = rest.slice(1).filter((a) => /^https?:\/\//.test(a));
    const headers = headersOf(rest.slice(1).filter((a) => !/^https?:\/\//.test(a)));
    out = await Promise.all(
      urls
        .flatMap((url) => Array.from({ length: n }, () => url))
        .map((url) =>
          get(url, headers).then(
            (r) => ({ status: r.status, headers: r.headers, bytes: r.bytes }),
            (err: unknown) => ({ status: 0, error: String(err) }),
          ),
        ),
    );
  } else if (mode === 'load' && rest[0] !== undefined)
    out = await load(rest[0], headersOf(rest.slice(1)));
  else {
    process.stderr.write('usage: client.ts get|post|burst <n>|load <url> [<header>=<value>…]\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
