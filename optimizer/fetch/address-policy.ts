import ipaddr from 'ipaddr.js';

/**
 * The SSRF address policy (spec statement 31): only globally routable unicast addresses may be
 * fetched. Pure, so the whole matrix is testable without sending a packet.
 */

/** The 96 leading zero bits of a deprecated IPv4-compatible IPv6 address (`::a.b.c.d`). */
const IPV4_COMPATIBLE_PREFIX = ipaddr.parseCIDR('::/96');

/**
 * True when `address` (an IP literal, optionally bracketed) is public unicast: ipaddr.js's
 * `range()` is `'unicast'` after unwrapping IPv4-mapped IPv6. Anything unparsable is refused.
 */
export function isPublicUnicast(address: string): boolean {
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(literal)) return false;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() unwraps ::ffff:a.b.c.d so a mapped private v4 is judged as v4.
    parsed = ipaddr.process(literal);
  } catch {
    return false;
  }
  if (parsed.range() !== 'unicast') return false;
  // ipaddr.js calls ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291) unicast; it embeds a v4
  // address some stacks still translate, so it is refused like the other embeddings (6to4,
  // Teredo, NAT64 — which range() already reports as non-unicast).
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE_PREFIX)) return false;
  return true;
}
