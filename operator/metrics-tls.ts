import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/** The key pair and certificate /metrics is served with. */
export interface MetricsTls {
  key: string;
  cert: string;
  /** Where they came from, for the start-up log. */
  source: 'cert-dir' | 'self-signed';
}

/** Self-signed certificates last a year; the operator makes a new one at every start. */
const SELF_SIGNED_DAYS = 365;

/**
 * `tls.crt` + `tls.key` from `certDir` (a cert-manager Certificate's Secret mounted there), or
 * — as controller-runtime does without one — a self-signed ECDSA P-256 certificate made in
 * memory at start-up (scrapers then skip verification, and still authenticate with a token).
 */
export async function loadMetricsTls(
  certDir: string | undefined,
  hostnames: string[],
): Promise<MetricsTls> {
  if (certDir !== undefined) {
    const read = (name: string): Promise<string> =>
      readFile(join(certDir, name), 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          `--metrics-cert-dir ${certDir}: cannot read ${name} (${error.code ?? 'unknown error'}); mount a kubernetes.io/tls Secret there`,
        );
      });
    const [cert, key] = await Promise.all([read('tls.crt'), read('tls.key')]);
    return { cert, key, source: 'cert-dir' };
  }
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const names = hostnames.map((name) =>
    /^[0-9.]+$|:/.test(name)
      ? { type: 'ip' as const, value: name }
      : { type: 'dns' as const, value: name },
  );
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto.getRandomValues(Buffer.alloc(16)).toString('hex'),
    name: 'CN=next-image-operator metrics',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + SELF_SIGNED_DAYS * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key, source: 'self-signed' };
}
