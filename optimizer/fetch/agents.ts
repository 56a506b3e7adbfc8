import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { bareHostname } from './dns-guard.ts';
import { UnpinnedConnectError } from './fetch-errors.ts';

/**
 * The process-wide keep-alive pools (Next: one keep-alive agent). External requests are
 * dispatched to a checked IP address (origin `http://203.0.113.7:80`, Host header = the real
 * host, TLS servername = the real host), so undici pools sockets per checked address and a
 * socket can never reach an address the guard did not approve — even when the same name later
 * resolves elsewhere (DNS rebinding) or another request used a laxer policy.
 */

let external: Agent | undefined;
let internal: Agent | undefined;

/** A connector that only ever connects to IP literals: a name here means a bypassed guard. */
function pinnedConnector(): buildConnector.connector {
  // HTTP/1.1 only, as Next's fetch: h2 coalescing could reuse a session across hosts.
  const connect = buildConnector({ allowH2: false });
  return (options, callback) => {
    if (isIP(bareHostname(options.hostname)) === 0) {
      callback(new UnpinnedConnectError(options.hostname), null);
      return;
    }
    connect(options, callback);
  };
}

/** The keep-alive agent for absolute (external, SSRF-guarded) sources. */
export function externalAgent(): Agent {
  external ??= new Agent({ connect: pinnedConnector() });
  return external;
}

/** The keep-alive agent for the trusted fallback application. */
export function internalAgent(): Agent {
  internal ??= new Agent({ connect: { allowH2: false } });
  return internal;
}

/** Closes both pools (graceful shutdown); later fetches open new ones. */
export async function closeFetchAgents(): Promise<void> {
  const agents = [external, internal].filter((agent) => agent !== undefined);
  external = undefined;
  internal = undefined;
  await Promise.all(agents.map((agent) => agent.close()));
}
