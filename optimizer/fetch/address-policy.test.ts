import { describe, expect, it } from 'vitest';
import { isPublicUnicast } from './address-policy.ts';

// Pure: no address here is ever connected to.
const refused: [string, string][] = [
  ['127.0.0.1', 'IPv4 loopback'],
  ['127.255.255.254', 'IPv4 loopback, end of 127/8'],
  ['0.0.0.0', 'IPv4 unspecified'],
  ['0.1.2.3', 'IPv4 "this network" 0/8'],
  ['10.0.0.1', 'RFC 1918 10/8'],
  ['10.255.255.255', 'RFC 1918 10/8, last'],
  ['172.16.0.1', 'RFC 1918 172.16/12'],
  ['172.31.255.255', 'RFC 1918 172.16/12, last'],
  ['192.168.1.1', 'RFC 1918 192.168/16'],
  ['169.254.169.254', 'link-local cloud metadata'],
  ['169.254.0.1', 'link-local'],
  ['100.64.0.1', 'CGNAT 100.64/10'],
  ['100.127.255.255', 'CGNAT, last'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast SSDP'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved 240/4'],
  ['192.0.0.8', 'IETF protocol assignments 192.0.0/24'],
  ['192.0.2.10', 'TEST-NET-1'],
  ['198.51.100.7', 'TEST-NET-2'],
  ['203.0.113.7', 'TEST-NET-3'],
  ['198.18.0.1', 'benchmarking 198.18/15'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['::1', 'IPv6 loopback'],
  ['[::1]', 'bracketed IPv6 loopback'],
  ['::', 'IPv6 unspecified'],
  ['fe80::1', 'IPv6 link-local'],
  ['fe80::1%eth0', 'IPv6 link-local with zone'],
  ['fc00::1', 'unique-local fc00::/7'],
  ['fd00::1', 'unique-local fd00::/8'],
  ['fd12:3456:789a::1', 'unique-local'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'IPv6 multicast'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
  ['::ffff:0:a00:1', 'IPv4-translated (RFC 6145)'],
  ['::10.0.0.1', 'IPv4-compatible (deprecated) private'],
  ['::8.8.8.8', 'IPv4-compatible (deprecated) public'],
  ['::808:808', 'IPv4-compatible (deprecated), hex form'],
  ['64:ff9b::a00:1', 'NAT64 embedding 10.0.0.1'],
  ['64:ff9b::808:808', 'NAT64 embedding a public address'],
  ['64:ff9b:1::1', 'local-use NAT64 (RFC 8215)'],
  ['2002:a00:1::1', '6to4 embedding 10.0.0.1'],
  ['2002:7f00:1::1', '6to4 embedding 127.0.0.1'],
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'Teredo'],
  ['2001:db8::1', 'documentation'],
  ['100::1', 'discard-only'],
  ['3fff::1', 'documentation (RFC 9637)'],
  ['0x7f.1', 'non-canonical IPv4 loopback'],
  ['2130706433', 'IPv4 loopback as one number'],
  ['', 'empty'],
  ['localhost', 'a name, not an address'],
  ['example.com', 'a name'],
  ['256.1.1.1', 'out of range octet'],
  ['[::1', 'broken bracket'],
  ['::ffff:999.0.0.1', 'broken mapped'],
];

const allowed: [string, string][] = [
  ['8.8.8.8', 'public IPv4'],
  ['1.1.1.1', 'public IPv4'],
  ['93.184.216.34', 'public IPv4'],
  ['100.63.255.255', 'just below CGNAT'],
  ['100.128.0.1', 'just above CGNAT'],
  ['172.15.255.255', 'just below 172.16/12'],
  ['172.32.0.1', 'just above 172.16/12'],
  ['11.0.0.1', 'just above 10/8'],
  ['169.253.255.255', 'just below link-local'],
  ['223.255.255.254', 'just below multicast'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2a00:1450:4001:82b::200e', 'public IPv6'],
  ['[2606:4700:4700::1111]', 'bracketed public IPv6'],
];

describe('isPublicUnicast', () => {
  it.each(refused)('refuses %s (%s)', (address) => {
    expect(isPublicUnicast(address)).toBe(false);
  });

  it.each(allowed)('allows %s (%s)', (address) => {
    expect(isPublicUnicast(address)).toBe(true);
  });
});
