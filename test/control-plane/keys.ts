import { generateKeyPairSync } from 'node:crypto';

/** A PEM key pair for signing ServiceAccount tokens. */
export interface ServiceAccountKeys {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Generates the ServiceAccount signing key in-process, so no openssl CLI is needed. */
export function generateServiceAccountKeys(): ServiceAccountKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
