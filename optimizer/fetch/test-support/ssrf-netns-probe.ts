/**
 * Run ONLY inside a network namespace that has nothing but loopback (ssrf-netns.test.ts
 * spawns it under `unshare -n`): it asks fetchExternalImage for private and metadata
 * addresses, so a broken guard fails locally instead of sending packets. Prints one JSON
 * line per case: { name, status, code, message }.
 */
import { networkInterfaces } from 'node:os';
import { isPublicUnicast } from '../address-policy.ts';
import { closeFetchAgents } from '../agents.ts';
import { type ExternalFetchOptions, fetchExternalImage } from '../external.ts';
import { errorCode } from '../fetch-errors.ts';
import { mapLookup, startFixture } from './fixture-server.ts';

const interfaces = Object.keys(networkInterfaces());
if (interfaces.some((name) => name !== 'lo')) {
  process.stderr.write(`refusing to run outside an isolated namespace: ${interfaces.join(', ')}\n`);
  process.exit(2);
}

const fixture = await startFixture();
fixture.route('/to-private', (_req, res) => {
  res.statusCode = 302;
  res.setHeader('location', 'http://10.0.0.1/');
  res.end();
});
fixture.route('/to-metadata', (_req, res) => {
  res.statusCode = 301;
  res.setHeader('location', 'http://169.254.169.254/latest/meta-data/');
  res.end();
});
fixture.route('/to-internal-name', (_req, res) => {
  res.statusCode = 307;
  res.setHeader('location', 'http://internal.test/secret');
  res.end();
});

const lookup = mapLookup({
  'public.test': ['127.0.0.1'],
  'internal.test': ['10.9.8.7'],
  'metadata.test': ['169.254.169.254'],
  'split.test': ['93.184.216.34', '10.0.0.1'],
});
// 127.0.0.1 plays a public host so the first hop of the redirect cases is allowed.
const loopbackIsPublic = (address: string): boolean =>
  address === '127.0.0.1' || isPublicUnicast(address);

const base: Omit<ExternalFetchOptions, 'signal'> = {
  maximumResponseBody: 1_000_000,
  maximumRedirects: 3,
  dangerouslyAllowLocalIP: false,
  lookup,
};

const cases: [string, string, Partial<ExternalFetchOptions>][] = [
  ['metadata literal', 'http://169.254.169.254/latest', {}],
  ['private literal', 'http://10.1.2.3/', {}],
  ['CGNAT literal', 'http://100.64.0.1/', {}],
  ['unspecified literal', 'http://0.0.0.0/', {}],
  ['ULA literal', 'http://[fd00::1]/', {}],
  ['IPv4-mapped private literal', 'http://[::ffff:10.0.0.1]/', {}],
  ['name resolving to 10.x', 'http://internal.test/', {}],
  ['name resolving to metadata', 'http://metadata.test/', {}],
  ['name with one private address', 'http://split.test/', {}],
  [
    'redirect to 10.0.0.1',
    `http://public.test:${fixture.port}/to-private`,
    { isAllowedAddress: loopbackIsPublic },
  ],
  [
    'redirect to metadata',
    `http://public.test:${fixture.port}/to-metadata`,
    { isAllowedAddress: loopbackIsPublic },
  ],
  [
    'redirect to a name resolving to 10.x',
    `http://public.test:${fixture.port}/to-internal-name`,
    { isAllowedAddress: loopbackIsPublic },
  ],
  // Control: with the guard disabled the same request must fail in the kernel, proving the
  // namespace (and not the guard) is what keeps these cases from leaving the machine.
  ['control: guard disabled', 'http://10.1.2.3/', { isAllowedAddress: () => true }],
];

for (const [name, href, overrides] of cases) {
  const outcome = await fetchExternalImage(href, {
    ...base,
    ...overrides,
    signal: AbortSignal.timeout(5000),
  }).then(
    () => ({ status: 200, code: 'OK', message: '' }),
    (error: unknown) => ({
      status: (error as { statusCode?: number }).statusCode ?? 500,
      code: errorCode(error) ?? 'NONE',
      causeCode: errorCode((error as { cause?: unknown }).cause),
      message: error instanceof Error ? error.message : String(error),
    }),
  );
  process.stdout.write(`${JSON.stringify({ name, ...outcome })}\n`);
}

await closeFetchAgents();
await fixture.close();
