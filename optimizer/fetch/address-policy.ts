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
  const parsed = parseAddress(address);
  if (parsed === undefined) return false;
  // Judge ::ffff:a.b.c.d as the IPv4 address it reaches.
  const judged =
    parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
      ? (parsed as ipaddr.IPv6).toIPv4Address()
      : parsed;
  if (judged.range() !== 'unicast') return false;
  // ipaddr.js calls ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291) unicast; it embeds a v4
  // address some stacks still translate, so it is refused like the other embeddings (6to4,
  // Teredo, NAT64 — which range() already reports as non-unicast).
  if (judged.kind() === 'ipv6' && judged.match(IPV4_COMPATIBLE_PREFIX)) return false;
  return true;
}

/** Parses an IP literal the way the socket layer reads it, or undefined. */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (literal.includes(':')) {
    // ipaddr.js reads the deprecated `::a.b.c.d` as IPv4-mapped, unlike the kernel; the WHATWG
    // serializer gives the canonical hex form both agree on. Zone ids do not survive it: refused.
    try {
      literal = new URL(`http://[${literal}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  if (!ipaddr.isValid(literal)) return undefined;
  try {
    return ipaddr.parse(literal);
  } catch {
    return undefined;
  }
}
