// Source requests as the source sees them, for the e2e's "exactly one fetch" check: a count
// per path in this process (the sample runs one replica), kept on globalThis so the route
// handlers, bundled separately, share it. Every request is also logged.
globalThis.__sourceRequests ??= new Map();
const counts = globalThis.__sourceRequests;

/** Counts one request for `path`. */
export function count(path) {
  counts.set(path, (counts.get(path) ?? 0) + 1);
  console.log(`source-request ${path}`);
}

/** Every path's count so far. */
export function snapshot() {
  return Object.fromEntries(counts);
}
