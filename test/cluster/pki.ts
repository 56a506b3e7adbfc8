import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.ts';

// The cluster's certificates, made with the openssl CLI: Node's crypto can verify X.509
// but cannot issue certificates, and a certificate library would be one more dependency
// for three throwaway certificates. One CA signs everything; the apiserver, the kubelet
// and every Pod (through kube-root-ca.crt) trust it.

/** Where the PKI's files are. */
export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly caPem: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  /** The client certificate the apiserver shows the kubelet (logs, exec, port-forward). */
  readonly kubeletClientCert: string;
  readonly kubeletClientKey: string;
}

/** What the apiserver's serving certificate must be valid for. */
export interface PkiInput {
  readonly dir: string;
  readonly nodeIp: string;
  readonly apiServiceIp: string;
  readonly clusterDomain: string;
}

const DAYS = '7';
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The subjectAltName list of the apiserver's serving certificate (pure). */
export function apiserverAltNames(input: Omit<PkiInput, 'dir'>): string {
  const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];
  dns.push(`kubernetes.default.svc.${input.clusterDomain}`);
  const ips = ['127.0.0.1', input.nodeIp, input.apiServiceIp];
  return [...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
}

async function leaf(
  dir: string,
  name: string,
  subject: string,
  ext: string,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${ext}\n`);
  await run('openssl', ['req', ...KEY, '-keyout', key, '-out', csr, '-subj', subject]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    DAYS,
    '-out',
    cert,
    '-extfile',
    extFile,
  ]);
  return { cert, key };
}

/** Creates the CA and the certificates the control plane needs, in `input.dir`. */
export async function createPki(input: PkiInput): Promise<Pki> {
  const { dir } = input;
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await run('openssl', [
    'req',
    '-x509',
    ...KEY,
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-days',
    DAYS,
    '-subj',
    '/CN=next-image-cluster-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const apiserver = await leaf(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    `subjectAltName=${apiserverAltNames(input)}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment`,
  );
  const kubeletClient = await leaf(
    dir,
    'apiserver-kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment',
  );
  return {
    caCert,
    caKey,
    caPem: await readFile(caCert, 'utf8'),
    apiserverCert: apiserver.cert,
    apiserverKey: apiserver.key,
    kubeletClientCert: kubeletClient.cert,
    kubeletClientKey: kubeletClient.key,
  };
}
